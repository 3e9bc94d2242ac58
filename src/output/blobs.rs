//! Local copies of layer blobs for outputs that need the bytes (tarball, OCI layout, pushes
//! to another registry): base layers are streamed from their registry into a file once.

use super::image::{Layer, LayerSource};
use image::Digest;
use registry::Client;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("fetching layer {0}: {1}")]
    Fetch(Digest, registry::Error),
    #[error("storing layer {0} in {1}: {2}")]
    Store(Digest, PathBuf, std::io::Error),
}

/// Downloaded base-layer blobs, by digest, in a work directory.
pub struct BlobCache {
    dir: PathBuf,
    files: Mutex<HashMap<Digest, PathBuf>>,
}

impl BlobCache {
    pub fn new(dir: &Path) -> BlobCache {
        BlobCache {
            dir: dir.to_path_buf(),
            files: Mutex::new(HashMap::new()),
        }
    }

    /// A file holding the layer's blob.
    pub async fn path(&self, client: &Client, layer: &Layer) -> Result<PathBuf, BlobError> {
        let from = match &layer.source {
            LayerSource::Local(p) => return Ok(p.clone()),
            LayerSource::Remote(r) => r,
        };
        let digest = &layer.desc.digest;
        let mut files = self.files.lock().await;
        if let Some(p) = files.get(digest) {
            return Ok(p.clone());
        }
        let path = self.dir.join(format!("base-{}", digest.hex()));
        let store = |e| BlobError::Store(digest.clone(), path.clone(), e);
        let mut reader = client
            .blob_reader(from, digest)
            .await
            .map_err(|e| BlobError::Fetch(digest.clone(), e))?;
        let mut file = tokio::fs::File::create(&path).await.map_err(store)?;
        tokio::io::copy(&mut reader, &mut file)
            .await
            .map_err(store)?;
        file.flush().await.map_err(store)?;
        files.insert(digest.clone(), path.clone());
        Ok(path)
    }
}
