//! Pushing to every `--destination` in two phases: first every blob to every destination
//! (concurrently per destination, as many at once as the client's transfer slots allow;
//! existing ones skipped by HEAD, base layers mounted across repositories on the same
//! registry), then the manifests by tag. A blob that cannot be uploaded anywhere fails the
//! push before any destination is tagged. The blobs go through the registry client's
//! `push_blobs`, which the registry layer cache shares.

use super::attestations::{self, Attached};
use super::blobs::BlobCache;
use super::OutputError;
use engine::{BuiltImage, Finished, Layer};
use registry::{Client, ImagePush, Reference};
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
    cache: &BlobCache,
    immutable: ImmutableTags,
    attached: Option<&Attached>,
) -> Result<(), OutputError> {
    let span = info_span!(
        "Total Push Time",
        kaniko.phase = "network",
        kaniko.destinations = destinations.len()
    );
    push_phases(client, built, fin, destinations, cache, immutable, attached)
        .instrument(span)
        .await
}

async fn push_phases(
    client: &Client,
    built: &BuiltImage,
    fin: &Finished,
    destinations: &[Reference],
    cache: &BlobCache,
    immutable: ImmutableTags,
    attached: Option<&Attached>,
) -> Result<(), OutputError> {
    let image = ImagePush {
        layers: built.layers.iter().map(Layer::push_data).collect(),
        config: &fin.manifest.config,
        config_bytes: &fin.config,
        manifest: &fin.manifest_bytes,
        media_type: fin.media_type,
    };
    // A base layer a destination neither has nor can mount: downloaded once, then uploaded.
    let fetch =
        |i: usize| async move { Ok::<_, OutputError>(cache.path(client, &built.layers[i]).await?) };
    for dest in destinations {
        info!("Pushing image to {dest}");
        client.push_blobs(dest, &image, fetch).await?;
        if let Some(a) = attached {
            attestations::push_parts(client, dest, a, &fin.manifest_bytes).await?;
        }
    }
    // The tag names the index when there are attestations, else the image.
    let (top, top_type, top_digest) = match attached {
        Some(a) => (
            &a.index[..],
            a.index_desc.media_type.as_str(),
            &a.index_desc.digest,
        ),
        None => (&fin.manifest_bytes[..], fin.media_type, &fin.digest),
    };
    for dest in destinations {
        let span = info_span!("Pushing manifest", kaniko.destination = %dest);
        match client
            .put_manifest(dest, top, top_type)
            .instrument(span)
            .await
        {
            Ok(digest) => info!("Pushed {}@{digest}", dest.repo_str()),
            Err(e) if immutable == ImmutableTags::Ignore && e.is_immutable_tag() => {
                info!(
                    "Immutable tag error ignored for {}@{}",
                    dest.repo_str(),
                    top_digest
                );
                debug!("{e}");
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
