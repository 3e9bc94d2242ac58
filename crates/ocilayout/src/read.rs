//! Reading a layout: its index, small blobs (bounded, verified), an image by name or digest
//! resolved for a platform.

use crate::{ref_name, Error, Layout};
use image::{media, Descriptor, Digest, ImageConfig, Index, Manifest, Platform};
use std::path::Path;

/// Manifests, configs and indexes larger than this are refused.
const MAX_JSON: u64 = 8 << 20;

/// An image of a layout resolved for one platform.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The manifest's entry (after an index, the one for the platform).
    pub descriptor: Descriptor,
    pub media_type: String,
    pub manifest: Manifest,
    pub config: ImageConfig,
}

impl Layout {
    /// `index.json` (an error when there is none).
    pub fn read_index(&self) -> Result<Index, Error> {
        self.json(&read_capped(&self.index_path())?)
    }

    /// `index.json`, or an empty index when there is none yet.
    pub fn index_or_empty(&self) -> Result<Index, Error> {
        match std::fs::symlink_metadata(self.index_path()) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(crate::empty_index()),
            _ => self.read_index(),
        }
    }

    /// A small blob (index, manifest, config), bounded and checked against its digest.
    pub fn read_blob(&self, d: &Descriptor) -> Result<Vec<u8>, Error> {
        let bytes = read_capped(&self.blob_path(&d.digest))?;
        if d.digest.of_same_kind(&bytes) != d.digest {
            return Err(Error::Mismatch {
                digest: d.digest.clone(),
                dir: self.dir.clone(),
            });
        }
        Ok(bytes)
    }

    /// The entry `name` names: a digest only by its digest (never by an annotation that
    /// says so: then the bytes read are checked against the very digest asked for), any
    /// other name by its `ref.name` annotation; an empty name the only entry there is.
    pub fn find(&self, name: &str) -> Result<Descriptor, Error> {
        if let Ok(digest) = name.parse::<Digest>() {
            return self.find_digest(&digest);
        }
        let index = self.read_index()?;
        let found = index.manifests.iter().find(|d| ref_name(d) == Some(name));
        let only = (name.is_empty() && index.manifests.len() == 1).then(|| &index.manifests[0]);
        found.or(only).cloned().ok_or_else(|| self.not_found(name))
    }

    /// The entry of the manifest (or index) `digest`.
    pub fn find_digest(&self, digest: &Digest) -> Result<Descriptor, Error> {
        let index = self.read_index()?;
        let found = index.manifests.into_iter().find(|d| d.digest == *digest);
        found.ok_or_else(|| self.not_found(digest.as_str()))
    }

    fn not_found(&self, name: &str) -> Error {
        Error::NotFound {
            name: name.to_string(),
            dir: self.dir.clone(),
        }
    }

    /// The image `name` names (see [`Layout::find`]) for `platform`.
    pub fn resolve(&self, name: &str, platform: &Platform) -> Result<Resolved, Error> {
        self.resolve_entry(self.find(name)?, name, platform)
    }

    /// The image of the index entry `desc` for `platform`; `name` is for messages.
    pub fn resolve_entry(
        &self,
        mut desc: Descriptor,
        name: &str,
        platform: &Platform,
    ) -> Result<Resolved, Error> {
        let mut bytes = self.read_blob(&desc)?;
        if media::is_index(&desc.media_type) {
            let index: Index = self.json(&bytes)?;
            desc = index
                .find(platform)
                .cloned()
                .ok_or_else(|| Error::NoPlatform {
                    name: name.to_string(),
                    platform: platform.to_string(),
                })?;
            bytes = self.read_blob(&desc)?;
        }
        let manifest: Manifest = self.json(&bytes)?;
        let config = self.json(&self.read_blob(&manifest.config)?)?;
        Ok(Resolved {
            media_type: manifest
                .media_type
                .clone()
                .unwrap_or_else(|| desc.media_type.clone()),
            descriptor: desc,
            manifest,
            config,
        })
    }

    fn json<T: serde::de::DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, Error> {
        serde_json::from_slice(bytes).map_err(|e| Error::Json {
            dir: self.dir.clone(),
            message: e.to_string(),
        })
    }
}

/// A file of at most [`MAX_JSON`] bytes.
fn read_capped(path: &Path) -> Result<Vec<u8>, Error> {
    let len = std::fs::metadata(path).map_err(Error::read(path))?.len();
    if len > MAX_JSON {
        return Err(Error::TooLarge {
            path: path.to_path_buf(),
            len,
            limit: MAX_JSON,
        });
    }
    std::fs::read(path).map_err(Error::read(path))
}
