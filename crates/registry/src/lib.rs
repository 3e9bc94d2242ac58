//! The remote backend: image references as Docker writes them, credentials from a Docker
//! config, and a client for the distribution API (pull manifests and blobs as streams,
//! push blobs from files and manifests), with Basic and Bearer-token authentication.

mod auth;
mod client;
mod error;
mod keychain;
mod mirrors;
mod pull;
mod push;
mod reference;
mod transport;
mod verify;

pub use client::{Client, RemoteImage, Uploaded};
pub use error::Error;
pub use keychain::{Credential, Keychain};
pub use reference::Reference;
pub use transport::Options;
pub use verify::Verify;
