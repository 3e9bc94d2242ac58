//! Cache entries in a registry repository, tagged with their keys: read like any image
//! (the client's credentials, TLS, mirrors and retries apply; an entry whose layer the
//! registry no longer has is a miss), written layer, config, then the manifest under the tag.

use super::entry::{Entry, NewEntry};
use super::{CacheError, Store};
use crate::built::LayerSource;
use crate::key::CacheKey;
use crate::source::{BoxFut, SourceImage};
use image::Platform;
use registry::{Client, Reference};
use std::path::PathBuf;
use std::sync::Arc;
use tracing::debug;

pub(crate) struct RegistryStore {
    client: Arc<Client>,
    repo: Reference,
    /// Where config files wait for their upload.
    work: PathBuf,
}

impl RegistryStore {
    pub fn new(client: Arc<Client>, repo: Reference, work: PathBuf) -> RegistryStore {
        RegistryStore { client, repo, work }
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
        for layer in &entry.image.layers {
            match &layer.source {
                LayerSource::Local(path) => {
                    self.client.upload_blob(&r, &layer.desc, path, None).await?;
                }
                LayerSource::Remote(from) => {
                    let there = self.client.blob_exists(&r, &layer.desc.digest).await?
                        || self.client.mount_blob(&r, from, &layer.desc.digest).await?;
                    if !there {
                        return Err(CacheError::Entry(format!(
                            "layer {} is in {from}, which {r} cannot mount from",
                            layer.desc.digest
                        )));
                    }
                }
            }
        }
        let fin = &entry.finished;
        let config_path = self.work.join(format!("cache-config-{}.json", entry.tag()));
        std::fs::write(&config_path, &fin.config).map_err(CacheError::io(&config_path))?;
        let uploaded = self
            .client
            .upload_blob(&r, &fin.manifest.config, &config_path, None)
            .await;
        let _ = std::fs::remove_file(&config_path);
        uploaded?;
        self.client
            .put_manifest(&r, &fin.manifest_bytes, fin.media_type)
            .await?;
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
