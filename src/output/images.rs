//! What a build publishes: one image per target platform and, when there is more than one,
//! an index over them. Every output (push, OCI layout, tarball, digest files) reads this
//! one value; `descriptors` is the one place that lists the index's entries.

use engine::{BuiltImage, Finished};
use image::{Descriptor, Digest, Index, Platform};

/// One platform's image, finished (config and manifest bytes computed once).
pub struct PlatformImage {
    pub platform: Platform,
    pub built: BuiltImage,
    pub fin: Finished,
}

impl PlatformImage {
    pub fn new(platform: Platform, built: BuiltImage) -> PlatformImage {
        let fin = built.finish();
        PlatformImage {
            platform,
            built,
            fin,
        }
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
    /// Whether the outputs publish an index (more than one platform) rather than the image.
    pub fn is_index(&self) -> bool {
        self.images.len() > 1
    }

    /// The index's entries: each platform's manifest, in order.
    pub fn descriptors(&self) -> Vec<Descriptor> {
        self.images.iter().map(PlatformImage::descriptor).collect()
    }

    /// The index (a Docker manifest list when every image is Docker-typed, else an OCI
    /// index), when the set publishes one.
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
