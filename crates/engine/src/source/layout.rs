//! Images in an OCI image layout directory (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`):
//! the warmer's cache and `oci:` repositories. A name is an image's
//! `org.opencontainers.image.ref.name` in index.json, or a manifest digest; an index found
//! there is resolved to the build platform. Every blob read is checked against its digest.

use super::{BlobStream, BoxFut, ImageSource, SourceError, SourceImage};
use crate::built::{Layer, LayerSource};
use image::{media, Descriptor, Digest, Index, Manifest, Platform};
use std::path::{Path, PathBuf};

/// The index annotation naming an image.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// Manifests, configs and indexes larger than this are refused.
const MAX_JSON: u64 = 8 << 20;

pub struct LayoutSource {
    dir: PathBuf,
}

impl LayoutSource {
    pub fn new(dir: impl Into<PathBuf>) -> LayoutSource {
        LayoutSource { dir: dir.into() }
    }

    /// Where the blob with `digest` lives.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.dir
            .join("blobs")
            .join(digest.algorithm())
            .join(digest.hex())
    }

    /// A small blob (index, manifest, config), verified.
    fn read_blob(&self, d: &Descriptor) -> Result<Vec<u8>, SourceError> {
        let path = self.blob_path(&d.digest);
        let bytes = read_capped(&path)?;
        if d.digest.of_same_kind(&bytes) != d.digest {
            return Err(SourceError::Image(format!(
                "blob {} in {} does not match its digest",
                d.digest,
                self.dir.display()
            )));
        }
        Ok(bytes)
    }

    /// The descriptor `name` names: a digest only by its digest (never by an annotation
    /// that says so: then the bytes read are checked against the very digest asked for),
    /// any other name by its `ref.name` annotation.
    fn find(&self, name: &str) -> Result<Descriptor, SourceError> {
        let index: Index = json(&read_capped(&self.dir.join("index.json"))?, &self.dir)?;
        let is_digest = name.parse::<Digest>().is_ok();
        let by_name = |d: &&Descriptor| {
            if is_digest {
                return d.digest.as_str() == name;
            }
            d.annotations
                .as_ref()
                .and_then(|a| a.get(REF_NAME))
                .is_some_and(|n| n == name)
        };
        let found = index.manifests.iter().find(by_name);
        let only = (name.is_empty() && index.manifests.len() == 1).then(|| &index.manifests[0]);
        found.or(only).cloned().ok_or_else(|| {
            SourceError::Image(format!(
                "no image named {name:?} in the OCI layout {}",
                self.dir.display()
            ))
        })
    }

    fn resolve_now(&self, name: &str, platform: &Platform) -> Result<SourceImage, SourceError> {
        let mut desc = self.find(name)?;
        let mut bytes = self.read_blob(&desc)?;
        if media::is_index(&desc.media_type) {
            let index: Index = json(&bytes, &self.dir)?;
            desc = index.find(platform).cloned().ok_or_else(|| {
                SourceError::Image(format!("{name} has no image for platform {platform}"))
            })?;
            bytes = self.read_blob(&desc)?;
        }
        let manifest: Manifest = json(&bytes, &self.dir)?;
        let config = json(&self.read_blob(&manifest.config)?, &self.dir)?;
        let layers = SourceImage::layers_of(name, &manifest, &config, |d| {
            LayerSource::Local(self.blob_path(&d.digest))
        })?;
        Ok(SourceImage {
            name: format!("oci:{}@{}", self.dir.display(), desc.digest),
            media_type: manifest
                .media_type
                .clone()
                .unwrap_or_else(|| desc.media_type.clone()),
            manifest,
            config,
            layers,
        })
    }
}

fn read_capped(path: &Path) -> Result<Vec<u8>, SourceError> {
    let io = |e| SourceError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_JSON {
        return Err(SourceError::Image(format!(
            "{} is {len} bytes, more than the {MAX_JSON} allowed",
            path.display()
        )));
    }
    std::fs::read(path).map_err(io)
}

fn json<T: serde::de::DeserializeOwned>(bytes: &[u8], dir: &Path) -> Result<T, SourceError> {
    serde_json::from_slice(bytes)
        .map_err(|e| SourceError::Image(format!("OCI layout {}: {e}", dir.display())))
}

impl ImageSource for LayoutSource {
    fn resolve<'a>(
        &'a self,
        name: &'a str,
        platform: &'a Platform,
    ) -> BoxFut<'a, Result<SourceImage, SourceError>> {
        Box::pin(async move { self.resolve_now(name, platform) })
    }

    fn open_remote<'a>(&'a self, layer: &'a Layer) -> BoxFut<'a, Result<BlobStream, SourceError>> {
        Box::pin(async move {
            Err(SourceError::Image(format!(
                "layer {} is not in the OCI layout {}",
                layer.desc.digest,
                self.dir.display()
            )))
        })
    }
}
