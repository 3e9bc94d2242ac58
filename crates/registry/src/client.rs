//! The distribution API client: manifests and blobs, pull and push, with authentication
//! handled per registry and scope and retries where kaniko's flags ask for them.

use crate::auth::{answer, parse_challenge};
use crate::error::detail;
use crate::transport::{Endpoint, Side, Transports};
use crate::{Error, Keychain, Options, Reference};
use futures_util::TryStreamExt;
use image::{media, Descriptor, Digest, ImageConfig, Index, Manifest, Platform};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::path::Path;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};
use tracing::debug;

pub struct Client {
    transports: Transports,
    keychain: Keychain,
    /// Authorization header values by (registry, scope).
    tokens: Mutex<HashMap<(String, String), String>>,
}

/// A resolved image: its manifest (for the requested platform) and config.
#[derive(Clone, Debug)]
pub struct RemoteImage {
    pub reference: Reference,
    pub manifest: Manifest,
    pub manifest_bytes: Vec<u8>,
    pub media_type: String,
    pub config: ImageConfig,
    pub config_bytes: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Uploaded {
    Existed,
    Mounted,
    Uploaded,
}

type Builder = dyn Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder + Send + Sync;

impl Client {
    pub fn new(opts: Options, keychain: Keychain) -> Result<Client, Error> {
        Ok(Client {
            transports: Transports::new(opts),
            keychain,
            tokens: Mutex::new(HashMap::new()),
        })
    }

    fn opts(&self) -> &Options {
        self.transports.options()
    }

    /// Sends a request built by `build` (given the client and the base URL), answering an
    /// auth challenge once. `build` must be callable twice.
    async fn send(
        &self,
        registry: &str,
        side: Side,
        scopes: &[String],
        method: &'static str,
        path: &str,
        build: &Builder,
    ) -> Result<reqwest::Response, Error> {
        let Endpoint { http, base } = self.transports.endpoint(registry, side).await?;
        let url = format!("{base}{path}");
        let key = (registry.to_string(), scopes.join(" "));
        let cached = self.tokens.lock().ok().and_then(|t| t.get(&key).cloned());
        let run = |auth: Option<String>| {
            let mut req = build(&http, &url);
            if let Some(a) = auth {
                req = req.header("Authorization", a);
            }
            req.send()
        };
        let err = |e: reqwest::Error| Error::http(method, url.clone(), e);
        let resp = run(cached.clone()).await.map_err(err)?;
        if resp.status() != reqwest::StatusCode::UNAUTHORIZED {
            return Ok(resp);
        }
        let Some(challenge) = resp
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .map(parse_challenge)
        else {
            return Ok(resp);
        };
        let cred = self.keychain.get(registry)?;
        let Some(header) = answer(&http, &challenge, cred.as_ref(), scopes).await? else {
            return Ok(resp);
        };
        if let Ok(mut t) = self.tokens.lock() {
            t.insert(key, header.clone());
        }
        run(Some(header)).await.map_err(err)
    }

    /// Fails with the registry's answer unless the status is one of `ok`.
    async fn expect(
        resp: reqwest::Response,
        method: &'static str,
        ok: &[u16],
    ) -> Result<reqwest::Response, Error> {
        let status = resp.status().as_u16();
        if ok.contains(&status) {
            return Ok(resp);
        }
        let url = strip_query(resp.url().as_str());
        let body = resp.text().await.unwrap_or_default();
        Err(Error::Status {
            method,
            url,
            status,
            detail: detail(&body),
        })
    }

    fn pull_scope(r: &Reference) -> Vec<String> {
        vec![format!("repository:{}:pull", r.repository)]
    }

    fn push_scope(r: &Reference) -> Vec<String> {
        vec![format!("repository:{}:pull,push", r.repository)]
    }

