//! Local copies of layer blobs for outputs that need the bytes (tarball, OCI layout, pushes
//! to another registry): base layers are streamed from their registry into a file once.
//! A blob file outside the work directory (an `oci:` cache entry, a warmed image) is hashed
//! once before it is used: anyone who can write the cache directory could have changed it.

use engine::{Layer, LayerSource};
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
    #[error("layer {0} in {1} does not match its digest (it holds {2})")]
    Mismatch(Digest, PathBuf, Digest),
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
        let digest = &layer.desc.digest;
        let from = match &layer.source {
            LayerSource::Local(p) if p.starts_with(&self.dir) => return Ok(p.clone()),
            LayerSource::Local(p) => {
                let mut files = self.files.lock().await;
                if files.get(digest) != Some(p) {
                    verify(p, digest).await?;
                    files.insert(digest.clone(), p.clone());
                }
                return Ok(p.clone());
            }
            LayerSource::Remote(r) => r,
        };
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

/// Hashes the file at `path` and checks it is the blob `digest`.
async fn verify(path: &Path, digest: &Digest) -> Result<(), BlobError> {
    use tokio::io::AsyncReadExt;
    let io = |e| BlobError::Store(digest.clone(), path.to_path_buf(), e);
    let mut f = tokio::fs::File::open(path).await.map_err(io)?;
    let mut h = digest.hasher();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).await.map_err(io)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    let got = h.finish();
    if &got != digest {
        return Err(BlobError::Mismatch(digest.clone(), path.to_path_buf(), got));
    }
    Ok(())
}
