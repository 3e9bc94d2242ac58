//! OCI image layouts (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`), the one local image
//! store: `--oci-layout-path`, the `oci:` layer cache, the warmer's base images and the
//! builds that read them.
//!
//! Reading ([`read`]): an image is named by its `org.opencontainers.image.ref.name` in
//! `index.json` or by its manifest digest, an index found there is resolved to a platform,
//! and every blob read whole is bounded and checked against its digest (layer blobs are
//! handed out as paths, for the reader to verify as it streams them).
//!
//! Writing ([`write`]): a reader never sees half a file. Every blob and index goes to a
//! temporary name in its directory and is renamed into place; blobs are named by digest,
//! so two writers of one blob write the same bytes; updates of a shared `index.json` take
//! an exclusive lock on `index.json.lock` (waits are bounded).

mod read;
mod write;

pub use read::Resolved;
pub use write::Place;

use image::{media, Descriptor, Digest, Index};
use std::path::{Path, PathBuf};

/// The index annotation naming an image.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is {len} bytes, more than the {limit} allowed")]
    TooLarge { path: PathBuf, len: u64, limit: u64 },
    #[error("OCI layout {dir}: {message}")]
    Json { dir: PathBuf, message: String },
    #[error("blob {digest} in {dir} does not match its digest")]
    Mismatch { digest: Digest, dir: PathBuf },
    #[error("no image named {name:?} in the OCI layout {dir}")]
    NotFound { name: String, dir: PathBuf },
    #[error("{name} has no image for platform {platform}")]
    NoPlatform { name: String, platform: String },
    #[error("locking {path}: {message}")]
    Lock { path: PathBuf, message: String },
}

impl Error {
    fn read(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::Read {
            path: path.to_path_buf(),
            source,
        }
    }

    fn write(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::Write {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// An OCI layout directory (nothing is read or made until asked).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    dir: PathBuf,
}

impl Layout {
    pub fn new(dir: impl Into<PathBuf>) -> Layout {
        Layout { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the blob `digest` lives.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.dir
            .join("blobs")
            .join(digest.algorithm())
            .join(digest.hex())
    }

    fn index_path(&self) -> PathBuf {
        self.dir.join("index.json")
    }
}

/// An index with no entries.
pub fn empty_index() -> Index {
    Index {
        schema_version: 2,
        media_type: Some(media::OCI_INDEX.to_string()),
        manifests: Vec::new(),
        annotations: None,
    }
}

/// The name an index entry gives its image, if any.
pub fn ref_name(d: &Descriptor) -> Option<&str> {
    d.annotations
        .as_ref()
        .and_then(|a| a.get(REF_NAME))
        .map(String::as_str)
}

/// `d` named `name` in an index.
pub fn named(d: Descriptor, name: &str) -> Descriptor {
    let mut annotations = d.annotations.unwrap_or_default();
    annotations.insert(REF_NAME.to_string(), name.to_string());
    Descriptor {
        annotations: Some(annotations),
        ..d
    }
}

#[cfg(test)]
mod tests;
