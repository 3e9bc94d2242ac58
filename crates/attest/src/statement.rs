//! in-toto statements as BuildKit stores attestations: `_type`, `subject` (name and
//! digest of the image manifest), `predicateType`, `predicate`. BuildKit v0.11 to v0.30
//! wrote Statement v0.1; since v0.31 it writes v1 (same four fields).

use serde::Serialize;
use std::collections::BTreeMap;

/// Media type of an attestation layer.
pub const MEDIA_TYPE: &str = "application/vnd.in-toto+json";
/// Annotation on an attestation layer's descriptor naming its predicate type.
pub const PREDICATE_TYPE_ANNOTATION: &str = "in-toto.io/predicate-type";
/// Predicate type of an SPDX document.
pub const SPDX_DOCUMENT: &str = "https://spdx.dev/Document";

/// Which in-toto Statement version to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// `https://in-toto.io/Statement/v0.1` (BuildKit v0.11–v0.30).
    V01,
    /// `https://in-toto.io/Statement/v1` (BuildKit v0.31 and later).
    V1,
}

impl Version {
    pub fn type_uri(self) -> &'static str {
        match self {
            Version::V01 => "https://in-toto.io/Statement/v0.1",
            Version::V1 => "https://in-toto.io/Statement/v1",
        }
    }
}

/// What a statement is about: BuildKit names an image manifest by its purl
/// ([`crate::purl::image`] with the platform) and gives its digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Subject {
    pub name: String,
    /// Algorithm → lowercase hex (`{"sha256": "…"}`).
    pub digest: BTreeMap<String, String>,
}

impl Subject {
    /// A subject from a digest written `algorithm:hex`; `None` if it is not one.
    pub fn new(name: impl Into<String>, digest: &str) -> Option<Subject> {
        let (alg, hex) = digest.split_once(':')?;
        if alg.is_empty() || hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(Subject {
            name: name.into(),
            digest: BTreeMap::from([(alg.to_string(), hex.to_ascii_lowercase())]),
        })
    }
}

#[derive(Debug, Serialize)]
pub struct Statement<'a, P: Serialize> {
    #[serde(rename = "_type")]
    pub type_uri: &'static str,
    #[serde(rename = "predicateType")]
    pub predicate_type: &'a str,
    pub subject: &'a [Subject],
    pub predicate: &'a P,
}

impl<'a, P: Serialize> Statement<'a, P> {
    pub fn new(
        version: Version,
        subject: &'a [Subject],
        predicate_type: &'a str,
        predicate: &'a P,
    ) -> Self {
        Statement {
            type_uri: version.type_uri(),
            predicate_type,
            subject,
            predicate,
        }
    }

    /// The attestation layer's bytes.
    pub fn to_vec(&self) -> Result<Vec<u8>, crate::Error> {
        serde_json::to_vec(self).map_err(|e| crate::Error::Input(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_fields() {
        let s = [Subject::new("pkg:docker/app@1?platform=linux%2Famd64", "sha256:AB12").unwrap()];
        let p = serde_json::json!({"x": 1});
        let v: serde_json::Value = serde_json::from_slice(
            &Statement::new(Version::V01, &s, SPDX_DOCUMENT, &p)
                .to_vec()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(v["_type"], "https://in-toto.io/Statement/v0.1");
        assert_eq!(v["subject"][0]["digest"]["sha256"], "ab12");
        assert_eq!(v["predicateType"], SPDX_DOCUMENT);
        assert_eq!(v["predicate"]["x"], 1);
        assert!(Subject::new("x", "sha256").is_none());
        assert!(Subject::new("x", "sha256:zz").is_none());
    }
}
