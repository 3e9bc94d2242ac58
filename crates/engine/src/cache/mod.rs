//! The layer cache (`--cache`): a step's result, its layer or the fact that it changed
//! nothing, stored under the step's cache key ([`crate::key`]) in a registry repository
//! (`<repo>:<key>`) or an OCI layout directory (`oci:/path`, the key as the image's name).
//! An entry is a one-platform image with zero or one layer whose config's `created` is
//! when it was written (`--cache-ttl` counts from there). Entries are written blob-first,
//! name-last, so a reader never sees half of one and two writers of one key both leave a
//! whole entry. Lookups and writes never fail a build: a cache that cannot be read is a
//! miss, one that cannot be written a warning; writes run beside the build.
//!
//! The base-image cache (`--cache-dir`) lives here too: [`warmer`] fills it; the image
//! source [`crate::source::WarmedSource`] reads base images from it.

mod entry;
mod layout_store;
mod registry_store;
pub mod warmer;

use crate::built::Layer;
use crate::key::CacheKey;
use crate::source::{BoxFut, SourceError};
use dockerfile::Instruction;
use entry::Entry;
use image::Platform;
use registry::{Client, Reference};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tracing::{info, warn};

/// Cache entries written at once, at most.
const PARALLEL_WRITES: usize = 4;
/// Longest time one entry's write may take (the registry client bounds each request; this
/// bounds a write that keeps trickling).
const WRITE_LIMIT: Duration = Duration::from_secs(30 * 60);

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error(transparent)]
    Registry(#[from] registry::Error),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Layout(#[from] ocilayout::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Entry(String),
}

impl CacheError {
    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> CacheError + '_ {
        move |source| CacheError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// How the build uses the cache.
#[derive(Clone, Debug)]
pub struct CacheSettings {
    /// `--cache-ttl`: entries older than this are misses.
    pub ttl: Duration,
    /// `--cache-run-layers`: look up and store RUN results.
    pub run_layers: bool,
    /// `--cache-copy-layers`: look up and store COPY/ADD results.
    pub copy_layers: bool,
    /// Store new entries (false with `--no-push-cache`).
    pub push: bool,
    /// The platform entries are written for.
    pub platform: Platform,
}

/// Where entries live: a registry repository or an OCI layout.
trait Store: Send + Sync {
    /// The entry's name for logs: `registry/repo:key`, `oci:/path:key`.
    fn name(&self, key: &CacheKey) -> String;
    /// The entry for `key`, if there is one.
    fn get<'a>(
        &'a self,
        key: &'a CacheKey,
        platform: &'a Platform,
    ) -> BoxFut<'a, Result<Option<Entry>, CacheError>>;
    /// Writes an entry: blobs first, the name last.
    fn put<'a>(&'a self, entry: &'a entry::NewEntry) -> BoxFut<'a, Result<(), CacheError>>;
}

/// The layer cache of one build.
pub struct LayerCache {
    store: Arc<dyn Store>,
    settings: CacheSettings,
    writes: Mutex<Vec<JoinHandle<()>>>,
    slots: Arc<Semaphore>,
}

impl LayerCache {
    /// A cache in the registry repository `repo` (tags are keys).
    pub fn registry(client: Arc<Client>, repo: Reference, settings: CacheSettings) -> LayerCache {
        let store = registry_store::RegistryStore::new(client, repo);
        LayerCache::with(Arc::new(store), settings)
    }

    /// A cache in the OCI layout directory `dir` (made when missing).
    pub fn layout(dir: PathBuf, settings: CacheSettings) -> LayerCache {
        LayerCache::with(Arc::new(layout_store::LayoutStore::new(dir)), settings)
    }

    fn with(store: Arc<dyn Store>, settings: CacheSettings) -> LayerCache {
        LayerCache {
            store,
            settings,
            writes: Mutex::new(Vec::new()),
            slots: Arc::new(Semaphore::new(PARALLEL_WRITES)),
        }
    }

    /// Whether results of `instr` are looked up and stored. WORKDIR, which may create
    /// directories, is cached whenever the cache is on: it would otherwise make every build
    /// unpack its base.
    pub(crate) fn caches(&self, instr: &Instruction) -> bool {
        match instr {
            Instruction::Run(_) => self.settings.run_layers,
            Instruction::Copy(_) | Instruction::Add(_) => self.settings.copy_layers,
            Instruction::Workdir(_) => true,
            _ => false,
        }
    }

