//! The sources of `executor index`: each read as stored, an index contributing its entries
//! (their platforms as the index says), an image one entry whose platform is its config's
//! (os, architecture, variant, os.version). Two entries for one platform are refused.

use anyhow::{anyhow, bail, Context as _};
use image::{media, Descriptor, ImageConfig, Index, Manifest, Platform};
use registry::{Client, Reference};
use tracing::info;

/// One entry of the index to push, and where its manifest is.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The source as given (for messages).
    pub given: String,
    /// The repository holding the manifest, with its digest.
    pub at: Reference,
    pub desc: Descriptor,
}

/// Every source's entries, in the order given.
pub async fn entries(client: &Client, sources: &[String]) -> anyhow::Result<Vec<Entry>> {
    let mut all = Vec::new();
    for given in sources {
        let r: Reference = given.parse()?;
        info!("Retrieving image manifest {given}");
        let (bytes, media_type, digest) = client
            .get_manifest(&r)
            .await
            .with_context(|| format!("source {given}"))?;
        let at = r.with_digest(digest.clone());
        if media::is_index(&media_type) {
            let index: Index = serde_json::from_slice(&bytes)
                .with_context(|| format!("source {given}: its index"))?;
            all.extend(index.manifests.into_iter().map(|desc| Entry {
                given: given.clone(),
                at: r.with_digest(desc.digest.clone()),
                desc,
            }));
            continue;
        }
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .with_context(|| format!("source {given}: its manifest"))?;
        let config_bytes = client
            .blob_bytes(&r, &manifest.config.digest)
            .await
            .with_context(|| format!("source {given}: its config"))?;
        let config: ImageConfig = serde_json::from_slice(&config_bytes)
            .with_context(|| format!("source {given}: its config"))?;
        let platform = platform_of(&config)
            .ok_or_else(|| anyhow!("source {given}: its config names no os and architecture"))?;
        all.push(Entry {
            given: given.clone(),
            desc: Descriptor {
                media_type,
                digest,
                size: bytes.len() as u64,
                urls: None,
                annotations: None,
                platform: Some(platform),
            },
            at,
        });
    }
    Ok(all)
}

fn platform_of(config: &ImageConfig) -> Option<Platform> {
    if config.os.is_empty() || config.architecture.is_empty() {
        return None;
    }
    Some(Platform {
        architecture: config.architecture.clone(),
        os: config.os.clone(),
        variant: config.variant.clone().filter(|v| !v.is_empty()),
        os_version: config
            .extra
            .get("os.version")
            .and_then(|v| v.as_str())
            .map(str::to_string),
    })
}

/// Fails naming both sources when two entries serve one platform. Entries without a
/// platform, or `unknown/unknown` (BuildKit's attestation manifests), are not compared.
pub fn check_platforms(entries: &[Entry]) -> anyhow::Result<()> {
    let keyed: Vec<(String, &Entry)> = entries
        .iter()
        .filter_map(|e| {
            let p = e.desc.platform.as_ref()?;
            (p.os != "unknown").then(|| (p.key(), e))
        })
        .collect();
    for (i, (k, a)) in keyed.iter().enumerate() {
        if let Some((_, b)) = keyed[..i].iter().find(|(other, _)| other == k) {
            bail!(
                "sources {} ({}) and {} ({}) are both for platform {k}: an index holds one image per platform",
                b.given,
                b.desc.digest,
                a.given,
                a.desc.digest
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Digest;

    fn entry(given: &str, platform: &str) -> Entry {
        Entry {
            given: given.into(),
            at: "r.io/a:1".parse().unwrap(),
            desc: Descriptor {
                media_type: media::OCI_MANIFEST.into(),
                digest: Digest::sha256(given.as_bytes()),
                size: 1,
                urls: None,
                annotations: None,
                platform: Platform::parse(platform),
            },
        }
    }

    #[test]
    fn one_image_per_platform() {
        let ok = [
            entry("a", "linux/amd64"),
            entry("b", "linux/arm64"),
            entry("c", "linux/arm/v7"),
            entry("d", "linux/arm/v6"),
            entry("e", "unknown/unknown"),
            entry("f", "unknown/unknown"),
        ];
        check_platforms(&ok).unwrap();
        let dup = [
            entry("x:amd64", "linux/amd64"),
            entry("y:other", "linux/amd64"),
        ];
        let e = check_platforms(&dup).unwrap_err().to_string();
        assert!(e.contains("x:amd64") && e.contains("y:other"), "{e}");
        assert!(e.contains("linux/amd64"), "{e}");
        let v8 = [entry("a", "linux/arm64/v8"), entry("b", "linux/arm64")];
        assert!(check_platforms(&v8).is_err());
    }
}
