//! The two challenge flows of the distribution API: `Basic` (send the credential) and
//! `Bearer` (fetch a token from the realm for a scope; cached per registry and scope).

use crate::body::{Answer, Clock, Kind};
use crate::credential::Credential;
use crate::url::{strip_query, urlencode};
use crate::{Error, Tuning};
use base64::Engine;
use std::collections::HashMap;

/// A parsed `WWW-Authenticate` header.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: HashMap<String, String>,
}

pub fn parse_challenge(h: &str) -> Challenge {
    let (scheme, rest) = h.trim().split_once(' ').unwrap_or((h.trim(), ""));
    let mut params = HashMap::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let Some((k, after)) = rest.split_once('=') else {
            break;
        };
        let k = k.trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (v, next) = if let Some(stripped) = after.strip_prefix('"') {
            match stripped.find('"') {
                Some(end) => (&stripped[..end], &stripped[end + 1..]),
                None => (stripped, ""),
            }
        } else {
            match after.find(',') {
                Some(end) => (&after[..end], &after[end..]),
                None => (after, ""),
            }
        };
        params.insert(k, v.to_string());
        rest = next.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
    }
    Challenge {
        scheme: scheme.to_ascii_lowercase(),
        params,
    }
}

pub fn basic_header(username: &str, password: &str) -> String {
    let raw = format!("{username}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// Answers a challenge with an Authorization header value.
pub async fn answer(
    http: &reqwest::Client,
    challenge: &Challenge,
    cred: Option<&Credential>,
    scopes: &[String],
    tuning: &Tuning,
) -> Result<Option<String>, Error> {
    match challenge.scheme.as_str() {
        "basic" => Ok(match cred {
            Some(Credential::Basic { username, password }) => {
                Some(basic_header(username, password))
            }
            _ => None,
        }),
        "bearer" => {
            if let Some(Credential::RegistryToken(t)) = cred {
                return Ok(Some(format!("Bearer {t}")));
            }
            let realm = challenge.params.get("realm").cloned().unwrap_or_default();
            let service = challenge.params.get("service").cloned();
            let ask = TokenRequest {
                realm: &realm,
                service: service.as_deref(),
                scopes,
                cred,
            };
            let token = fetch_token(http, &ask, tuning).await?;
            Ok(Some(format!("Bearer {token}")))
        }
        _ => Ok(None),
    }
}

/// What a token is asked for.
struct TokenRequest<'a> {
    realm: &'a str,
    service: Option<&'a str>,
    scopes: &'a [String],
    cred: Option<&'a Credential>,
}

/// Asks the realm for a token: a refresh-token POST for an identity token, else a GET
/// (with Basic credentials when there are some). The answer is read under a size cap.
async fn fetch_token(
    http: &reqwest::Client,
    ask: &TokenRequest<'_>,
    tuning: &Tuning,
) -> Result<String, Error> {
    #[derive(serde::Deserialize)]
    struct Token {
        token: Option<String>,
        access_token: Option<String>,
    }
    let realm = ask.realm;
    let clock = Clock::start(tuning, Kind::Small);
    let (method, req) = token_request(http, ask);
    let resp = req
        .timeout(clock.total)
        .send()
        .await
        .map_err(|e| clock.error(method, realm, e))?;
    let answer = Answer {
        resp,
        method,
        clock,
        max_error: tuning.max_error_bytes,
    };
    let what = || format!("token answer from {}", strip_query(realm));
    let text = answer
        .expect(&[200])
        .await?
        .bytes_capped(
            &what,
            tuning.max_token_bytes,
            "KANIKO_REGISTRY_MAX_TOKEN_SIZE",
        )
        .await?;
    let t: Token =
        serde_json::from_slice(&text).map_err(|e| Error::Manifest(format!("{}: {e}", what())))?;
    t.token
        .or(t.access_token)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::Manifest(format!("{} has no token", what())))
}

/// The request for a token: a refresh-token POST for an identity token, else a GET (with
/// Basic credentials when there are some).
fn token_request(
    http: &reqwest::Client,
    ask: &TokenRequest<'_>,
) -> (&'static str, reqwest::RequestBuilder) {
    let realm = ask.realm;
    if let Some(Credential::IdentityToken(refresh)) = ask.cred {
        let mut form = vec![
            ("grant_type", "refresh_token".to_string()),
            ("refresh_token", refresh.clone()),
            ("client_id", "kaniko".into()),
        ];
        if let Some(s) = ask.service {
            form.push(("service", s.into()));
        }
        form.push(("scope", ask.scopes.join(" ")));
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let req = http
            .post(realm)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        ("POST", req)
    } else {
        let mut q: Vec<(&str, String)> = Vec::new();
        if let Some(s) = ask.service {
            q.push(("service", s.into()));
        }
        for s in ask.scopes {
            q.push(("scope", s.clone()));
        }
        let mut req = http.get(realm).query(&q);
        if let Some(Credential::Basic { username, password }) = ask.cred {
            req = req.header("Authorization", basic_header(username, password));
        }
        ("GET", req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.params["realm"], "https://auth.example/token");
        assert_eq!(c.params["scope"], "repository:a/b:pull,push");
        let b = parse_challenge(r#"Basic realm="Registry Realm""#);
        assert_eq!(b.scheme, "basic");
        assert_eq!(b.params["realm"], "Registry Realm");
    }
}
