//! What a build publishes: one image per target platform, each with its attestation
//! manifest when attestations are asked for, and, when there is more than one image or
//! any attestation, an index over them. Every output (push, OCI layout, tarball, digest
//! files) reads this one value; `descriptors` is the one place that lists the index's
//! entries.

use super::attestations::{self, AttestationManifest, Predicate};
use super::OutputError;
use engine::{BuiltImage, Finished};
use image::{Descriptor, Digest, Index, Platform};

/// One platform's image, finished (config and manifest bytes computed once).
pub struct PlatformImage {
    pub platform: Platform,
    pub built: BuiltImage,
    pub fin: Finished,
    /// The statements about this image (SBOM, provenance), stored as BuildKit does.
    pub attestation: Option<AttestationManifest>,
}

impl PlatformImage {
    pub fn new(platform: Platform, built: BuiltImage) -> PlatformImage {
        let fin = built.finish();
        PlatformImage {
            platform,
            built,
            fin,
            attestation: None,
        }
    }

    /// Attaches `predicates` (none: nothing) about this image, its subjects named after
    /// `destinations`.
    pub fn attest(
        &mut self,
        destinations: &[registry::Reference],
        predicates: &[Predicate],
    ) -> Result<(), OutputError> {
        if predicates.is_empty() {
            return Ok(());
        }
        let desc = self.descriptor();
        let platform = desc.platform.clone().unwrap_or_default();
        let names = attestations::subject_names(destinations, &platform);
        self.attestation = Some(attestations::attestation_manifest(
            desc, &names, predicates,
        )?);
        Ok(())
    }

    /// The manifest's descriptor, with the platform the image's config states.
    pub fn descriptor(&self) -> Descriptor {
        let c = &self.built.config;
        Descriptor {
            media_type: self.fin.media_type.to_string(),
            digest: self.fin.digest.clone(),
            size: self.fin.manifest_bytes.len() as u64,
            urls: None,
            annotations: None,
            platform: Some(Platform {
                architecture: c.architecture.clone(),
                os: c.os.clone(),
                variant: c.variant.clone(),
                os_version: None,
            }),
        }
    }
}

/// The images of one build, in the order of `--custom-platform`.
pub struct ImageSet {
    pub images: Vec<PlatformImage>,
}

/// An index ready to write: its bytes and the descriptor naming them.
pub struct IndexBytes {
    pub bytes: Vec<u8>,
    pub desc: Descriptor,
}

impl ImageSet {
    /// Whether the outputs publish an index (more than one platform, or attestations)
    /// rather than the image.
    pub fn is_index(&self) -> bool {
        self.images.len() > 1 || self.has_attestations()
    }

    pub fn has_attestations(&self) -> bool {
        self.images.iter().any(|i| i.attestation.is_some())
    }

    /// Every attestation's config, statements and manifest: (digest, bytes).
    pub fn attestation_parts(&self) -> Vec<(&Digest, &[u8])> {
        let mut parts = Vec::new();
        for a in self.images.iter().filter_map(|i| i.attestation.as_ref()) {
            parts.extend(a.blobs.iter().map(|(d, b)| (&d.digest, &b[..])));
            parts.push((&a.manifest_desc.digest, &a.manifest[..]));
        }
        parts
    }

    /// The index's entries: each platform's manifest, in order, then their attestation
    /// manifests (as BuildKit lists them).
    pub fn descriptors(&self) -> Vec<Descriptor> {
        let images = self.images.iter().map(PlatformImage::descriptor);
        let attested = self.images.iter().filter_map(|i| i.attestation.as_ref());
        images
            .chain(attested.map(|a| a.manifest_desc.clone()))
            .collect()
    }

    /// The index (a Docker manifest list when every entry is Docker-typed, else an OCI
    /// index: an attestation manifest is OCI-typed), when the set publishes one.
    pub fn index(&self) -> Option<IndexBytes> {
        self.is_index().then(|| {
            let (bytes, desc) = Index::over(self.descriptors()).to_bytes();
            IndexBytes { bytes, desc }
        })
    }

    /// The digest the digest files and logs name: the index's, else the only image's.
    pub fn digest(&self) -> Digest {
        match self.index() {
            Some(i) => i.desc.digest,
            None => self
                .images
                .first()
                .map(|i| i.fin.digest.clone())
                .unwrap_or_else(|| Digest::sha256(b"")),
        }
    }

    /// The image `docker load` gets from a tarball: the one for this host's architecture,
    /// else the first.
    pub fn for_host(&self) -> Option<&PlatformImage> {
        let host = engine::host_arch();
        self.images
            .iter()
            .find(|i| i.platform.architecture == host)
            .or(self.images.first())
    }
}
