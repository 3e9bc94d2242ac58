//! Pushing: blob existence by HEAD, cross-repository mounts, uploads from a file or bytes
//! (POST, then one PUT with the whole body, restarted from the POST when the registry has
//! lost the session), manifests by tag, and kaniko's push-permission check (start an
//! upload, then cancel it). Every request goes through `exchange`, with its retries.

use crate::blob_data::BlobData;
use crate::body::Kind;
use crate::exchange::{Req, Target};
use crate::transport::Side;
use crate::url::{absolute, with_query};
use crate::verify::check_digest;
use crate::{Client, Error, Reference, Uploaded};
use image::{Descriptor, Digest};
use tracing::{debug, warn};

/// A request builder that adds nothing.
fn plain(b: reqwest::RequestBuilder) -> Result<reqwest::RequestBuilder, Error> {
    Ok(b)
}

/// An empty POST body, as registries want it.
pub(crate) fn empty_post(b: reqwest::RequestBuilder) -> Result<reqwest::RequestBuilder, Error> {
    Ok(b.header("Content-Length", "0"))
}

impl Client {
    pub(crate) fn push_req<'a>(
        r: &'a Reference,
        scopes: &'a [String],
        method: &'static str,
        target: Target<'a>,
        build: &'a crate::exchange::Builder<'a>,
    ) -> Req<'a> {
        Req {
            registry: &r.registry,
            side: Side::Push,
            scopes,
            method,
            target,
            kind: Kind::Small,
            build,
        }
    }

    pub async fn blob_exists(&self, r: &Reference, digest: &Digest) -> Result<bool, Error> {
        let path = format!("/v2/{}/blobs/{digest}", r.repository);
        self.exists(r, &path, &plain).await
    }

    /// Whether a push-side HEAD of `path` on `r`'s registry finds it (200) or not (404).
    pub(crate) async fn exists(
        &self,
        r: &Reference,
        path: &str,
        build: &crate::exchange::Builder<'_>,
    ) -> Result<bool, Error> {
        let scopes = Self::push_scope(r);
        let req = Self::push_req(r, &scopes, "HEAD", Target::Path(path), build);
        self.core
            .call(&req, |a| async move {
                match a.status() {
                    200 => Ok(true),
                    404 => Ok(false),
                    _ => a.expect(&[200]).await.map(|_| false),
                }
            })
            .await
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
    pub(crate) async fn start_upload(
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
        let req = Self::push_req(r, &scopes, "POST", Target::Path(&path), &empty_post);
        self.core
            .call(&req, |a| async move {
                let a = a.expect(&[201, 202]).await?;
                if a.status() == 201 && from.is_some() {
                    return Ok(None);
                }
                let loc = a.header("location").ok_or_else(|| {
                    Error::Protocol(format!(
                        "POST {}: upload started without a Location header",
                        a.url()
                    ))
                })?;
                Ok(Some(absolute(a.resp.url(), loc)))
            })
            .await
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

    /// Uploads a blob (from a file or bytes) unless the repository has it (or can mount it
    /// from `mount_from`, same registry only). Requests are retried as `--push-retry`
    /// allows; an upload session the registry lost is started again from the POST.
    pub async fn upload_blob<'d>(
        &self,
        r: &Reference,
        desc: &Descriptor,
        data: impl Into<BlobData<'d>>,
        mount_from: Option<&Reference>,
    ) -> Result<Uploaded, Error> {
        let data = data.into();
        let span = tracing::info_span!(
            "Pushing blob",
            digest = %desc.digest,
            bytes = tracing::field::Empty,
            kaniko.push.result = tracing::field::Empty,
        );
        let uploaded = tracing::Instrument::instrument(
            self.upload_blob_unless_there(r, desc, data, mount_from),
            span.clone(),
        )
        .await?;
        span.record("kaniko.push.result", format!("{uploaded:?}").to_lowercase());
        if uploaded == Uploaded::Uploaded {
            span.record("bytes", desc.size);
        }
        Ok(uploaded)
    }

    async fn upload_blob_unless_there(
        &self,
        r: &Reference,
        desc: &Descriptor,
        data: BlobData<'_>,
        mount_from: Option<&Reference>,
    ) -> Result<Uploaded, Error> {
        if self.blob_exists(r, &desc.digest).await? {
            return Ok(Uploaded::Existed);
        }
        let from = mount_from.filter(|f| f.registry == r.registry && f.repository != r.repository);
        let policy = self.core.policy(Side::Push);
        let mut restarts = 0;
        loop {
            match self.upload_once(r, desc, data, from).await {
                Err(e) if restarts < policy.retries && session_lost(&e) => {
                    let wait = policy.delay(restarts, None);
                    restarts += 1;
                    warn!("{e}; starting the upload of {} again", desc.digest);
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }

    async fn upload_once(
        &self,
        r: &Reference,
        desc: &Descriptor,
        data: BlobData<'_>,
        from: Option<&Reference>,
    ) -> Result<Uploaded, Error> {
        let len = data.len(desc)?;
        if len != desc.size {
            return Err(Error::Protocol(format!(
                "{} has {len} bytes, its descriptor {} says {}",
                data.describe(),
                desc.digest,
                desc.size
            )));
        }
        let Some(location) = self.start_upload(r, &desc.digest, from).await? else {
            return Ok(Uploaded::Mounted);
        };
        let url = with_query(&location, "digest", desc.digest.as_str());
        let core = &self.core;
        let build = move |b: reqwest::RequestBuilder| {
            Ok(b.header("Content-Type", "application/octet-stream")
                .header("Content-Length", len.to_string())
                .body(data.body(core, desc)?))
        };
        let scopes = Self::upload_scopes(r, from);
        let req = Req {
            kind: Kind::Blob,
            ..Self::push_req(r, &scopes, "PUT", Target::Url(&url), &build)
        };
        let _slot = self
            .core
            .uploads
            .acquire()
            .await
            .map_err(|_| Error::Protocol("upload slots closed".into()))?;
        self.core
            .call(
                &req,
                |a| async move { a.expect(&[201, 204]).await.map(|_| ()) },
            )
            .await?;
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
        let build = move |b: reqwest::RequestBuilder| {
            Ok(b.header("Content-Type", mt.clone()).body(body.clone()))
        };
        let scopes = Self::push_scope(r);
        let req = Self::push_req(r, &scopes, "PUT", Target::Path(&path), &build);
        let told = self
            .core
            .call(&req, |a| async move {
                let a = a.expect(&[200, 201, 202]).await?;
                Ok(a.header("docker-content-digest")
                    .and_then(|v| v.parse::<Digest>().ok()))
            })
            .await?;
        if let Some(told) = told {
            check_digest(format!("manifest pushed to {r}"), &digest, &told)?;
        }
        Ok(digest)
    }

    /// Checks that `r` accepts pushes: starts an upload and cancels it.
    pub async fn check_push_permission(&self, r: &Reference) -> Result<(), Error> {
        let Some(url) = self.start_upload(r, &Digest::sha256(b""), None).await? else {
            return Ok(());
        };
        let scopes = Self::push_scope(r);
        let req = Self::push_req(r, &scopes, "DELETE", Target::Url(&url), &plain);
        // Cancelling is a courtesy; the registry expires abandoned uploads anyway.
        if let Err(e) = self.core.send(&req).await {
            debug!("cancelling the upload on {}: {e}", r.registry);
        }
        Ok(())
    }
}

/// Whether the registry no longer knows the upload session (it expired, or a failed PUT
/// ended it): the upload can start over.
fn session_lost(e: &Error) -> bool {
    match e {
        Error::Status { status, detail, .. } => {
            *status == 404
                || *status == 416
                || detail.contains("BLOB_UPLOAD_UNKNOWN")
                || detail.contains("BLOB_UPLOAD_INVALID")
        }
        _ => false,
    }
}
