//! `--oci-layout-path`: an OCI image layout directory (oci-layout, index.json, blobs/).

use super::blobs::BlobCache;
use super::image::{BuiltImage, Finished};
use super::OutputError;
use image::{media, Digest};
use registry::Client;
use std::path::Path;

pub async fn write_layout(
    dir: &Path,
    built: &BuiltImage,
    fin: &Finished,
    client: &Client,
    cache: &BlobCache,
) -> Result<(), OutputError> {
    let io = |p: &Path, e| OutputError::Io(p.to_path_buf(), e);
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).map_err(|e| io(&blobs, e))?;
    let put = |d: &Digest, bytes: &[u8]| {
        let p = blobs.join(d.hex());
        std::fs::write(&p, bytes).map_err(|e| io(&p, e))
    };
    for layer in &built.layers {
        let src = cache.path(client, layer).await?;
        let dst = blobs.join(layer.desc.digest.hex());
        if !dst.exists() {
            std::fs::copy(&src, &dst).map_err(|e| io(&dst, e))?;
        }
    }
    put(&fin.manifest.config.digest, &fin.config)?;
    put(&fin.digest, &fin.manifest_bytes)?;
    let layout = dir.join("oci-layout");
    std::fs::write(&layout, br#"{"imageLayoutVersion":"1.0.0"}"#).map_err(|e| io(&layout, e))?;
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_INDEX,
        "manifests": [{"mediaType": fin.media_type, "digest": fin.digest, "size": fin.manifest_bytes.len()}],
    });
    let index_path = dir.join("index.json");
    std::fs::write(&index_path, index.to_string()).map_err(|e| io(&index_path, e))
}
