//! Media types, and the two manifest families (Docker schema 2 and OCI).

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
pub const DOCKER_LAYER_ZSTD: &str = "application/vnd.docker.image.rootfs.diff.tar.zstd";
pub const DOCKER_LAYER_TAR: &str = "application/vnd.docker.image.rootfs.diff.tar";
pub const DOCKER_FOREIGN_LAYER: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";

/// Every manifest or index type a pull accepts, for the Accept header.
pub const ACCEPT_MANIFESTS: [&str; 4] = [
    OCI_INDEX,
    DOCKER_MANIFEST_LIST,
    OCI_MANIFEST,
    DOCKER_MANIFEST,
];

/// Whether `media_type` names an index (a manifest list).
pub fn is_index(media_type: &str) -> bool {
    media_type == OCI_INDEX || media_type == DOCKER_MANIFEST_LIST
}

/// The compression a layer media type declares.
pub fn layer_compression(media_type: &str) -> LayerCompression {
    if media_type.ends_with("zstd") {
        LayerCompression::Zstd
    } else if media_type.ends_with("gzip") {
        LayerCompression::Gzip
    } else {
        LayerCompression::None
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerCompression {
    Gzip,
    Zstd,
    None,
}

/// The manifest family of an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Docker,
    Oci,
}

impl Format {
    /// The family a manifest media type belongs to (OCI when it is missing or unknown).
    pub fn of_manifest(media_type: Option<&str>) -> Format {
        match media_type {
            Some(DOCKER_MANIFEST) | Some(DOCKER_MANIFEST_LIST) => Format::Docker,
            _ => Format::Oci,
        }
    }

    pub fn manifest_type(self) -> &'static str {
        match self {
            Format::Docker => DOCKER_MANIFEST,
            Format::Oci => OCI_MANIFEST,
        }
    }

    pub fn config_type(self) -> &'static str {
        match self {
            Format::Docker => DOCKER_CONFIG,
            Format::Oci => OCI_CONFIG,
        }
    }

    pub fn layer_type(self, c: LayerCompression) -> &'static str {
        match (self, c) {
            (Format::Docker, LayerCompression::Gzip) => DOCKER_LAYER_GZIP,
            (Format::Docker, LayerCompression::Zstd) => DOCKER_LAYER_ZSTD,
            (Format::Docker, LayerCompression::None) => DOCKER_LAYER_TAR,
            (Format::Oci, LayerCompression::Gzip) => OCI_LAYER_GZIP,
            (Format::Oci, LayerCompression::Zstd) => OCI_LAYER_ZSTD,
            (Format::Oci, LayerCompression::None) => OCI_LAYER_TAR,
        }
    }

    /// A layer's media type carried over to this family, keeping its compression.
    pub fn convert_layer_type(self, media_type: &str) -> String {
        if media_type == DOCKER_FOREIGN_LAYER {
            return media_type.to_string();
        }
        self.layer_type(layer_compression(media_type)).to_string()
    }
}
