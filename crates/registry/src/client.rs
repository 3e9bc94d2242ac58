//! The client's public face: [`Client`] (a handle on the shared [`Core`] every request
//! goes through), what pulls and pushes return and the scopes they ask for. Pulls live in
//! `pull`, pushes in `push`, the request path in `exchange`.

use crate::exchange::Core;
use crate::transport::Transports;
use crate::{Error, Keychain, Options, Reference, Tuning};
use image::{Digest, ImageConfig, Manifest};
use std::sync::Arc;

/// A registry client; cheap to share (`&Client`), its state lives behind an `Arc`.
pub struct Client {
    pub(crate) core: Arc<Core>,
}

/// A resolved image: its manifest (for the requested platform) and config.
#[derive(Clone, Debug)]
pub struct RemoteImage {
    /// Where the image was found (after mirrors and maps), with the manifest's digest.
    pub reference: Reference,
    /// The manifest's digest (the one for the platform, after an index).
    pub digest: Digest,
    pub manifest: Manifest,
    pub manifest_bytes: Vec<u8>,
    pub media_type: String,
    pub config: ImageConfig,
    pub config_bytes: Vec<u8>,
}

/// What [`Client::upload_blob`] had to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Uploaded {
    /// The repository already had the blob (HEAD answered 200).
    Existed,
    /// The registry mounted it from another repository.
    Mounted,
    /// The bytes were sent.
    Uploaded,
}

impl Client {
    /// A client with the default [`Tuning`].
    pub fn new(opts: Options, keychain: Keychain) -> Result<Client, Error> {
        Self::with_tuning(opts, keychain, Tuning::default())
    }

    /// A client with these limits, timeouts, retry pacing and transfer slots.
    pub fn with_tuning(opts: Options, keychain: Keychain, tuning: Tuning) -> Result<Client, Error> {
        let transports = Transports::new(opts, &tuning);
        Ok(Client {
            core: Arc::new(Core::new(transports, keychain, tuning)),
        })
    }

    /// An HTTP client for a plain download from `host` (ADD <url>) with the TLS settings
    /// the registry flags give that host; no credentials are ever attached.
    pub fn download_client(&self, host: &str) -> Result<reqwest::Client, Error> {
        self.core.transports.download_client(host)
    }

    pub fn tuning(&self) -> &Tuning {
        &self.core.tuning
    }

    pub(crate) fn opts(&self) -> &Options {
        self.core.transports.options()
    }

    pub(crate) fn pull_scope(r: &Reference) -> Vec<String> {
        vec![format!("repository:{}:pull", r.repository)]
    }

    pub(crate) fn push_scope(r: &Reference) -> Vec<String> {
        vec![format!("repository:{}:pull,push", r.repository)]
    }
}
