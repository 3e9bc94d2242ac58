//! Pulling: manifests (Docker schema 2 and OCI, resolving an index to one platform) and
//! blobs, every digest verified; blobs are handed out as streams.

use crate::client::{backoff, check_digest, strip_query, transient};
use crate::transport::Side;
use crate::verify::Verify;
use crate::{Client, Error, Reference, RemoteImage};
use futures_util::TryStreamExt;
use image::{media, Digest, ImageConfig, Index, Manifest, Platform};
use tokio::io::AsyncRead;
use tracing::{debug, warn};

impl Client {
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
        let header_digest = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<Digest>().ok());
        let url = strip_query(resp.url().as_str());
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| Error::http("GET", url, e))?
            .to_vec();
        let digest = Digest::sha256(&bytes);
        for want in [r.digest.as_ref(), header_digest.as_ref()]
            .into_iter()
            .flatten()
        {
            check_digest(format!("manifest {r}"), want, &want.of_same_kind(&bytes))?;
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

    /// Resolves `r` for `platform` (through an index if needed) and fetches its config,
    /// trying mapped registries and mirrors first and retrying transient failures.
    pub async fn pull_image(
        &self,
        r: &Reference,
        platform: &Platform,
    ) -> Result<RemoteImage, Error> {
        let candidates = crate::mirrors::candidates(self.opts(), r);
        let mut last = None;
        for c in &candidates {
            let mut attempt = 0;
            loop {
                match self.pull_one(c, platform).await {
                    Ok(img) => return Ok(img),
                    Err(e) if transient(&e) && attempt < self.opts().pull_retries => {
                        let wait = backoff(attempt);
                        debug!("retrying {c} in {wait:?}: {e}");
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                    }
                    Err(e) => {
                        if c != r {
                            warn!(
                                "failed to retrieve {r} from {}: {e}; trying the next registry",
                                c.registry
                            );
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
        if config.rootfs.diff_ids.len() != manifest.layers.len() {
            return Err(Error::Manifest(format!(
                "image {r} is inconsistent: its manifest lists {} layers, its config {} diff_ids",
                manifest.layers.len(),
                config.rootfs.diff_ids.len()
            )));
        }
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

    /// A small blob (a config) in memory, verified.
    pub async fn blob_bytes(&self, r: &Reference, digest: &Digest) -> Result<Vec<u8>, Error> {
        let resp = self.blob_response(r, digest).await?;
        let url = strip_query(resp.url().as_str());
        let bytes = resp.bytes().await.map_err(|e| Error::http("GET", url, e))?;
        check_digest(format!("blob of {r}"), digest, &digest.of_same_kind(&bytes))?;
        Ok(bytes.to_vec())
    }

    /// A stream of the blob; reading fails at the end if the bytes do not match `digest`.
    pub async fn blob_reader(
        &self,
        r: &Reference,
        digest: &Digest,
    ) -> Result<Box<dyn AsyncRead + Send + Unpin>, Error> {
        self.blob_reader_sized(r, digest, None).await
    }

    /// Like [`blob_reader`](Self::blob_reader), also failing when the blob is not `size`
    /// bytes long (as soon as it grows past it).
    pub async fn blob_reader_sized(
        &self,
        r: &Reference,
        digest: &Digest,
        size: Option<u64>,
    ) -> Result<Box<dyn AsyncRead + Send + Unpin>, Error> {
        let resp = self.blob_response(r, digest).await?;
        let stream = resp
            .bytes_stream()
            .map_err(|e| std::io::Error::other(e.without_url()));
        let inner = tokio_util::io::StreamReader::new(stream);
        Ok(Box::new(Verify::new(inner, digest.clone(), size)))
    }
}
