//! Manifests, indexes and descriptors (one JSON shape for Docker schema 2 and OCI).

use crate::Digest;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urls: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    pub architecture: String,
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(
        default,
        rename = "os.version",
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
}

impl Platform {
    /// Parses `os/arch[/variant]`.
    pub fn parse(s: &str) -> Option<Platform> {
        let mut parts = s.split('/');
        let os = parts.next().filter(|p| !p.is_empty())?;
        let arch = parts.next().filter(|p| !p.is_empty())?;
        let variant = parts.next().map(str::to_string);
        if parts.next().is_some() {
            return None;
        }
        Some(Platform {
            architecture: arch.into(),
            os: os.into(),
            variant,
            os_version: None,
        })
    }

    /// Whether an index entry for `other` serves this platform (a missing variant matches any).
    pub fn matches(&self, other: &Platform) -> bool {
        self.os == other.os
            && self.architecture == other.architecture
            && match (&self.variant, &other.variant) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

impl Platform {
    /// The platform as runtimes compare two: arm64's default variant `v8` counts as none,
    /// and `os.version` counts (`linux/arm64`, `windows/amd64 (os.version 10.0.17763)`).
    pub fn key(&self) -> String {
        let variant = self
            .variant
            .as_deref()
            .filter(|v| !(self.architecture == "arm64" && *v == "v8"));
        let mut k = format!("{}/{}", self.os, self.architecture);
        if let Some(v) = variant {
            k = format!("{k}/{v}");
        }
        if let Some(v) = &self.os_version {
            k = format!("{k} (os.version {v})");
        }
        k
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub manifests: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

impl Index {
    /// An index over `manifests`: a Docker manifest list when every entry is a Docker
    /// manifest or list, an OCI index otherwise (as BuildKit and `docker manifest` choose).
    pub fn over(manifests: Vec<Descriptor>) -> Index {
        let docker = !manifests.is_empty()
            && manifests.iter().all(|d| {
                d.media_type == crate::media::DOCKER_MANIFEST
                    || d.media_type == crate::media::DOCKER_MANIFEST_LIST
            });
        let media_type = if docker {
            crate::media::DOCKER_MANIFEST_LIST
        } else {
            crate::media::OCI_INDEX
        };
        Index {
            schema_version: 2,
            media_type: Some(media_type.to_string()),
            manifests,
            annotations: None,
        }
    }

    /// This index's media type (OCI's when the document names none).
    pub fn media_type(&self) -> &str {
        self.media_type
            .as_deref()
            .unwrap_or(crate::media::OCI_INDEX)
    }

    /// The JSON bytes to push, and the descriptor that names them.
    pub fn to_bytes(&self) -> (Vec<u8>, Descriptor) {
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        let desc = Descriptor {
            media_type: self.media_type().to_string(),
            digest: Digest::sha256(&bytes),
            size: bytes.len() as u64,
            urls: None,
            annotations: None,
            platform: None,
        };
        (bytes, desc)
    }

    /// The entry for `platform`, if any.
    pub fn find(&self, platform: &Platform) -> Option<&Descriptor> {
        self.manifests
            .iter()
            .find(|d| d.platform.as_ref().is_some_and(|p| platform.matches(p)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_parse_and_match() {
        let p = Platform::parse("linux/arm64/v8").unwrap();
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert!(Platform::parse("linux").is_none());
        assert!(Platform::parse("linux/amd64")
            .unwrap()
            .matches(&Platform::parse("linux/amd64/v2").unwrap()));
        assert!(!p.matches(&Platform::parse("linux/arm64/v7").unwrap()));
        assert_eq!(p.key(), Platform::parse("linux/arm64").unwrap().key());
        assert_ne!(p.key(), Platform::parse("linux/arm/v8").unwrap().key());
    }

    #[test]
    fn index_over_picks_the_family() {
        let entry = |media_type: &str| Descriptor {
            media_type: media_type.into(),
            digest: Digest::sha256(media_type.as_bytes()),
            size: 1,
            urls: None,
            annotations: None,
            platform: Platform::parse("linux/arm64"),
        };
        let docker = Index::over(vec![entry(crate::media::DOCKER_MANIFEST)]);
        assert_eq!(docker.media_type(), crate::media::DOCKER_MANIFEST_LIST);
        let mixed = Index::over(vec![
            entry(crate::media::DOCKER_MANIFEST),
            entry(crate::media::OCI_MANIFEST),
        ]);
        assert_eq!(mixed.media_type(), crate::media::OCI_INDEX);
        let (bytes, desc) = mixed.to_bytes();
        assert_eq!(desc.digest, Digest::sha256(&bytes));
        let back: Index = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back, mixed);
    }

    #[test]
    fn manifest_round_trips_unknown_fields() {
        let text = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0},"layers":[],"subject":{"x":1}}"#;
        let m: Manifest = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), text);
    }
}
