//! Pushing to every `--destination`: blobs concurrently (existing ones skipped by HEAD, base
//! layers mounted across repositories on the same registry), then the manifest by tag.

use super::blobs::BlobCache;
use super::image::{BuiltImage, Finished, LayerSource};
use super::OutputError;
use futures_util::future::try_join_all;
use image::Descriptor;
use registry::{Client, Reference};
use std::path::Path;
use tracing::info;

pub async fn push_all(
    client: &Client,
    built: &BuiltImage,
    fin: &Finished,
    destinations: &[Reference],
    work: &Path,
    cache: &BlobCache,
) -> Result<(), OutputError> {
    let config_path = work.join("config.json");
    std::fs::write(&config_path, &fin.config)
        .map_err(|e| OutputError::Io(config_path.clone(), e))?;
    for dest in destinations {
        info!("Pushing image to {dest}");
        let layers = built.layers.iter().map(|layer| async move {
            match &layer.source {
                LayerSource::Local(p) => client
                    .upload_blob(dest, &layer.desc, p, None)
                    .await
                    .map(|_| ())
                    .map_err(OutputError::from),
                LayerSource::Remote(from) => {
                    if client.blob_exists(dest, &layer.desc.digest).await? {
                        return Ok(());
                    }
                    // Same registry: mount the base layer instead of sending it.
                    if client.mount_blob(dest, from, &layer.desc.digest).await? {
                        tracing::debug!("Mounted {} from {}", layer.desc.digest, from.repo_str());
                        return Ok(());
                    }
                    let path = cache.path(client, layer).await?;
                    client
                        .upload_blob(dest, &layer.desc, &path, None)
                        .await
                        .map(|_| ())
                        .map_err(OutputError::from)
                }
            }
        });
        try_join_all(layers).await?;
        let config_desc = Descriptor {
            ..fin.manifest.config.clone()
        };
        client
            .upload_blob(dest, &config_desc, &config_path, None)
            .await?;
        let digest = client
            .put_manifest(dest, &fin.manifest_bytes, fin.media_type)
            .await?;
        info!("Pushed {}@{digest}", dest.repo_str());
    }
    Ok(())
}
