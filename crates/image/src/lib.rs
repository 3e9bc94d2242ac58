//! The image model, with no I/O: digests, media types, manifests and indexes, and the image
//! config (Docker's and OCI's, which share one JSON shape). Backends (remote registry, OCI
//! layout, tarball) read and write these types; the builder mutates a config and a layer list.
//!
//! The config keeps every field it does not know in `extra` maps, so a base image's config
//! round-trips without losing anything.

mod config;
mod digest;
mod manifest;
pub mod media;

pub use config::{ContainerConfig, Healthcheck, History, ImageConfig, RootFs};
pub use digest::{Digest, DigestError, Hasher, Sha256Writer};
pub use manifest::{Descriptor, Index, Manifest, Platform};
pub use media::Format;