    /// GETs a manifest: bytes, media type, digest (verified when the reference has one).
    async fn get_manifest(&self, r: &Reference) -> Result<(Vec<u8>, String, Digest), Error> {
        let accept = media::ACCEPT_MANIFESTS.join(", ");
        let path = format!("/v2/{}/manifests/{}", r.repository, r.identifier());
        let build = move |c: &reqwest::Client, u: &str| c.get(u).header("Accept", accept.clone());
        let resp = self
            .send(
                &r.registry,
                Side::Pull,
                &Self::pull_scope(r),
                "GET",
                &path,
                &build,
            )
            .await?;
        let resp = Self::expect(resp, "GET", &[200]).await?;
        let header_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let url = strip_query(resp.url().as_str());
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| Error::http("GET", url, e))?
            .to_vec();
        let digest = Digest::sha256(&bytes);
        if let Some(want) = &r.digest {
            if want != &digest {
                return Err(Error::Digest {
                    what: format!("manifest {r}"),
                    expected: want.to_string(),
                    actual: digest.to_string(),
                });
            }
        }
        #[derive(serde::Deserialize)]
        struct Probe {
            #[serde(rename = "mediaType")]
            media_type: Option<String>,
            manifests: Option<serde_json::Value>,
        }
        let probe: Probe = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Manifest(format!("manifest of {r}: {e}")))?;
        let media_type = probe
            .media_type
            .or(header_type.filter(|t| t.contains("manifest") || t.contains("index")))
            .unwrap_or_else(|| {
                if probe.manifests.is_some() {
                    media::OCI_INDEX.into()
                } else {
                    media::OCI_MANIFEST.into()
                }
            });
        Ok((bytes, media_type, digest))
    }

    /// The references to try for `r`: registry maps, mirrors for Docker Hub, then `r`.
    fn candidates(&self, r: &Reference) -> Vec<Reference> {
        let mut out = Vec::new();
        for (from, tos) in &self.opts().registry_maps {
            if from == &r.registry
                || (from == "docker.io" && r.registry == crate::reference::DOCKER_HUB)
            {
                for to in tos {
                    let text = format!(
                        "{to}/{}",
                        r.to_string().split_once('/').map_or("", |(_, rest)| rest)
                    );
                    if let Ok(m) = text.parse() {
                        out.push(m);
                    }
                }
            }
        }
        if r.registry == crate::reference::DOCKER_HUB {
            for m in &self.opts().mirrors {
                let (host, prefix) = m.split_once('/').map_or((m.as_str(), ""), |(h, p)| (h, p));
                let repo = if prefix.is_empty() {
                    r.repository.clone()
                } else {
                    format!("{}/{}", prefix.trim_end_matches('/'), r.repository)
                };
                out.push(Reference {
                    registry: host.to_string(),
                    repository: repo,
                    ..r.clone()
                });
            }
        }
        if out.is_empty() || !self.opts().skip_default_fallback {
            out.push(r.clone());
        }
        out
    }

    /// Resolves `r` for `platform` (through an index if needed) and fetches its config.
    pub async fn pull_image(
        &self,
        r: &Reference,
        platform: &Platform,
    ) -> Result<RemoteImage, Error> {
        let candidates = self.candidates(r);
        let mut last = None;
        for c in &candidates {
            let mut attempt = 0;
            loop {
                match self.pull_one(c, platform).await {
                    Ok(img) => return Ok(img),
                    Err(e) => {
                        let transient = e.status().is_none_or(|s| s >= 500 || s == 429);
                        if transient && attempt < self.opts().pull_retries {
                            let wait = std::time::Duration::from_secs(1u64 << attempt.min(6));
                            debug!("retrying {c} in {wait:?}: {e}");
                            tokio::time::sleep(wait).await;
                            attempt += 1;
                            continue;
                        }
                        last = Some(e);
                        break;
                    }
                }
            }
        }
        Err(last.unwrap_or_else(|| Error::Manifest(format!("no registry to pull {r} from"))))
    }

    async fn pull_one(&self, r: &Reference, platform: &Platform) -> Result<RemoteImage, Error> {
        let (mut bytes, mut media_type, mut digest) = self.get_manifest(r).await?;
        if media::is_index(&media_type) {
            let index: Index = serde_json::from_slice(&bytes)
                .map_err(|e| Error::Manifest(format!("index of {r}: {e}")))?;
            let d = index.find(platform).ok_or_else(|| {
                let have: Vec<String> = index
                    .manifests
                    .iter()
                    .filter_map(|m| m.platform.as_ref().map(|p| p.to_string()))
                    .collect();
                Error::Manifest(format!(
                    "{r} has no image for platform {platform} (it has: {})",
                    have.join(", ")
                ))
            })?;
            (bytes, media_type, digest) =
                self.get_manifest(&r.with_digest(d.digest.clone())).await?;
        }
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Manifest(format!("manifest of {r}: {e}")))?;
        let config_bytes = self.blob_bytes(r, &manifest.config.digest).await?;
        let config: ImageConfig = serde_json::from_slice(&config_bytes)
            .map_err(|e| Error::Manifest(format!("config of {r}: {e}")))?;
        Ok(RemoteImage {
            reference: r.with_digest(digest),
            manifest,
            manifest_bytes: bytes,
            media_type,
            config,
            config_bytes,
        })
    }

    async fn blob_response(
        &self,
        r: &Reference,
        digest: &Digest,
    ) -> Result<reqwest::Response, Error> {
        let path = format!("/v2/{}/blobs/{digest}", r.repository);
        let build = |c: &reqwest::Client, u: &str| c.get(u);
        let resp = self
            .send(
                &r.registry,
                Side::Pull,
                &Self::pull_scope(r),
                "GET",
                &path,
                &build,
            )
            .await?;
        Self::expect(resp, "GET", &[200]).await
    }

    async fn blob_bytes(&self, r: &Reference, digest: &Digest) -> Result<Vec<u8>, Error> {
        let resp = self.blob_response(r, digest).await?;
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| Error::http("GET", format!("blob {digest}"), e))?;
        let actual = Digest::sha256(&bytes);
        if &actual != digest {
            return Err(Error::Digest {
                what: format!("blob of {r}"),
                expected: digest.to_string(),
                actual: actual.to_string(),
            });
        }
        Ok(bytes.to_vec())
    }

    /// A stream of the blob; reading fails at the end if the bytes do not match `digest`.
    pub async fn blob_reader(
        &self,
        r: &Reference,
        digest: &Digest,
    ) -> Result<Box<dyn AsyncRead + Send + Unpin>, Error> {
        let resp = self.blob_response(r, digest).await?;
        let stream = resp.bytes_stream().map_err(std::io::Error::other);
        let inner = tokio_util::io::StreamReader::new(stream);
        Ok(Box::new(Verify {
            inner,
            hasher: Sha256::new(),
            expected: digest.clone(),
            done: false,
        }))
    }

    pub async fn blob_exists(&self, r: &Reference, digest: &Digest) -> Result<bool, Error> {
        let path = format!("/v2/{}/blobs/{digest}", r.repository);
        let build = |c: &reqwest::Client, u: &str| c.head(u);
        let resp = self
            .send(
                &r.registry,
                Side::Push,
                &Self::push_scope(r),
                "HEAD",
                &path,
                &build,
            )
            .await?;
        match resp.status().as_u16() {
            200 => Ok(true),
            404 => Ok(false),
            _ => Self::expect(resp, "HEAD", &[200]).await.map(|_| false),
        }
    }

    /// Starts an upload (or a cross-repository mount); the upload URL, or None when mounted.
    async fn start_upload(
        &self,
        r: &Reference,
        digest: &Digest,
        from: Option<&Reference>,
    ) -> Result<Option<String>, Error> {
        let mut scopes = Self::push_scope(r);
        let path = match from {
            Some(f) => {
                scopes.push(format!("repository:{}:pull", f.repository));
                format!(
                    "/v2/{}/blobs/uploads/?mount={digest}&from={}",
                    r.repository, f.repository
                )
            }
            None => format!("/v2/{}/blobs/uploads/", r.repository),
        };
        let build = |c: &reqwest::Client, u: &str| c.post(u).header("Content-Length", "0");
        let resp = self
            .send(&r.registry, Side::Push, &scopes, "POST", &path, &build)
            .await?;
        let resp = Self::expect(resp, "POST", &[201, 202]).await?;
        if resp.status().as_u16() == 201 {
            return Ok(None);
        }
        let loc = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Error::Manifest(format!("upload to {r} answered without a Location")))?;
        Ok(Some(absolute(resp.url(), loc)))
    }

    /// Uploads a blob from a file unless the registry has it (or can mount it).
    pub async fn upload_blob(
        &self,
        r: &Reference,
        desc: &Descriptor,
        path: &Path,
        mount_from: Option<&Reference>,
    ) -> Result<Uploaded, Error> {
        if self.blob_exists(r, &desc.digest).await? {
            return Ok(Uploaded::Existed);
        }
        let mut attempt = 0;
        loop {
            match self
                .upload_once(
                    r,
                    desc,
                    path,
                    mount_from.filter(|f| f.registry == r.registry),
                )
                .await
            {
                Ok(u) => return Ok(u),
                Err(e) if attempt < self.opts().push_retries => {
                    debug!("retrying upload of {}: {e}", desc.digest);
                    tokio::time::sleep(std::time::Duration::from_secs(1u64 << attempt.min(6)))
                        .await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn upload_once(
        &self,
        r: &Reference,
        desc: &Descriptor,
        path: &Path,
        from: Option<&Reference>,
    ) -> Result<Uploaded, Error> {
        let Some(location) = self.start_upload(r, &desc.digest, from).await? else {
            return Ok(Uploaded::Mounted);
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{sep}digest={}", desc.digest);
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|e| Error::Io(path.to_path_buf(), e))?;
        let len = file
            .metadata()
            .await
            .map_err(|e| Error::Io(path.to_path_buf(), e))?
            .len();
        let key = (r.registry.clone(), Self::push_scope(r).join(" "));
        let mut scoped_key = key.clone();
        if let Some(f) = from {
            scoped_key.1 = format!("{} repository:{}:pull", key.1, f.repository);
        }
        let auth = self
            .tokens
            .lock()
            .ok()
            .and_then(|t| t.get(&scoped_key).or_else(|| t.get(&key)).cloned());
        let Endpoint { http, .. } = self.transports.endpoint(&r.registry, Side::Push).await?;
        let body =
            reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(file, 1 << 20));
        let mut req = http
            .put(&url)
            .header("Content-Type", "application/octet-stream")
            .header("Content-Length", len.to_string())
            .body(body);
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| Error::http("PUT", strip_query(&url), e))?;
        Self::expect(resp, "PUT", &[201, 204]).await?;
        Ok(Uploaded::Uploaded)
    }

    /// PUTs a manifest by the reference's tag (or digest); returns its digest.
    pub async fn put_manifest(
        &self,
        r: &Reference,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<Digest, Error> {
        let path = format!(
            "/v2/{}/manifests/{}",
            r.repository,
            r.tag.clone().unwrap_or_else(|| r.identifier())
        );
        let body = bytes.to_vec();
        let mt = media_type.to_string();
        let build = move |c: &reqwest::Client, u: &str| {
            c.put(u)
                .header("Content-Type", mt.clone())
                .body(body.clone())
        };
        let mut attempt = 0;
        loop {
            let resp = self
                .send(
                    &r.registry,
                    Side::Push,
                    &Self::push_scope(r),
                    "PUT",
                    &path,
                    &build,
                )
                .await;
            match resp {
                Ok(resp) => {
                    Self::expect(resp, "PUT", &[200, 201, 202]).await?;
                    return Ok(Digest::sha256(bytes));
                }
                Err(e) if attempt < self.opts().push_retries => {
                    debug!("retrying manifest push: {e}");
                    tokio::time::sleep(std::time::Duration::from_secs(1u64 << attempt.min(6)))
                        .await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Checks that `r` accepts pushes: starts an upload and cancels it.
    pub async fn check_push_permission(&self, r: &Reference) -> Result<(), Error> {
        let path = format!("/v2/{}/blobs/uploads/", r.repository);
        let build = |c: &reqwest::Client, u: &str| c.post(u).header("Content-Length", "0");
        let resp = self
            .send(
                &r.registry,
                Side::Push,
                &Self::push_scope(r),
                "POST",
                &path,
                &build,
            )
            .await?;
        let resp = Self::expect(resp, "POST", &[201, 202]).await?;
        if let Some(loc) = resp.headers().get("location").and_then(|v| v.to_str().ok()) {
            let url = absolute(resp.url(), loc);
            let Endpoint { http, .. } = self.transports.endpoint(&r.registry, Side::Push).await?;
            let key = (r.registry.clone(), Self::push_scope(r).join(" "));
            let auth = self.tokens.lock().ok().and_then(|t| t.get(&key).cloned());
            let mut req = http.delete(&url);
            if let Some(a) = auth {
                req = req.header("Authorization", a);
            }
            let _ = req.send().await;
        }
        Ok(())
    }
}

fn absolute(base: &reqwest::Url, loc: &str) -> String {
    base.join(loc)
        .map(|u| u.to_string())
        .unwrap_or_else(|_| loc.to_string())
}

fn strip_query(u: &str) -> String {
    u.split('?').next().unwrap_or(u).to_string()
}

/// Hashes what it reads and fails at the end on a digest mismatch.
struct Verify<R> {
    inner: R,
    hasher: Sha256,
    expected: Digest,
    done: bool,
}

impl<R: AsyncRead + Unpin> AsyncRead for Verify<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let new = &buf.filled()[before..];
                if new.is_empty() && !this.done {
                    this.done = true;
                    let actual = Digest::from_sha256(std::mem::take(&mut this.hasher));
                    if actual != this.expected {
                        return Poll::Ready(Err(std::io::Error::other(format!(
                            "digest mismatch: expected {}, got {actual}",
                            this.expected
                        ))));
                    }
                } else {
                    this.hasher.update(new);
                }
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}
