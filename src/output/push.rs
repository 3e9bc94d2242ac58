//! Pushing to every `--destination` in two phases: first every blob to every destination
//! (concurrently per destination, as many at once as the client's transfer slots allow;
//! existing ones skipped by HEAD, base layers mounted across repositories on the same
//! registry), then the manifests by tag. A blob that cannot be uploaded anywhere fails the
//! push before any destination is tagged. The blobs go through the registry client's
//! `push_blobs`, which the registry layer cache shares. Several platforms' images or
//! attestations: each image's manifest by digest, then its attestation's blobs and manifest
//! (see [`attestations::push_parts`]), then the index by tag.

use super::attestations;
use super::blobs::BlobCache;
use super::images::{ImageSet, PlatformImage};
use super::OutputError;
use engine::Layer;
use image::Digest;
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
    set: &ImageSet,
    destinations: &[Reference],
    cache: &BlobCache,
    immutable: ImmutableTags,
) -> Result<(), OutputError> {
    let span = info_span!(
        "Total Push Time",
        kaniko.phase = "network",
        kaniko.destinations = destinations.len()
    );
    push_phases(client, set, destinations, cache, immutable)
        .instrument(span)
        .await
}

/// Blobs of every image to every destination, then the manifests: one image at each tag,
/// or each platform's manifest (and attestation) by digest and the index at each tag.
async fn push_phases(
    client: &Client,
    set: &ImageSet,
    destinations: &[Reference],
    cache: &BlobCache,
    immutable: ImmutableTags,
) -> Result<(), OutputError> {
    for img in &set.images {
        push_blobs(client, img, destinations, cache).await?;
    }
    let Some(index) = set.index() else {
        let fin = &set.images[0].fin;
        let top = (&fin.manifest_bytes[..], fin.media_type, &fin.digest);
        return put_tagged(client, top, destinations, immutable).await;
    };
    for img in &set.images {
        for dest in destinations {
            let by_digest = Reference {
                tag: None,
                digest: Some(img.fin.digest.clone()),
                ..dest.clone()
            };
            let span = info_span!("Pushing manifest", kaniko.destination = %by_digest);
            client
                .put_manifest(&by_digest, &img.fin.manifest_bytes, img.fin.media_type)
                .instrument(span)
                .await?;
            info!(
                "Pushed {}@{} ({})",
                dest.repo_str(),
                img.fin.digest,
                img.platform
            );
            if let Some(a) = &img.attestation {
                attestations::push_parts(client, dest, a).await?;
            }
        }
    }
    let top = (
        &index.bytes[..],
        &index.desc.media_type[..],
        &index.desc.digest,
    );
    put_tagged(client, top, destinations, immutable).await
}

/// One image's layers and config to every destination.
async fn push_blobs(
    client: &Client,
    img: &PlatformImage,
    destinations: &[Reference],
    cache: &BlobCache,
) -> Result<(), OutputError> {
    let (built, fin) = (&img.built, &img.fin);
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
    }
    Ok(())
}

/// The top manifest (bytes, media type, digest) at every destination's tag.
async fn put_tagged(
    client: &Client,
    (bytes, media_type, digest): (&[u8], &str, &Digest),
    destinations: &[Reference],
    immutable: ImmutableTags,
) -> Result<(), OutputError> {
    for dest in destinations {
        let span = info_span!("Pushing manifest", kaniko.destination = %dest);
        match client
            .put_manifest(dest, bytes, media_type)
            .instrument(span)
            .await
        {
            Ok(digest) => info!("Pushed {}@{digest}", dest.repo_str()),
            Err(e) if immutable == ImmutableTags::Ignore && e.is_immutable_tag() => {
                info!(
                    "Immutable tag error ignored for {}@{digest}",
                    dest.repo_str()
                );
                debug!("{e}");
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
