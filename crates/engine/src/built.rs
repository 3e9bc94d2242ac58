//! The image a build (or one stage of it) produces: the base image's layers (still in the
//! registry, or files of an OCI layout) and the new layers (blob files in the work
//! directory), a config, and the manifest family. No I/O here.

use image::{Descriptor, Digest, Format, ImageConfig, Manifest};
use registry::Reference;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where a layer's bytes are.
#[derive(Clone, Debug)]
pub enum LayerSource {
    /// In a registry, in the repository the base image came from.
    Remote(Reference),
    /// A blob file: written by this build, or in an OCI layout.
    Local(PathBuf),
}

#[derive(Clone, Debug)]
pub struct Layer {
    pub desc: Descriptor,
    /// The digest of the uncompressed tar (parsed where the config is read).
    pub diff_id: Digest,
    pub source: LayerSource,
}

impl Layer {
    /// The layer as a registry push takes it: its blob file, or its base repository.
    pub fn push_data(&self) -> (&Descriptor, registry::LayerData<'_>) {
        let data = match &self.source {
            LayerSource::Local(p) => registry::LayerData::Blob(p.into()),
            LayerSource::Remote(from) => registry::LayerData::Repository(from),
        };
        (&self.desc, data)
    }
}

#[derive(Clone, Debug)]
pub struct BuiltImage {
    pub format: Format,
    pub config: ImageConfig,
    pub layers: Vec<Layer>,
    pub annotations: BTreeMap<String, String>,
}

impl BuiltImage {
    /// The config as it is pushed: diff_ids follow the layer list.
    pub fn config_bytes(&self) -> Vec<u8> {
        let mut config = self.config.clone();
        config.rootfs.diff_ids = self.layers.iter().map(|l| l.diff_id.to_string()).collect();
        serde_json::to_vec(&config).unwrap_or_default()
    }

    /// The manifest for `config_bytes`, with layer media types in this image's family.
    pub fn manifest(&self, config_bytes: &[u8]) -> Manifest {
        let layers = self
            .layers
            .iter()
            .map(|l| Descriptor {
                media_type: self.format.convert_layer_type(&l.desc.media_type),
                ..l.desc.clone()
            })
            .collect();
        Manifest {
            schema_version: 2,
            media_type: Some(self.format.manifest_type().to_string()),
            config: Descriptor {
                media_type: self.format.config_type().to_string(),
                digest: Digest::sha256(config_bytes),
                size: config_bytes.len() as u64,
                urls: None,
                annotations: None,
                platform: None,
            },
            layers,
            annotations: (!self.annotations.is_empty() && self.format == Format::Oci)
                .then(|| self.annotations.clone()),
            extra: Default::default(),
        }
    }

    /// Config bytes, manifest bytes and the manifest digest, computed once for every output.
    pub fn finish(&self) -> Finished {
        let config = self.config_bytes();
        let manifest = self.manifest(&config);
        let manifest_bytes = serde_json::to_vec(&manifest).unwrap_or_default();
        let digest = Digest::sha256(&manifest_bytes);
        Finished {
            config,
            manifest,
            manifest_bytes,
            digest,
            media_type: self.format.manifest_type(),
        }
    }
}

pub struct Finished {
    pub config: Vec<u8>,
    pub manifest: Manifest,
    pub manifest_bytes: Vec<u8>,
    pub digest: Digest,
    pub media_type: &'static str,
}

/// The media type of a new layer in `format` for the given compression.
pub fn new_layer_type(format: Format, c: rootfs::Compression) -> &'static str {
    format.layer_type(c)
}
