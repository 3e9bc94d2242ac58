//! Cache entries in an OCI layout directory (`--cache-repo=oci:/path`): blobs under
//! `blobs/`, each entry an image in `index.json` named by its key. Many builds may share
//! the directory: blobs are renamed into place, the index is rewritten under a lock. The
//! index keeps the newest [`MAX_ENTRIES`] entries (their blobs stay until removed by hand).

use super::entry::{Entry, NewEntry};
use super::{oci_dir, CacheError, Store};
use crate::built::LayerSource;
use crate::key::CacheKey;
use crate::source::{BoxFut, ImageSource, LayoutSource};
use image::{media, Descriptor, Platform};
use std::path::PathBuf;

/// The index annotation naming an image.
pub(crate) const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// Entries the index keeps: older ones are dropped as new ones come.
pub(crate) const MAX_ENTRIES: usize = 10_000;

pub(crate) struct LayoutStore {
    dir: PathBuf,
}

impl LayoutStore {
    pub fn new(dir: PathBuf) -> LayoutStore {
        LayoutStore { dir }
    }

    async fn get_now(
        &self,
        key: &CacheKey,
        platform: &Platform,
    ) -> Result<Option<Entry>, CacheError> {
        if !self.dir.join("index.json").exists() {
            return Ok(None);
        }
        let index = oci_dir::read_index(&self.dir)?;
        let name = key.to_string();
        let Some(desc) = index.manifests.iter().rev().find(|d| {
            d.annotations
                .as_ref()
                .and_then(|a| a.get(REF_NAME))
                .is_some_and(|n| *n == name)
        }) else {
            return Ok(None);
        };
        let img = LayoutSource::new(&self.dir)
            .resolve(desc.digest.as_str(), platform)
            .await?;
        let lost = img.layers.iter().any(|l| match &l.source {
            LayerSource::Local(p) => !p.is_file(),
            LayerSource::Remote(_) => true,
        });
        Ok((!lost).then(|| Entry::of(img)))
    }

    fn put_now(&self, entry: &NewEntry) -> Result<(), CacheError> {
        let dir = &self.dir;
        oci_dir::ensure_layout(dir)?;
        for layer in &entry.image.layers {
            let LayerSource::Local(path) = &layer.source else {
                return Err(CacheError::Entry(format!(
                    "layer {} is not a local file",
                    layer.desc.digest
                )));
            };
            oci_dir::put_file(dir, &layer.desc.digest, path)?;
        }
        let fin = &entry.finished;
        oci_dir::put_bytes(dir, &fin.config)?;
        let digest = oci_dir::put_bytes(dir, &fin.manifest_bytes)?;
        let name = entry.tag();
        let desc = Descriptor {
            media_type: media::OCI_MANIFEST.to_string(),
            digest,
            size: fin.manifest_bytes.len() as u64,
            urls: None,
            annotations: Some([(REF_NAME.to_string(), name.clone())].into()),
            platform: None,
        };
        oci_dir::update_index(dir, |index| {
            index
                .manifests
                .retain(|d| d.annotations.as_ref().and_then(|a| a.get(REF_NAME)) != Some(&name));
            index.manifests.push(desc);
            let extra = index.manifests.len().saturating_sub(MAX_ENTRIES);
            index.manifests.drain(..extra);
        })
    }
}

impl Store for LayoutStore {
    fn name(&self, key: &CacheKey) -> String {
        format!("oci:{}:{key}", self.dir.display())
    }

    fn get<'a>(
        &'a self,
        key: &'a CacheKey,
        platform: &'a Platform,
    ) -> BoxFut<'a, Result<Option<Entry>, CacheError>> {
        Box::pin(self.get_now(key, platform))
    }

    fn put<'a>(&'a self, entry: &'a NewEntry) -> BoxFut<'a, Result<(), CacheError>> {
        Box::pin(async move { tokio::task::block_in_place(|| self.put_now(entry)) })
    }
}