    /// The layers stored for `key` (empty when the step changed nothing), or `None` on a
    /// miss: no entry, an expired one, or a cache that cannot be read (a warning).
    pub(crate) async fn lookup(&self, key: &CacheKey, cmd: &str) -> Option<Vec<Layer>> {
        let name = self.store.name(key);
        info!("Checking for cached layer {name}...");
        let found = self.store.get(key, &self.settings.platform).await;
        let entry = match found {
            Ok(Some(e)) => e,
            Ok(None) => {
                info!("No cached layer found for cmd {cmd}");
                return None;
            }
            Err(e) => {
                warn!("Reading the cache entry {name} failed, running the step: {e}");
                return None;
            }
        };
        let fresh = entry
            .created
            .and_then(|c| c.checked_add(self.settings.ttl))
            .is_some_and(|expiry| expiry > SystemTime::now());
        if !fresh {
            info!("Cache entry expired: {name}");
            return None;
        }
        info!("Using caching version of cmd: {cmd}");
        Some(entry.layers)
    }

    /// Stores `layer` (or "no change") under `key`, on a task of its own: the build goes
    /// on, and a failure is a warning. Does nothing with `--no-push-cache`.
    pub(crate) fn store(&self, key: CacheKey, layer: Option<Layer>, created_by: String) {
        if !self.settings.push {
            return;
        }
        let created_by = redact::urls_in(&created_by);
        let entry = entry::NewEntry::new(key, layer, created_by, &self.settings.platform);
        let (store, slots) = (self.store.clone(), self.slots.clone());
        let span = tracing::info_span!("Pushing cached layer", kaniko.cache.key = %entry.key);
        let task = tokio::spawn(tracing::Instrument::instrument(
            async move {
                let _slot = slots.acquire_owned().await;
                let name = store.name(&entry.key);
                info!("Pushing layer {name} to cache now");
                match tokio::time::timeout(WRITE_LIMIT, store.put(&entry)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => warn!("error uploading layer to cache: {name}: {e}"),
                    Err(_) => {
                        warn!(
                            "error uploading layer to cache: {name}: gave up after {WRITE_LIMIT:?}"
                        )
                    }
                }
            },
            span,
        ));
        if let Ok(mut w) = self.writes.lock() {
            w.push(task);
        }
    }

    /// Waits for every write started so far (their failures were warnings already): the
    /// build does, before it returns ([`crate::build_cached`]).
    pub(crate) async fn finish(&self) {
        let tasks = self
            .writes
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default();
        for t in tasks {
            if let Err(e) = t.await {
                warn!("a cache write stopped: {e}");
            }
        }
    }
}

impl std::fmt::Debug for LayerCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LayerCache")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Descriptor, Digest};

    fn settings(_work: &std::path::Path, ttl: Duration) -> CacheSettings {
        CacheSettings {
            ttl,
            run_layers: true,
            copy_layers: false,
            push: true,
            platform: Platform::parse("linux/amd64").unwrap(),
        }
    }

    fn layer(dir: &std::path::Path) -> Layer {
        let path = dir.join("blob");
        std::fs::write(&path, b"not really a tar").unwrap();
        Layer {
            desc: Descriptor {
                media_type: image::media::OCI_LAYER_GZIP.into(),
                digest: Digest::sha256(b"not really a tar"),
                size: 16,
                urls: None,
                annotations: None,
                platform: None,
            },
            diff_id: Digest::sha256(b"diff"),
            source: crate::built::LayerSource::Local(path),
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_layout_cache_stores_finds_and_expires() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("cache");
        let (k1, k2) = (
            CacheKey(Digest::sha256(b"1")),
            CacheKey(Digest::sha256(b"2")),
        );
        let cache = LayerCache::layout(dir.clone(), settings(d.path(), Duration::from_secs(60)));
        assert!(cache.lookup(&k1, "RUN a").await.is_none());
        cache.store(k1.clone(), Some(layer(d.path())), "RUN a".into());
        cache.store(k2.clone(), None, "RUN b".into());
        cache.finish().await;
        let hit = cache.lookup(&k1, "RUN a").await.unwrap();
        assert_eq!(hit.len(), 1);
        assert_eq!(hit[0].desc.digest, Digest::sha256(b"not really a tar"));
        assert_eq!(hit[0].diff_id, Digest::sha256(b"diff"));
        assert!(cache.lookup(&k2, "RUN b").await.unwrap().is_empty());
        // Expired by creation time; an entry whose blob is gone is a miss.
        let strict = LayerCache::layout(dir.clone(), settings(d.path(), Duration::ZERO));
        assert!(strict.lookup(&k1, "RUN a").await.is_none());
        let blob = ocilayout::Layout::new(&dir).blob_path(&hit[0].desc.digest);
        std::fs::remove_file(blob).unwrap();
        assert!(cache.lookup(&k1, "RUN a").await.is_none());
        // --no-push-cache writes nothing.
        let mut s = settings(d.path(), Duration::from_secs(60));
        s.push = false;
        let quiet = LayerCache::layout(dir.clone(), s);
        let k3 = CacheKey(Digest::sha256(b"3"));
        quiet.store(k3.clone(), None, "RUN c".into());
        quiet.finish().await;
        assert!(cache.lookup(&k3, "RUN c").await.is_none());
    }
}
