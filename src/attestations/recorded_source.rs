//! An image source that remembers every image it resolved (base images, `COPY --from`
//! images) with the manifest digest it resolved to, and every `ADD <url>` download with its
//! digest, and every `ADD <git URL>` clone with its commit: the provenance's dependencies.

use engine::source::{BlobStream, BoxFut, SourceError};
use engine::{ImageSource, Layer, SourceImage};
use image::Platform;
use std::sync::{Arc, Mutex};

/// One resolved image: the name as the Dockerfile gave it, the platform, the digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub name: String,
    pub platform: String,
    pub digest: String,
}

pub struct RecordedSource {
    inner: Arc<dyn ImageSource>,
    seen: Mutex<Vec<Resolved>>,
    downloads: Mutex<Vec<(String, String)>>,
    clones: Mutex<Vec<(String, String)>>,
}

impl RecordedSource {
    pub fn new(inner: Arc<dyn ImageSource>) -> Self {
        RecordedSource {
            inner,
            seen: Mutex::new(Vec::new()),
            downloads: Mutex::new(Vec::new()),
            clones: Mutex::new(Vec::new()),
        }
    }

    /// Every `ADD <url>` fetched so far: the URL and the body's digest.
    pub fn downloads(&self) -> Vec<(String, String)> {
        self.downloads.lock().map(|d| d.clone()).unwrap_or_default()
    }

    /// Every `ADD <git URL>` cloned so far: the URL and the commit.
    pub fn clones(&self) -> Vec<(String, String)> {
        self.clones.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Every image resolved so far that a target's build uses: those for `platform`, the
    /// `bases` its stages start from on another platform (a `FROM --platform=$BUILDPLATFORM`
    /// stage, maybe resolved by another target's build), and those for none of `targets`
    /// (a `COPY --from` image of such a stage); each once, in order.
    pub fn resolved_for(
        &self,
        platform: &Platform,
        targets: &[Platform],
        bases: &[(String, Platform)],
    ) -> Vec<Resolved> {
        let this = platform.to_string();
        let others: Vec<String> = targets.iter().map(Platform::to_string).collect();
        let bases: Vec<(&str, String)> = bases
            .iter()
            .map(|(n, p)| (n.as_str(), p.to_string()))
            .collect();
        let seen = self.seen.lock().map(|s| s.clone()).unwrap_or_default();
        seen.into_iter()
            .filter(|r| {
                r.platform == this
                    || !others.contains(&r.platform)
                    || bases.contains(&(r.name.as_str(), r.platform.clone()))
            })
            .collect()
    }
}

impl ImageSource for RecordedSource {
    fn resolve<'a>(
        &'a self,
        name: &'a str,
        platform: &'a Platform,
    ) -> BoxFut<'a, Result<SourceImage, SourceError>> {
        Box::pin(async move {
            let img = self.inner.resolve(name, platform).await?;
            let r = Resolved {
                name: name.to_string(),
                platform: platform.to_string(),
                digest: img.digest.to_string(),
            };
            if let Ok(mut seen) = self.seen.lock() {
                if !seen.contains(&r) {
                    seen.push(r);
                }
            }
            Ok(img)
        })
    }

    fn open_remote<'a>(&'a self, layer: &'a Layer) -> BoxFut<'a, Result<BlobStream, SourceError>> {
        self.inner.open_remote(layer)
    }

    fn downloaded(&self, url: &str, digest: &image::Digest) {
        let d = (url.to_string(), digest.to_string());
        if let Ok(mut all) = self.downloads.lock() {
            if !all.contains(&d) {
                all.push(d);
            }
        }
        self.inner.downloaded(url, digest);
    }

    fn cloned(&self, url: &str, commit: &str) {
        let c = (url.to_string(), commit.to_string());
        if let Ok(mut all) = self.clones.lock() {
            if !all.contains(&c) {
                all.push(c);
            }
        }
        self.inner.cloned(url, commit);
    }

    fn download_max_bytes(&self) -> u64 {
        self.inner.download_max_bytes()
    }

    fn download_client(&self, host: &str) -> Result<reqwest::Client, SourceError> {
        self.inner.download_client(host)
    }
}
