//! Image sources: the one seam through which base images, `COPY --from=<image>`, the layer
//! cache and the warmer read images. A source resolves a name for a platform to a manifest
//! and config, and opens layer blobs as verified streams (reading fails at the end of a
//! blob whose size or digest is wrong). Implementations: a registry ([`RegistrySource`]:
//! mirrors, maps, retries, TLS come with its client), an OCI layout directory
//! ([`LayoutSource`]: the warmer's cache, `oci:` repositories), and the warmer's cache in
//! front of another source ([`WarmedSource`]). An earlier stage of the
//! same build is an image too: its [`crate::BuiltImage`] layers are opened the same way.

mod layout;
mod registry_source;
pub(crate) mod warmed;

pub use layout::LayoutSource;
pub use registry_source::RegistrySource;
pub use warmed::WarmedSource;

use crate::built::{Layer, LayerSource};
use image::{Digest, Format, ImageConfig, Manifest, Platform};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use tokio::io::AsyncRead;

pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
pub type BlobStream = Box<dyn AsyncRead + Send + Unpin>;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Registry(#[from] registry::Error),
    #[error(transparent)]
    Layout(#[from] ocilayout::Error),
    #[error("invalid image reference {name:?}: {message}")]
    Name { name: String, message: String },
    #[error("{0}")]
    Image(String),
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// An image resolved for one platform.
#[derive(Clone, Debug)]
pub struct SourceImage {
    /// The name as resolved (for logs), with the manifest digest.
    pub name: String,
    /// The manifest's digest (the one for the platform, after an index).
    pub digest: Digest,
    pub media_type: String,
    pub manifest: Manifest,
    pub config: ImageConfig,
    /// The manifest's layers with their diff_ids and where their bytes are.
    pub layers: Vec<Layer>,
}

impl SourceImage {
    /// The manifest family (Docker schema 2 or OCI).
    pub fn format(&self) -> Format {
        Format::of_manifest(Some(&self.media_type))
    }

    /// Pairs the manifest's layers with the config's diff_ids (their counts must agree,
    /// and each must be a digest).
    pub(crate) fn layers_of(
        name: &str,
        manifest: &Manifest,
        config: &ImageConfig,
        source: impl Fn(&image::Descriptor) -> LayerSource,
    ) -> Result<Vec<Layer>, SourceError> {
        let diffs = &config.rootfs.diff_ids;
        if diffs.len() != manifest.layers.len() {
            return Err(SourceError::Image(format!(
                "image {name} is inconsistent: its manifest lists {} layers, its config {} diff_ids",
                manifest.layers.len(),
                diffs.len()
            )));
        }
        manifest
            .layers
            .iter()
            .zip(diffs)
            .map(|(d, diff)| {
                let diff_id = diff.parse().map_err(|e: image::DigestError| {
                    SourceError::Image(format!("image {name}: its config's diff_ids: {e}"))
                })?;
                Ok(Layer {
                    desc: d.clone(),
                    diff_id,
                    source: source(d),
                })
            })
            .collect()
    }
}

/// Where images come from.
pub trait ImageSource: Send + Sync {
    /// Resolves `name` for `platform` (through an index when there is one).
    fn resolve<'a>(
        &'a self,
        name: &'a str,
        platform: &'a Platform,
    ) -> BoxFut<'a, Result<SourceImage, SourceError>>;

    /// Opens a remote layer's blob as a verified stream.
    fn open_remote<'a>(&'a self, layer: &'a Layer) -> BoxFut<'a, Result<BlobStream, SourceError>>;

    /// The most an `ADD <url>` body may hold (`KANIKO_ADD_MAX_SIZE` for a registry source).
    fn download_max_bytes(&self) -> u64 {
        registry::Tuning::default().add_max_bytes
    }

    /// Told of each `ADD <url>` body fetched and its digest (SHA-256, or the `--checksum`
    /// algorithm): a build's record of what it downloaded (the provenance's materials).
    fn downloaded(&self, url: &str, digest: &Digest) {
        let _ = (url, digest);
    }

    /// Told of each `ADD <git URL>` cloned (the URL as the Dockerfile gives it) and the
    /// commit checked out: the provenance's git materials.
    fn cloned(&self, url: &str, commit: &str) {
        let _ = (url, commit);
    }

    /// The HTTP client for a plain download from `host` (ADD <url>): a registry source
    /// gives the TLS settings its flags give that host; no credentials are attached.
    fn download_client(&self, host: &str) -> Result<reqwest::Client, SourceError> {
        let _ = host;
        httpclient::builder(&resolve::Resolver::default())
            .map_err(|e| SourceError::Image(format!("HTTP client: {e}")))?
            .connect_timeout(std::time::Duration::from_secs(30))
            .read_timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| SourceError::Image(format!("HTTP client: {e}")))
    }
}

/// Opens any layer's blob as a verified stream: files directly, remote blobs through `source`.
pub async fn open_layer(
    source: &dyn ImageSource,
    layer: &Layer,
) -> Result<BlobStream, SourceError> {
    match &layer.source {
        LayerSource::Local(path) => {
            let f = tokio::fs::File::open(path)
                .await
                .map_err(|e| SourceError::Io {
                    path: path.clone(),
                    source: e,
                })?;
            Ok(Box::new(registry::Verify::new(
                f,
                layer.desc.digest.clone(),
                Some(layer.desc.size),
            )))
        }
        LayerSource::Remote(_) => source.open_remote(layer).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_ids_are_parsed_where_the_config_is_read() {
        let layer = serde_json::json!({
            "mediaType": image::media::OCI_LAYER_GZIP,
            "digest": image::Digest::sha256(b"l").to_string(),
            "size": 1,
        });
        let manifest: Manifest = serde_json::from_value(serde_json::json!({
            "schemaVersion": 2,
            "config": layer.clone(),
            "layers": [layer],
        }))
        .unwrap();
        let config = |diff: &str| -> ImageConfig {
            serde_json::from_value(
                serde_json::json!({"rootfs": {"type": "layers", "diff_ids": [diff]}}),
            )
            .unwrap()
        };
        let local = |_: &image::Descriptor| LayerSource::Local("blob".into());
        let good = image::Digest::sha256(b"tar");
        let layers =
            SourceImage::layers_of("base:1", &manifest, &config(&good.to_string()), local).unwrap();
        assert_eq!(layers[0].diff_id, good);
        let err = SourceImage::layers_of("base:1", &manifest, &config("sha256:nothex"), local)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("image base:1") && err.contains("sha256:nothex"),
            "{err}"
        );
    }
}
