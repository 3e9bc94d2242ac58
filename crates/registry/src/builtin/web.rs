//! The HTTP exchanges of the built-in helpers with token services: one request, no
//! redirects, the client's timeouts, the answer read under the token-size cap, and a
//! refusal named by its URL (no query), status and the service's own error code and
//! message. Request bodies and answers hold secrets and are never put in an error.

use crate::body::{Answer, Clock, Kind};
use crate::transport::Transports;
use crate::url::{strip_query, urlencode};
use crate::{Error, Tuning};

/// Where the built-in helpers' requests go through.
#[derive(Clone, Copy)]
pub(crate) struct Web<'a> {
    pub transports: &'a Transports,
    pub tuning: &'a Tuning,
}

/// A failed step of helper `name`.
pub(crate) fn fail(name: &str, why: impl std::fmt::Display) -> Error {
    Error::Helper(name.to_string(), why.to_string())
}

impl Web<'_> {
    /// Sends `method url` as `build` makes it and returns the body of a 200 answer.
    pub async fn call(
        &self,
        helper: &str,
        method: &'static str,
        url: &str,
        build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Result<Vec<u8>, Error> {
        match self.send(helper, method, url, None, build).await? {
            Ok(body) => Ok(body),
            Err(e) => Err(fail(helper, e)),
        }
    }

    /// POSTs `body` (made by [`form`]) as `application/x-www-form-urlencoded`; the body
    /// of the 200 answer.
    pub async fn post_form(&self, helper: &str, url: &str, body: String) -> Result<Vec<u8>, Error> {
        self.call(helper, "POST", url, |r| {
            r.header("Content-Type", "application/x-www-form-urlencoded")
                .body(body)
        })
        .await
    }

    /// [`call`](Self::call) to a metadata service that may not exist: `None` when no
    /// connection is made or no answer comes within `wait`.
    pub async fn probe(
        &self,
        helper: &str,
        method: &'static str,
        url: &str,
        wait: std::time::Duration,
        build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Result<Option<Vec<u8>>, Error> {
        match self.send(helper, method, url, Some(wait), build).await? {
            Ok(body) => Ok(Some(body)),
            Err(e) if e.is_connect() || e.is_timeout() => {
                tracing::debug!("{helper}: no answer from {}: {e}", strip_query(url));
                Ok(None)
            }
            Err(e) => Err(fail(helper, Error::http(method, strip_query(url), e))),
        }
    }

    /// One exchange: a refusal or an unreadable answer is an error; a transport failure
    /// is handed back for the caller to judge.
    async fn send(
        &self,
        helper: &str,
        method: &'static str,
        url: &str,
        wait: Option<std::time::Duration>,
        build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Result<Result<Vec<u8>, reqwest::Error>, Error> {
        let parsed = reqwest::Url::parse(url).map_err(|e| fail(helper, format!("{url}: {e}")))?;
        let host = parsed.host_str().unwrap_or_default();
        let host = match parsed.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        let http = self.transports.service_client(&host)?;
        let clock = Clock::start(self.tuning, Kind::Small);
        let m = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| fail(helper, format!("bad method {method}")))?;
        let resp = build(http.request(m, parsed))
            .timeout(wait.unwrap_or(clock.total))
            .send()
            .await;
        let resp = match resp {
            Ok(r) => r,
            Err(e) if wait.is_some() => return Ok(Err(e)),
            Err(e) => return Err(fail(helper, clock.error(method, url, e))),
        };
        let answer = Answer {
            resp,
            method,
            clock,
            max_error: self.tuning.max_error_bytes,
        };
        let status = answer.status();
        if status != 200 {
            let body = answer
                .bytes_capped(&String::new, self.tuning.max_error_bytes, "")
                .await
                .unwrap_or_default();
            return Err(fail(
                helper,
                format!(
                    "{method} {}: {status}{}",
                    strip_query(url),
                    service_error(&body)
                ),
            ));
        }
        let what = || format!("answer of {}", strip_query(url));
        let body = answer
            .bytes_capped(
                &what,
                self.tuning.max_token_bytes,
                "KANIKO_REGISTRY_MAX_TOKEN_SIZE",
            )
            .await
            .map_err(|e| fail(helper, e))?;
        Ok(Ok(body))
    }
}

/// A token service's error answer as ` (code: message)`: OAuth2's `error` and
/// `error_description`, AWS's `__type`/`Code` and `message`/`Message` (JSON or XML), or
/// nothing when the body says neither (its text may echo what was sent).
pub(crate) fn service_error(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let (code, message) = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) => {
            let field = |v: &serde_json::Value, names: &[&str]| {
                names
                    .iter()
                    .find_map(|n| v.get(n).and_then(|x| x.as_str()).map(str::to_string))
            };
            match v.get("error").filter(|e| e.is_object()) {
                // Google's APIs: {"error": {"status": ..., "message": ...}}.
                Some(e) => (field(e, &["status"]), field(e, &["message"])),
                None => (
                    field(&v, &["error", "__type", "code", "Code"]),
                    field(&v, &["error_description", "message", "Message"]),
                ),
            }
        }
        Err(_) => (xml_text(&text, "Code"), xml_text(&text, "Message")),
    };
    let clip = |s: String| s.chars().take(300).collect::<String>();
    match (code, message) {
        (Some(c), Some(m)) => format!(" ({}: {})", clip(c), clip(m)),
        (Some(c), None) => format!(" ({})", clip(c)),
        (None, Some(m)) => format!(" ({})", clip(m)),
        (None, None) => String::new(),
    }
}

/// The text of the first `<tag>…</tag>` in `xml` (AWS's query-API answers).
pub(crate) fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&close)? + start;
    Some(
        xml[start..end]
            .trim()
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'"),
    )
}

/// `application/x-www-form-urlencoded` text of `pairs`.
pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A JSON answer parsed as `T`; a body that is not one is named, never shown.
pub(crate) fn json<T: serde::de::DeserializeOwned>(
    helper: &str,
    what: &str,
    body: &[u8],
) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| {
        fail(
            helper,
            format!(
                "{what}: unexpected answer (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_errors() {
        assert_eq!(
            service_error(br#"{"error":"invalid_grant","error_description":"bad key"}"#),
            " (invalid_grant: bad key)"
        );
        assert_eq!(
            service_error(br#"{"__type":"UnrecognizedClientException","message":"no"}"#),
            " (UnrecognizedClientException: no)"
        );
        assert_eq!(
            service_error(
                b"<ErrorResponse><Error><Code>AccessDenied</Code><Message>Not &amp; so</Message></Error></ErrorResponse>"
            ),
            " (AccessDenied: Not & so)"
        );
        assert_eq!(service_error(b"echo of the secret"), "");
        assert_eq!(form(&[("a b", "c&d=e")]), "a%20b=c%26d%3De");
    }
}
