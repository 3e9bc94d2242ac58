//! Cache entries in an OCI layout directory (`--cache-repo=oci:/path`): blobs under
//! `blobs/`, each entry an image in `index.json` named by its key. Many builds may share
//! the directory: blobs are renamed into place, the index is rewritten under a lock. The
//! index keeps the newest [`MAX_ENTRIES`] entries (their blobs stay until removed by hand).

use super::entry::{Entry, NewEntry};
use super::{CacheError, Store};
use crate::built::LayerSource;
use crate::key::CacheKey;
use crate::source::{BoxFut, LayoutSource};
use image::{media, Descriptor, Platform};
use ocilayout::{ref_name, Layout, Place};
use std::path::PathBuf;

/// Entries the index keeps: older ones are dropped as new ones come.
pub(crate) const MAX_ENTRIES: usize = 10_000;

pub(crate) struct LayoutStore {
    layout: Layout,
}

impl LayoutStore {
    pub fn new(dir: PathBuf) -> LayoutStore {
        LayoutStore {
            layout: Layout::new(dir),
        }
    }

    async fn get_now(
        &self,
        key: &CacheKey,
        platform: &Platform,
    ) -> Result<Option<Entry>, CacheError> {
        let index = self.layout.index_or_empty()?;
        let name = key.to_string();
        let found = index
            .manifests
            .into_iter()
            .rev()
            .find(|d| ref_name(d) == Some(&name));
        let Some(desc) = found else {
            return Ok(None);
        };
        let img = LayoutSource::new(self.layout.dir()).entry(desc, platform)?;
        let lost = img.layers.iter().any(|l| match &l.source {
            LayerSource::Local(p) => !p.is_file(),
            LayerSource::Remote(_) => true,
        });
        Ok((!lost).then(|| Entry::of(img)))
    }

    fn put_now(&self, entry: &NewEntry) -> Result<(), CacheError> {
        let layout = &self.layout;
        layout.create()?;
        for layer in &entry.image.layers {
            let LayerSource::Local(path) = &layer.source else {
                return Err(CacheError::Entry(format!(
                    "layer {} is not a local file",
                    layer.desc.digest
                )));
            };
            layout.put_file(&layer.desc.digest, path, Place::LinkOrCopy)?;
        }
        let fin = &entry.finished;
        layout.put_bytes(&fin.config)?;
        let digest = layout.put_bytes(&fin.manifest_bytes)?;
        let name = entry.tag();
        let desc = Descriptor {
            media_type: media::OCI_MANIFEST.to_string(),
            digest,
            size: fin.manifest_bytes.len() as u64,
            urls: None,
            annotations: None,
            platform: None,
        };
        let desc = ocilayout::named(desc, &name);
        layout.update_index(|index| {
            index.manifests.retain(|d| ref_name(d) != Some(&name));
            index.manifests.push(desc);
            let extra = index.manifests.len().saturating_sub(MAX_ENTRIES);
            index.manifests.drain(..extra);
        })?;
        Ok(())
    }
}

impl Store for LayoutStore {
    fn name(&self, key: &CacheKey) -> String {
        format!("oci:{}:{key}", self.layout.dir().display())
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
