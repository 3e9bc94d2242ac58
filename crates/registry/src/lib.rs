//! The remote backend: image references as Docker writes them, credentials from a Docker
//! config, and a client for the distribution API (pull manifests and blobs as streams,
//! push blobs from files or bytes, manifests and whole images, copy a manifest between
//! repositories), with Basic and Bearer-token authentication.
//!
//! Every request goes through one path (`exchange`): credentials only to the registry's own
//! origin, redirects followed there, size caps and timeouts ([`Tuning`]), and one retry
//! policy (`retry`) driven by `--image-download-retry` and `--push-retry`.

mod auth;
mod blob_data;
mod body;
mod builtin;
mod client;
mod copy_manifest;
mod credential;
mod error;
mod exchange;
mod helper_programs;
mod keychain;
mod mirrors;
mod pull;
mod push;
mod push_image;
mod reference;
mod resume;
mod retry;
mod stream_push;
mod transport;
mod tuning;
mod url;
mod verify;

pub use blob_data::BlobData;
pub use builtin::{Builtins, Kind as BuiltinHelper, ALL as BUILTIN_HELPERS};
pub use client::{Client, RemoteImage, Uploaded};
pub use copy_manifest::ManifestCopy;
pub use credential::Credential;
pub use error::Error;
pub use helper_programs::default_helper_dirs;
pub use keychain::Keychain;
pub use push_image::{ImagePush, LayerData};
pub use reference::Reference;
pub use transport::Options;
pub use tuning::{Tuning, VARIABLES as TUNING_VARIABLES};
pub use verify::Verify;
