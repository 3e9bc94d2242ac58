//! Pushing: blob existence by HEAD, cross-repository mounts, uploads streamed from a file
//! (POST, then one PUT with the whole body), manifests by tag, and kaniko's push-permission
//! check (start an upload, then cancel it).

use crate::client::{absolute, backoff, check_digest, strip_query, transient, with_query};
use crate::transport::{Endpoint, Side};
use crate::{Client, Error, Reference, Uploaded};
use image::{Descriptor, Digest};
use std::path::Path;
use tracing::debug;

impl Client {
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

    /// The scopes an upload to `r` (maybe mounting from `from`) needs.
    fn upload_scopes(r: &Reference, from: Option<&Reference>) -> Vec<String> {
        let mut scopes = Self::push_scope(r);
        if let Some(f) = from {
            scopes.push(format!("repository:{}:pull", f.repository));
        }
        scopes
    }

    /// Starts an upload (or a cross-repository mount); the upload URL, or None when mounted.
    async fn start_upload(
        &self,
        r: &Reference,
        digest: &Digest,
        from: Option<&Reference>,
    ) -> Result<Option<String>, Error> {
        let scopes = Self::upload_scopes(r, from);
        let path = match from {
            Some(f) => format!(
                "/v2/{}/blobs/uploads/?mount={digest}&from={}",
                r.repository, f.repository
            ),
            None => format!("/v2/{}/blobs/uploads/", r.repository),
        };
        let build = |c: &reqwest::Client, u: &str| c.post(u).header("Content-Length", "0");
        let resp = self
            .send(&r.registry, Side::Push, &scopes, "POST", &path, &build)
            .await?;
        let resp = Self::expect(resp, "POST", &[201, 202]).await?;
        if resp.status().as_u16() == 201 && from.is_some() {
            return Ok(None);
        }
        let loc = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                Error::Protocol(format!(
                    "POST {}: upload started without a Location header",
                    strip_query(resp.url().as_str())
                ))
            })?;
        Ok(Some(absolute(resp.url(), loc)))
    }

    /// Mounts a blob of `from` (same registry) into `r` without sending its bytes; false
    /// when the registry declines (the upload session it opened instead is left to expire).
    pub async fn mount_blob(
        &self,
        r: &Reference,
        from: &Reference,
        digest: &Digest,
    ) -> Result<bool, Error> {
        if from.registry != r.registry {
            return Ok(false);
        }
        Ok(self.start_upload(r, digest, Some(from)).await?.is_none())
    }

    /// Uploads a blob from a file unless the repository has it (or can mount it from
    /// `mount_from`, same registry only). Each retry restarts the upload from the POST.
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
        let from = mount_from.filter(|f| f.registry == r.registry && f.repository != r.repository);
        let mut attempt = 0;
        loop {
            match self.upload_once(r, desc, path, from).await {
                Ok(u) => return Ok(u),
                Err(e) if transient(&e) && attempt < self.opts().push_retries => {
                    debug!("retrying upload of {}: {e}", desc.digest);
                    tokio::time::sleep(backoff(attempt)).await;
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
        let url = with_query(&location, "digest", desc.digest.as_str());
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|e| Error::Io(path.to_path_buf(), e))?;
        let len = file
            .metadata()
            .await
            .map_err(|e| Error::Io(path.to_path_buf(), e))?
            .len();
        let auth = self.cached_auth(&r.registry, &Self::upload_scopes(r, from));
        let Endpoint { http, .. } = self.transports.endpoint(&r.registry, Side::Push).await?;
        let stream = tokio_util::io::ReaderStream::with_capacity(file, 1 << 20);
        let mut req = http
            .put(&url)
            .header("Content-Type", "application/octet-stream")
            .header("Content-Length", len.to_string())
            .body(reqwest::Body::wrap_stream(stream));
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

    /// PUTs a manifest by the reference's tag (or digest); returns its digest, checked
    /// against the registry's `Docker-Content-Digest` when it sends one.
    pub async fn put_manifest(
        &self,
        r: &Reference,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<Digest, Error> {
        let digest = Digest::sha256(bytes);
        let id = r.tag.clone().unwrap_or_else(|| r.identifier());
        let path = format!("/v2/{}/manifests/{id}", r.repository);
        let body = bytes.to_vec();
        let mt = media_type.to_string();
        let build = move |c: &reqwest::Client, u: &str| {
            c.put(u)
                .header("Content-Type", mt.clone())
                .body(body.clone())
        };
        let mut attempt = 0;
        loop {
            let result = async {
                let resp = self
                    .send(
                        &r.registry,
                        Side::Push,
                        &Self::push_scope(r),
                        "PUT",
                        &path,
                        &build,
                    )
                    .await?;
                Self::expect(resp, "PUT", &[200, 201, 202]).await
            }
            .await;
            match result {
                Ok(resp) => {
                    let told = resp
                        .headers()
                        .get("docker-content-digest")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<Digest>().ok());
                    if let Some(told) = told {
                        check_digest(format!("manifest pushed to {r}"), &digest, &told)?;
                    }
                    return Ok(digest);
                }
                Err(e) if transient(&e) && attempt < self.opts().push_retries => {
                    debug!("retrying manifest push to {r}: {e}");
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Checks that `r` accepts pushes: starts an upload and cancels it.
    pub async fn check_push_permission(&self, r: &Reference) -> Result<(), Error> {
        let scopes = Self::push_scope(r);
        let path = format!("/v2/{}/blobs/uploads/", r.repository);
        let build = |c: &reqwest::Client, u: &str| c.post(u).header("Content-Length", "0");
        let resp = self
            .send(&r.registry, Side::Push, &scopes, "POST", &path, &build)
            .await?;
        let resp = Self::expect(resp, "POST", &[201, 202]).await?;
        if let Some(loc) = resp.headers().get("location").and_then(|v| v.to_str().ok()) {
            let url = absolute(resp.url(), loc);
            let Endpoint { http, .. } = self.transports.endpoint(&r.registry, Side::Push).await?;
            let mut req = http.delete(&url);
            if let Some(a) = self.cached_auth(&r.registry, &scopes) {
                req = req.header("Authorization", a);
            }
            // Cancelling is a courtesy; the registry expires abandoned uploads anyway.
            if let Err(e) = req.send().await {
                debug!(
                    "cancelling the upload on {}: {}",
                    r.registry,
                    e.without_url()
                );
            }
        }
        Ok(())
    }
}
