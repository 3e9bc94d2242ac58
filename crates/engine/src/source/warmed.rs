//! Base images from the warmer's cache directory (`--cache-dir`, with `--cache`): an image
//! named by digest is taken from the directory when a fresh copy is there, with no
//! registry request at all; a tag is still resolved against its registry (tags move), and
//! the copy of the digest it names is used when present. When the registry cannot be
//! reached (no answer, or a 5xx), the newest fresh copy warmed under that name is used,
//! with a warning. Entries older than `--cache-ttl` (by when they were written) are not used.

use super::{BlobStream, BoxFut, ImageSource, LayoutSource, SourceError, SourceImage};
use crate::built::Layer;
use image::{Descriptor, Digest, Platform};
use ocilayout::{ref_name, Layout};
use registry::Reference;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tracing::{debug, info, warn};

/// The directory of the entry for manifest `digest`: `sha256-<hex>` (no colon, so that
/// tools such as skopeo can name it in `oci:<dir>:<name>`).
pub(crate) fn entry_dir(dir: &Path, digest: &Digest) -> PathBuf {
    dir.join(format!("{}-{}", digest.algorithm(), digest.hex()))
}

/// When the entry at `dir` was written, if it is a complete one.
pub(crate) fn written(dir: &Path) -> Option<SystemTime> {
    std::fs::metadata(dir.join("oci-layout"))
        .and_then(|m| m.modified())
        .ok()
        .filter(|_| dir.join("index.json").is_file())
}

/// Whether the entry at `dir` exists and is younger than `ttl`.
pub(crate) fn is_fresh(dir: &Path, ttl: Duration) -> bool {
    written(dir)
        .and_then(|t| t.checked_add(ttl))
        .is_some_and(|expiry| expiry > SystemTime::now())
}

/// An image source that prefers the base-image cache directory over `inner`.
pub struct WarmedSource {
    inner: Arc<dyn ImageSource>,
    dir: PathBuf,
    ttl: Duration,
}

impl WarmedSource {
    pub fn new(inner: Arc<dyn ImageSource>, dir: PathBuf, ttl: Duration) -> WarmedSource {
        WarmedSource { inner, dir, ttl }
    }

    /// The fresh cached image with manifest `digest`, if any.
    fn by_digest(&self, digest: &Digest, platform: &Platform) -> Option<SourceImage> {
        let dir = entry_dir(&self.dir, digest);
        if !is_fresh(&dir, self.ttl) {
            debug!("Image {digest} not found in cache (or too old)");
            return None;
        }
        let desc = Layout::new(&dir)
            .find_digest(digest)
            .map_err(SourceError::from);
        self.open(&dir, digest, desc, platform)
    }

    /// The image of the entry `desc` (of manifest `digest`) found in the cached layout `dir`.
    fn open(
        &self,
        dir: &Path,
        digest: &Digest,
        desc: Result<Descriptor, SourceError>,
        platform: &Platform,
    ) -> Option<SourceImage> {
        let found = desc.and_then(|d| LayoutSource::new(dir).entry(d, platform));
        match found {
            Ok(img) => {
                info!("Found {digest} in local cache");
                Some(img)
            }
            Err(e) => {
                warn!("Error while retrieving image from cache: {digest}: {e}");
                None
            }
        }
    }

    /// The newest fresh entry warmed under the name `name`.
    fn by_name(&self, name: &str, platform: &Platform) -> Option<SourceImage> {
        let entries = std::fs::read_dir(&self.dir).ok()?;
        let mut best: Option<(SystemTime, PathBuf, Descriptor)> = None;
        for e in entries.flatten() {
            let dir = e.path();
            let Some(t) = written(&dir).filter(|_| is_fresh(&dir, self.ttl)) else {
                continue;
            };
            let Ok(index) = Layout::new(&dir).read_index() else {
                continue;
            };
            let named = index
                .manifests
                .into_iter()
                .find(|d| ref_name(d) == Some(name));
            if let Some(d) = named {
                if best.as_ref().is_none_or(|(bt, _, _)| t > *bt) {
                    best = Some((t, dir, d));
                }
            }
        }
        let (_, dir, desc) = best?;
        self.open(&dir, &desc.digest.clone(), Ok(desc), platform)
    }

    async fn resolve_now(
        &self,
        name: &str,
        platform: &Platform,
    ) -> Result<SourceImage, SourceError> {
        let reference: Option<Reference> = name.parse().ok();
        if let Some(d) = reference.as_ref().and_then(|r| r.digest.as_ref()) {
            if let Some(img) = self.by_digest(d, platform) {
                return Ok(img);
            }
        }
        match self.inner.resolve(name, platform).await {
            Ok(img) => Ok(self.by_digest(&img.digest, platform).unwrap_or(img)),
            Err(e) if unreachable(&e) => {
                let full = reference.map_or_else(|| name.to_string(), |r| r.to_string());
                match self.by_name(&full, platform) {
                    Some(img) => {
                        warn!("the registry of {name} cannot be reached ({e}); using the copy in the cache, {}", img.name);
                        Ok(img)
                    }
                    None => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }
}

/// Whether a registry error means "no answer" rather than a refusal.
fn unreachable(e: &SourceError) -> bool {
    match e {
        SourceError::Registry(registry::Error::Http { .. }) => true,
        SourceError::Registry(r) => r.status().is_some_and(|s| s >= 500),
        _ => false,
    }
}

impl ImageSource for WarmedSource {
    fn resolve<'a>(
        &'a self,
        name: &'a str,
        platform: &'a Platform,
    ) -> BoxFut<'a, Result<SourceImage, SourceError>> {
        Box::pin(self.resolve_now(name, platform))
    }

    fn open_remote<'a>(&'a self, layer: &'a Layer) -> BoxFut<'a, Result<BlobStream, SourceError>> {
        self.inner.open_remote(layer)
    }

    fn download_client(&self, host: &str) -> Result<reqwest::Client, SourceError> {
        self.inner.download_client(host)
    }

    fn download_max_bytes(&self) -> u64 {
        self.inner.download_max_bytes()
    }
}
