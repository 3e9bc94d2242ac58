//! The distribution API client's core: sending a request with authentication (answering a
//! challenge once, caching the answer per registry and scope), turning a registry's refusal
//! into an [`Error`], and the retry policy. Pulls live in `pull`, pushes in `push`.

use crate::auth::{answer, parse_challenge};
use crate::error::detail;
use crate::transport::{Endpoint, Side, Transports};
use crate::{Error, Keychain, Options, Reference};
use image::{Digest, ImageConfig, Manifest};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

pub struct Client {
    pub(crate) transports: Transports,
    keychain: Keychain,
    /// Authorization header values by (registry, scopes).
    tokens: Mutex<HashMap<(String, String), String>>,
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

/// Builds a request from the HTTP client and the full URL; called again after a challenge.
pub(crate) type Builder = dyn Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder + Send + Sync;

impl Client {
    pub fn new(opts: Options, keychain: Keychain) -> Result<Client, Error> {
        Ok(Client {
            transports: Transports::new(opts),
            keychain,
            tokens: Mutex::new(HashMap::new()),
        })
    }

    pub(crate) fn opts(&self) -> &Options {
        self.transports.options()
    }

    /// The cached Authorization header for these scopes, if any.
    pub(crate) fn cached_auth(&self, registry: &str, scopes: &[String]) -> Option<String> {
        let key = (registry.to_string(), scopes.join(" "));
        self.tokens.lock().ok().and_then(|t| t.get(&key).cloned())
    }

    /// Sends a request to `path` on `registry`, answering an auth challenge once.
    pub(crate) async fn send(
        &self,
        registry: &str,
        side: Side,
        scopes: &[String],
        method: &'static str,
        path: &str,
        build: &Builder,
    ) -> Result<reqwest::Response, Error> {
        let Endpoint { http, base } = self.transports.endpoint(registry, side).await?;
        let url = format!("{base}{path}");
        let run = |auth: Option<String>| {
            let mut req = build(&http, &url);
            if let Some(a) = auth {
                req = req.header("Authorization", a);
            }
            req.send()
        };
        let err = |e: reqwest::Error| Error::http(method, strip_query(&url), e);
        let resp = run(self.cached_auth(registry, scopes)).await.map_err(err)?;
        if resp.status() != reqwest::StatusCode::UNAUTHORIZED {
            return Ok(resp);
        }
        let Some(challenge) = resp
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .map(parse_challenge)
        else {
            return Ok(resp);
        };
        let cred = self.keychain.get(registry)?;
        let Some(header) = answer(&http, &challenge, cred.as_ref(), scopes).await? else {
            return Ok(resp);
        };
        if let Ok(mut t) = self.tokens.lock() {
            t.insert((registry.to_string(), scopes.join(" ")), header.clone());
        }
        run(Some(header)).await.map_err(err)
    }

    /// Fails with the registry's answer unless the status is one of `ok`.
    pub(crate) async fn expect(
        resp: reqwest::Response,
        method: &'static str,
        ok: &[u16],
    ) -> Result<reqwest::Response, Error> {
        let status = resp.status().as_u16();
        if ok.contains(&status) {
            return Ok(resp);
        }
        let url = strip_query(resp.url().as_str());
        let body = resp.text().await.unwrap_or_default();
        Err(Error::Status {
            method,
            url,
            status,
            detail: detail(&body),
        })
    }

    pub(crate) fn pull_scope(r: &Reference) -> Vec<String> {
        vec![format!("repository:{}:pull", r.repository)]
    }

    pub(crate) fn push_scope(r: &Reference) -> Vec<String> {
        vec![format!("repository:{}:pull,push", r.repository)]
    }
}

/// Whether an error may go away on retry: no answer at all, 429 or a 5xx.
pub(crate) fn transient(e: &Error) -> bool {
    match e {
        Error::Status { status, .. } => *status >= 500 || *status == 429,
        Error::Http { .. } => true,
        _ => false,
    }
}

/// The wait before retry number `attempt` (0-based): 1 s, 2 s, 4 s ... capped at 64 s.
pub(crate) fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.min(6))
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

    #[test]
    fn retry_policy() {
        assert_eq!(backoff(0), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(40), Duration::from_secs(64));
        let status = |s| Error::Status {
            method: "GET",
            url: "u".into(),
            status: s,
            detail: String::new(),
        };
        assert!(transient(&status(503)));
        assert!(transient(&status(429)));
        assert!(!transient(&status(404)));
        assert!(!transient(&status(401)));
    }
}
