//! An answer being read: its body into memory under a cap (manifests, configs, tokens), a
//! refusal turned into an [`Error`] from the first bytes of its body, and transport
//! failures (timeouts above all) named with the request.

use crate::error::detail;
use crate::url::strip_query;
use crate::Error;
use std::time::{Duration, Instant};

/// Which overall timeout applies to a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Manifests, configs, tokens, HEAD/POST/DELETE: `request_timeout`.
    Small,
    /// A blob upload or download: `blob_timeout`.
    Blob,
}

/// The timeouts one request runs under, to say which one fired.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    pub started: Instant,
    pub connect: Duration,
    pub read: Duration,
    pub total: Duration,
    pub kind: Kind,
}

impl Clock {
    /// The clock of a request of `kind` starting now under `tuning`.
    pub fn start(tuning: &crate::Tuning, kind: Kind) -> Clock {
        Clock {
            started: Instant::now(),
            connect: tuning.connect_timeout,
            read: tuning.read_timeout,
            total: match kind {
                Kind::Small => tuning.request_timeout,
                Kind::Blob => tuning.blob_timeout,
            },
            kind,
        }
    }

    /// A failed exchange as an error naming the request; timeouts say which limit fired.
    pub fn error(&self, method: &'static str, url: &str, e: reqwest::Error) -> Error {
        if !e.is_timeout() {
            return Error::http(method, strip_query(url), e);
        }
        let total_var = match self.kind {
            Kind::Small => "KANIKO_REGISTRY_REQUEST_TIMEOUT",
            Kind::Blob => "KANIKO_REGISTRY_BLOB_TIMEOUT",
        };
        let what = if self.started.elapsed() + Duration::from_millis(50) >= self.total {
            format!("not finished after {:?} ({total_var})", self.total)
        } else if e.is_connect() {
            format!(
                "no connection within {:?} (KANIKO_REGISTRY_CONNECT_TIMEOUT)",
                self.connect
            )
        } else {
            format!("no data for {:?} (KANIKO_REGISTRY_READ_TIMEOUT)", self.read)
        };
        Error::Timeout {
            method,
            url: strip_query(url),
            what,
        }
    }
}

/// A registry's answer to one request, with what is needed to name failures.
pub(crate) struct Answer {
    pub resp: reqwest::Response,
    pub method: &'static str,
    pub clock: Clock,
    /// How much of an error body is read.
    pub max_error: u64,
}

impl Answer {
    pub fn status(&self) -> u16 {
        self.resp.status().as_u16()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.resp.headers().get(name).and_then(|v| v.to_str().ok())
    }

    pub fn url(&self) -> String {
        strip_query(self.resp.url().as_str())
    }

    /// A body read failure as an error naming the request.
    pub fn error(&self, e: reqwest::Error) -> Error {
        self.clock.error(self.method, self.resp.url().as_str(), e)
    }

    /// This answer if its status is one of `ok`; otherwise the registry's refusal, with
    /// the start of its body (at most `max_error` bytes are read).
    pub async fn expect(mut self, ok: &[u16]) -> Result<Answer, Error> {
        let status = self.status();
        if ok.contains(&status) {
            return Ok(self);
        }
        let mut body = Vec::new();
        while (body.len() as u64) < self.max_error {
            match self.resp.chunk().await {
                Ok(Some(c)) => body.extend_from_slice(&c),
                _ => break,
            }
        }
        body.truncate(self.max_error as usize);
        Err(Error::Status {
            method: self.method,
            url: self.url(),
            status,
            detail: detail(&String::from_utf8_lossy(&body)),
        })
    }

    /// The whole body, failing as soon as it exceeds `limit` bytes.
    pub async fn bytes_capped(
        mut self,
        what: &(dyn Fn() -> String + Sync),
        limit: u64,
        var: &'static str,
    ) -> Result<Vec<u8>, Error> {
        let too_large = || Error::TooLarge {
            what: what(),
            limit,
            var,
        };
        if self.resp.content_length().is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let mut out = Vec::new();
        loop {
            match self.resp.chunk().await {
                Ok(Some(c)) => {
                    if out.len() as u64 + c.len() as u64 > limit {
                        return Err(too_large());
                    }
                    out.extend_from_slice(&c);
                }
                Ok(None) => return Ok(out),
                Err(e) => return Err(self.error(e)),
            }
        }
    }
}
