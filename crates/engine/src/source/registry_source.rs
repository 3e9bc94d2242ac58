//! Images in a registry, through the registry client (credentials, mirrors, maps, TLS,
//! retries and digest checks are the client's).

use super::{BlobStream, BoxFut, ImageSource, SourceError, SourceImage};
use crate::built::{Layer, LayerSource};
use image::Platform;
use registry::{Client, Reference};
use std::sync::Arc;
use tracing::info;

pub struct RegistrySource {
    client: Arc<Client>,
}

impl RegistrySource {
    pub fn new(client: Arc<Client>) -> RegistrySource {
        RegistrySource { client }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}

impl ImageSource for RegistrySource {
    fn resolve<'a>(
        &'a self,
        name: &'a str,
        platform: &'a Platform,
    ) -> BoxFut<'a, Result<SourceImage, SourceError>> {
        Box::pin(async move {
            let reference: Reference =
                name.parse()
                    .map_err(|e: registry::Error| SourceError::Name {
                        name: name.to_string(),
                        message: e.to_string(),
                    })?;
            info!("Retrieving image manifest {reference}");
            let remote = self.client.pull_image(&reference, platform).await?;
            info!(
                "Retrieving image {reference} from registry {}",
                remote.reference.registry
            );
            let from = remote.reference.clone();
            let layers = SourceImage::layers_of(name, &remote.manifest, &remote.config, |_| {
                LayerSource::Remote(from.clone())
            })?;
            Ok(SourceImage {
                name: remote.reference.to_string(),
                digest: remote.digest,
                media_type: remote.media_type,
                manifest: remote.manifest,
                config: remote.config,
                layers,
            })
        })
    }

    fn download_max_bytes(&self) -> u64 {
        self.client.tuning().add_max_bytes
    }

    fn download_client(&self, host: &str) -> Result<reqwest::Client, SourceError> {
        Ok(self.client.download_client(host)?)
    }

    fn open_remote<'a>(&'a self, layer: &'a Layer) -> BoxFut<'a, Result<BlobStream, SourceError>> {
        Box::pin(async move {
            let LayerSource::Remote(r) = &layer.source else {
                return Err(SourceError::Image(format!(
                    "layer {} is not in a registry",
                    layer.desc.digest
                )));
            };
            let d = &layer.desc;
            Ok(self
                .client
                .blob_reader_sized(r, &d.digest, Some(d.size))
                .await?)
        })
    }
}
