//! Pulling: manifests (Docker schema 2 and OCI, resolving an index to one platform) and
//! blobs, every digest verified; blobs are handed out as streams.

use crate::body::Kind;
use crate::exchange::{Builder, Req, Target};
use crate::transport::Side;
use crate::verify::{check_digest, Verify};
use crate::{Client, Error, Reference, RemoteImage};
use image::{media, Digest, ImageConfig, Index, Manifest, Platform};
use tokio::io::AsyncRead;
use tracing::warn;

impl Client {
    /// A pull-side GET of `path` on `r`'s registry.
    pub(crate) fn pull_req<'a>(
        r: &'a Reference,
        scopes: &'a [String],
        path: &'a str,
        kind: Kind,
        build: &'a Builder<'a>,
    ) -> Req<'a> {
        Req {
            registry: &r.registry,
            side: Side::Pull,
            scopes,
            method: "GET",
            target: Target::Path(path),
            kind,
            build,
        }
    }

    /// GETs a manifest or index as stored: bytes (under the manifest cap), media type,
    /// digest (verified when the reference or the registry names one). No mirror or map.
    pub async fn get_manifest(&self, r: &Reference) -> Result<(Vec<u8>, String, Digest), Error> {
        let accept = media::ACCEPT_MANIFESTS.join(", ");
        let path = format!("/v2/{}/manifests/{}", r.repository, r.identifier());
        let build = move |b: reqwest::RequestBuilder| Ok(b.header("Accept", accept.clone()));
        let scopes = Self::pull_scope(r);
        let req = Self::pull_req(r, &scopes, &path, Kind::Small, &build);
        let limit = self.tuning().max_manifest_bytes;
        let what = || format!("manifest of {r}");
        let (bytes, header_type, header_digest) = self
            .core
            .call(&req, |a| async {
                let a = a.expect(&[200]).await?;
                let header_type = a.header("content-type").map(str::to_string);
                let header_digest = a
                    .header("docker-content-digest")
                    .and_then(|v| v.parse::<Digest>().ok());
                let bytes = a
                    .bytes_capped(&what, limit, "KANIKO_REGISTRY_MAX_MANIFEST_SIZE")
                    .await?;
                Ok((bytes, header_type, header_digest))
            })
            .await?;
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
    /// trying mapped registries and mirrors first; each request retries transient failures
    /// (`--image-download-retry`).
    pub async fn pull_image(
        &self,
        r: &Reference,
        platform: &Platform,
    ) -> Result<RemoteImage, Error> {
        let candidates = crate::mirrors::candidates(self.opts(), r);
        let mut last = None;
        for c in &candidates {
            match self.pull_one(c, platform).await {
                Ok(img) => return Ok(img),
                Err(e) => {
                    if c != r {
                        warn!(
                            "failed to retrieve {r} from {}: {e}; trying the next registry",
                            c.registry
                        );
                    }
                    last = Some(e);
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
            reference: r.with_digest(digest.clone()),
            digest,
            manifest,
            manifest_bytes: bytes,
            media_type,
            config,
            config_bytes,
        })
    }

    /// Whether the registry serves OCI 1.1's referrers API for `r`'s repository (a GET of
    /// `/v2/<name>/referrers/<digest>` answered 200); 404 means clients keep the tag-schema
    /// fallback (`<alg>-<hex>` tags).
    pub async fn referrers_api(&self, r: &Reference, digest: &Digest) -> Result<bool, Error> {
        let path = format!("/v2/{}/referrers/{digest}", r.repository);
        let build = |b: reqwest::RequestBuilder| Ok(b.header("Accept", media::OCI_INDEX));
        let scopes = Self::pull_scope(r);
        let req = Self::pull_req(r, &scopes, &path, Kind::Small, &build);
        match self
            .core
            .call(&req, |a| async { a.expect(&[200]).await.map(|_| ()) })
            .await
        {
            Ok(()) => Ok(true),
            Err(e) if e.status() == Some(404) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// A small blob (a config) in memory under the config cap, verified.
    pub async fn blob_bytes(&self, r: &Reference, digest: &Digest) -> Result<Vec<u8>, Error> {
        let path = format!("/v2/{}/blobs/{digest}", r.repository);
        let build = |b: reqwest::RequestBuilder| Ok(b);
        let scopes = Self::pull_scope(r);
        let req = Self::pull_req(r, &scopes, &path, Kind::Small, &build);
        let limit = self.tuning().max_config_bytes;
        let what = || format!("blob {digest} of {r}");
        let bytes = self
            .core
            .call(&req, |a| async {
                a.expect(&[200])
                    .await?
                    .bytes_capped(&what, limit, "KANIKO_REGISTRY_MAX_CONFIG_SIZE")
                    .await
            })
            .await?;
        check_digest(format!("blob of {r}"), digest, &digest.of_same_kind(&bytes))?;
        Ok(bytes)
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
    /// bytes long (as soon as it grows past it). A download cut off midway continues from
    /// where it stopped (a `Range` request), as `--image-download-retry` allows.
    pub async fn blob_reader_sized(
        &self,
        r: &Reference,
        digest: &Digest,
        size: Option<u64>,
    ) -> Result<Box<dyn AsyncRead + Send + Unpin>, Error> {
        // The bytes stream later, as the reader is read: the span times the request.
        let span = tracing::info_span!("Pulling blob", digest = %digest, bytes = size);
        let inner = tracing::Instrument::instrument(
            crate::resume::open(self.core.clone(), r, digest),
            span,
        )
        .await?;
        Ok(Box::new(Verify::new(inner, digest.clone(), size)))
    }
}
