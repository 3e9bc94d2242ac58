//! The client's public face: [`Client`] (a handle on the shared [`Core`] every request
//! goes through), what pulls and pushes return, the scopes they ask for, and small URL and
//! digest helpers. Pulls live in `pull`, pushes in `push`, the request path in `exchange`.

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

/// `loc` (absolute, or relative to `base`) as an absolute URL.
pub(crate) fn absolute(base: &reqwest::Url, loc: &str) -> String {
    base.join(loc)
        .map(|u| u.to_string())
        .unwrap_or_else(|_| loc.to_string())
}

/// `url` with `param=value` appended, whether or not it already has a query string.
pub(crate) fn with_query(url: &str, param: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{param}={value}")
}

/// A URL without its query (upload state and digests stay out of messages).
pub(crate) fn strip_query(u: &str) -> String {
    u.split('?').next().unwrap_or(u).to_string()
}

/// Checks `actual` against `expected`; a mismatch names both.
pub(crate) fn check_digest(what: String, expected: &Digest, actual: &Digest) -> Result<(), Error> {
    if expected == actual {
        Ok(())
    } else {
        Err(Error::Digest {
            what,
            expected: expected.to_string(),
            actual: actual.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_and_queries() {
        let base = reqwest::Url::parse("https://r.example:5000/v2/a/blobs/uploads/").unwrap();
        assert_eq!(
            absolute(&base, "/v2/a/blobs/uploads/u1?_state=x"),
            "https://r.example:5000/v2/a/blobs/uploads/u1?_state=x"
        );
        assert_eq!(
            absolute(&base, "https://other.example/up/1"),
            "https://other.example/up/1"
        );
        assert_eq!(
            with_query("http://h/u?_state=x", "digest", "d"),
            "http://h/u?_state=x&digest=d"
        );
        assert_eq!(
            with_query("http://h/u", "digest", "d"),
            "http://h/u?digest=d"
        );
        assert_eq!(strip_query("http://h/u?_state=secret"), "http://h/u");
    }
}
