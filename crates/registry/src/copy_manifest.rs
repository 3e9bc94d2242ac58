//! Making a manifest of one repository exist in another, byte for byte (so under the same
//! digest): `executor index` joins images pushed elsewhere this way, and anything else that
//! must reference a manifest from another repository (attestations) can. Nothing moves
//! within one repository; blobs are mounted between repositories of one registry and
//! streamed between registries.

use crate::blob_data::BlobData;
use crate::{Client, Error, Reference, Uploaded};
use futures_util::future::try_join_all;
use image::{media, Descriptor, Digest, Index, Manifest};

/// How deep indexes may nest in a copy (an index of indexes is rare; a hostile one is cut).
const MAX_DEPTH: u32 = 4;

/// What [`Client::copy_manifest`] had to do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ManifestCopy {
    /// Manifests (and indexes) put into the destination repository.
    pub manifests: usize,
    /// Blobs the destination already had (HEAD).
    pub existed: usize,
    /// Blobs mounted from the source repository (same registry).
    pub mounted: usize,
    /// Blobs streamed from the source's registry.
    pub uploaded: usize,
}

impl ManifestCopy {
    fn add(&mut self, other: ManifestCopy) {
        self.manifests += other.manifests;
        self.existed += other.existed;
        self.mounted += other.mounted;
        self.uploaded += other.uploaded;
    }
}

impl Client {
    /// Whether `r`'s repository has the manifest `digest` (a push-side HEAD, accepting
    /// every manifest type: a registry answers 404 for an OCI manifest the client does not
    /// accept).
    pub async fn manifest_exists(&self, r: &Reference, digest: &Digest) -> Result<bool, Error> {
        let path = format!("/v2/{}/manifests/{digest}", r.repository);
        let accept = media::ACCEPT_MANIFESTS.join(", ");
        let build = move |b: reqwest::RequestBuilder| Ok(b.header("Accept", accept.clone()));
        self.exists(r, &path, &build).await
    }

    /// Makes the manifest `digest` of `from`'s repository exist in `to`'s repository with
    /// the same bytes, untagged:
    /// - `from` and `to` are one repository (registry and name): nothing is done;
    /// - `to` already has the manifest (HEAD): nothing more is done;
    /// - otherwise every blob it names (config and layers; foreign layers, which live at
    ///   their `urls`, excepted) is found in `to` by HEAD, mounted from `from` when both are
    ///   on one registry (`POST …/blobs/uploads/?mount=&from=`), or else streamed from
    ///   `from`'s registry into the upload (its digest and size verified as it passes,
    ///   memory bounded by the transfer chunks); an index's entries are copied this way
    ///   first; then the manifest is PUT by digest.
    ///
    /// `from` may carry a tag: the manifest is read by `digest`, which is verified.
    pub async fn copy_manifest(
        &self,
        from: &Reference,
        to: &Reference,
        digest: &Digest,
    ) -> Result<ManifestCopy, Error> {
        self.copy_at_depth(from, to, digest, 0).await
    }

    async fn copy_at_depth(
        &self,
        from: &Reference,
        to: &Reference,
        digest: &Digest,
        depth: u32,
    ) -> Result<ManifestCopy, Error> {
        let mut done = ManifestCopy::default();
        if from.registry == to.registry && from.repository == to.repository {
            return Ok(done);
        }
        if self.manifest_exists(to, digest).await? {
            return Ok(done);
        }
        let source = from.with_digest(digest.clone());
        let (bytes, media_type, _) = self.get_manifest(&source).await?;
        if media::is_index(&media_type) {
            if depth >= MAX_DEPTH {
                return Err(Error::Manifest(format!(
                    "{source}: indexes nested more than {MAX_DEPTH} deep"
                )));
            }
            let index: Index = serde_json::from_slice(&bytes)
                .map_err(|e| Error::Manifest(format!("index {source}: {e}")))?;
            for entry in &index.manifests {
                let child = Box::pin(self.copy_at_depth(from, to, &entry.digest, depth + 1));
                done.add(child.await?);
            }
        } else {
            let manifest: Manifest = serde_json::from_slice(&bytes)
                .map_err(|e| Error::Manifest(format!("manifest {source}: {e}")))?;
            done.add(self.copy_blobs(from, to, &manifest).await?);
        }
        let at = Reference {
            tag: None,
            digest: Some(digest.clone()),
            ..to.clone()
        };
        self.put_manifest(&at, &bytes, &media_type).await?;
        done.manifests += 1;
        Ok(done)
    }

    /// The config and layers of `manifest` from `from` into `to`, at once (uploads bounded
    /// by the transfer slots).
    async fn copy_blobs(
        &self,
        from: &Reference,
        to: &Reference,
        manifest: &Manifest,
    ) -> Result<ManifestCopy, Error> {
        let local = |d: &&Descriptor| d.urls.as_ref().is_none_or(|u| u.is_empty());
        let blobs = std::iter::once(&manifest.config).chain(manifest.layers.iter().filter(local));
        let results = try_join_all(
            blobs.map(|d| self.upload_blob(to, d, BlobData::Remote(from), Some(from))),
        )
        .await?;
        let mut done = ManifestCopy::default();
        for r in results {
            match r {
                Uploaded::Existed => done.existed += 1,
                Uploaded::Mounted => done.mounted += 1,
                Uploaded::Uploaded => done.uploaded += 1,
            }
        }
        Ok(done)
    }
}
