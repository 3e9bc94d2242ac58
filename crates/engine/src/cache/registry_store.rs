//! Cache entries in a registry repository, tagged with their keys: read like any image
//! (the client's credentials, TLS, mirrors and retries apply; an entry whose layer the
//! registry no longer has is a miss), written layer, config, then the manifest under the tag.

use super::entry::{Entry, NewEntry};
use super::{CacheError, Store};
use crate::built::{Layer, LayerSource};
use crate::key::CacheKey;
use crate::source::{BoxFut, SourceImage};
use image::Platform;
use registry::{Client, ImagePush, Reference};
use std::path::PathBuf;
use std::sync::Arc;
use tracing::debug;

pub(crate) struct RegistryStore {
    client: Arc<Client>,
    repo: Reference,
}

impl RegistryStore {
    pub fn new(client: Arc<Client>, repo: Reference) -> RegistryStore {
        RegistryStore { client, repo }
    }

    async fn get_now(
        &self,
        key: &CacheKey,
        platform: &Platform,
    ) -> Result<Option<Entry>, CacheError> {
        let r = self.repo.with_tag(&key.to_string());
        let remote = match self.client.pull_image(&r, platform).await {
            Ok(img) => img,
            Err(e) if e.status() == Some(404) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let from = remote.reference.clone();
        let layers =
            SourceImage::layers_of(&r.to_string(), &remote.manifest, &remote.config, |_| {
                LayerSource::Remote(from.clone())
            })?;
        // A layer the registry lost (garbage-collected) would fail the build later.
        for l in &layers {
            if !self.client.blob_exists(&from, &l.desc.digest).await? {
                debug!("cache entry {r} lacks its layer {}", l.desc.digest);
                return Ok(None);
            }
        }
        Ok(Some(Entry::of(SourceImage {
            name: remote.reference.to_string(),
            digest: remote.digest,
            media_type: remote.media_type,
            manifest: remote.manifest,
            config: remote.config,
            layers,
        })))
    }

    async fn put_now(&self, entry: &NewEntry) -> Result<(), CacheError> {
        let r = self.repo.with_tag(&entry.tag());
        let fin = &entry.finished;
        let layers = &entry.image.layers;
        let image = ImagePush {
            layers: layers.iter().map(Layer::push_data).collect(),
            config: &fin.manifest.config,
            config_bytes: &fin.config,
            manifest: &fin.manifest_bytes,
            media_type: fin.media_type,
        };
        // A base layer the cache repository neither has nor can mount is not sent.
        let cannot_mount = |i: usize| {
            let l = &layers[i];
            let from = match &l.source {
                LayerSource::Remote(from) => from.to_string(),
                LayerSource::Local(p) => p.display().to_string(),
            };
            let e = format!(
                "layer {} is in {from}, which {r} cannot mount from",
                l.desc.digest
            );
            std::future::ready(Err::<PathBuf, _>(CacheError::Entry(e)))
        };
        self.client.push_image(&r, &image, cannot_mount).await?;
        Ok(())
    }
}

impl Store for RegistryStore {
    fn name(&self, key: &CacheKey) -> String {
        format!("{}:{key}", self.repo.repo_str())
    }

    fn get<'a>(
        &'a self,
        key: &'a CacheKey,
        platform: &'a Platform,
    ) -> BoxFut<'a, Result<Option<Entry>, CacheError>> {
        Box::pin(self.get_now(key, platform))
    }

    fn put<'a>(&'a self, entry: &'a NewEntry) -> BoxFut<'a, Result<(), CacheError>> {
        Box::pin(self.put_now(entry))
    }
}
