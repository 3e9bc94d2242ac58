//! Pushing to every `--destination` in two phases: first every blob to every destination
//! (concurrently per destination, as many at once as the client's transfer slots allow;
//! existing ones skipped by HEAD, base layers mounted across repositories on the same
//! registry), then the manifests by tag. A blob that cannot be uploaded anywhere fails the
//! push before any destination is tagged.

use super::blobs::BlobCache;
use super::OutputError;
use engine::{BuiltImage, Finished, Layer, LayerSource};
use futures_util::future::try_join_all;
use registry::{Client, Reference};
use std::path::Path;
use tracing::{debug, info, info_span, Instrument};

/// What to do with a manifest refused because its tag is immutable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ImmutableTags {
    /// Fail the push (kaniko's default).
    #[default]
    Fail,
    /// Log it and go on (`--push-ignore-immutable-tag-errors`).
    Ignore,
}

pub async fn push_all(
    client: &Client,
    built: &BuiltImage,
    fin: &Finished,
    destinations: &[Reference],
    work: &Path,
    cache: &BlobCache,
    immutable: ImmutableTags,
) -> Result<(), OutputError> {
    let span = info_span!(
        "Total Push Time",
        kaniko.phase = "network",
        kaniko.destinations = destinations.len()
    );
    push_phases(client, built, fin, destinations, work, cache, immutable)
        .instrument(span)
        .await
}

async fn push_phases(
    client: &Client,
    built: &BuiltImage,
    fin: &Finished,
    destinations: &[Reference],
    work: &Path,
    cache: &BlobCache,
    immutable: ImmutableTags,
) -> Result<(), OutputError> {
    let config_path = work.join("config.json");
    std::fs::write(&config_path, &fin.config)
        .map_err(|e| OutputError::Io(config_path.clone(), e))?;
    for dest in destinations {
        info!("Pushing image to {dest}");
        let layers = built
            .layers
            .iter()
            .map(|layer| push_layer(client, dest, layer, cache));
        try_join_all(layers).await?;
        client
            .upload_blob(dest, &fin.manifest.config, &config_path, None)
            .await?;
    }
    for dest in destinations {
        let span = info_span!("Pushing manifest", kaniko.destination = %dest);
        match client
            .put_manifest(dest, &fin.manifest_bytes, fin.media_type)
            .instrument(span)
            .await
        {
            Ok(digest) => info!("Pushed {}@{digest}", dest.repo_str()),
            Err(e) if immutable == ImmutableTags::Ignore && e.is_immutable_tag() => {
                info!(
                    "Immutable tag error ignored for {}@{}",
                    dest.repo_str(),
                    fin.digest
                );
                debug!("{e}");
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// One layer into `dest`: uploaded from its blob file, or for a base layer found there
/// already, mounted from the base repository, or downloaded once and uploaded.
async fn push_layer(
    client: &Client,
    dest: &Reference,
    layer: &Layer,
    cache: &BlobCache,
) -> Result<(), OutputError> {
    match &layer.source {
        LayerSource::Local(p) => {
            client.upload_blob(dest, &layer.desc, p, None).await?;
        }
        LayerSource::Remote(from) => {
            if client.blob_exists(dest, &layer.desc.digest).await? {
                return Ok(());
            }
            // Same registry: mount the base layer instead of sending it.
            if client.mount_blob(dest, from, &layer.desc.digest).await? {
                debug!("Mounted {} from {}", layer.desc.digest, from.repo_str());
                return Ok(());
            }
            let path = cache.path(client, layer).await?;
            client.upload_blob(dest, &layer.desc, &path, None).await?;
        }
    }
    Ok(())
}
