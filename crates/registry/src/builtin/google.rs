//! The `google` helper: for `gcr.io`, `*.gcr.io`, `*.pkg.dev` and `*.google.com` (the hosts
//! go-containerregistry's Google keychain serves), an OAuth2 access token for the
//! `cloud-platform` scope from application default credentials (`google_sources`): a
//! service account's RS256 JWT exchanged at its `token_uri` (the JWT-bearer grant), an
//! authorized user's refresh token, an external account's subject token exchanged at its
//! `token_url` (then its service account impersonated), or the metadata server's token.
//! The registry gets it as Basic `_token:<access token>`, as go-containerregistry sends it.

use super::google_sources::{self, File};
use super::web::{fail, form, json};
use super::{Ctx, Snapshot};
use crate::credential::Credential;
use crate::Error;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const HELPER: &str = "google";
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// How long an absent metadata server is waited for.
const METADATA_WAIT: Duration = Duration::from_secs(2);

/// Whether `host` is one of Google's registries.
pub(crate) fn is_google(host: &str) -> bool {
    host == "gcr.io"
        || [".gcr.io", ".pkg.dev", ".google.com"]
            .iter()
            .any(|s| host.ends_with(s))
}

#[derive(serde::Deserialize)]
struct Token {
    access_token: String,
}

/// The registry's credential, or `None` for another host or without credentials.
pub(crate) async fn get(
    env: &Snapshot,
    ctx: &Ctx<'_>,
    host: &str,
) -> Result<Option<Credential>, Error> {
    if !is_google(host) {
        return Ok(None);
    }
    let token = match google_sources::load(env) {
        Some(file) => Some(from_file(env, ctx, &file?).await?),
        None => metadata(env, ctx).await?,
    };
    Ok(token.map(|t| Credential::Basic {
        username: "_token".into(),
        password: t,
    }))
}

async fn from_file(env: &Snapshot, ctx: &Ctx<'_>, f: &File) -> Result<String, Error> {
    match f.kind.as_str() {
        "service_account" => service_account(ctx, f).await,
        "authorized_user" => {
            let need = |v: &Option<String>, name: &str| {
                v.clone()
                    .ok_or_else(|| fail(HELPER, format!("authorized_user without {name}")))
            };
            let body = form(&[
                ("grant_type", "refresh_token"),
                ("client_id", &need(&f.client_id, "client_id")?),
                ("client_secret", &need(&f.client_secret, "client_secret")?),
                ("refresh_token", &need(&f.refresh_token, "refresh_token")?),
            ]);
            let uri = f.token_uri.as_deref().unwrap_or(DEFAULT_TOKEN_URI);
            post_form(ctx, uri, body).await
        }
        "external_account" => external_account(env, ctx, f).await,
        other => Err(fail(
            HELPER,
            format!("credentials of type {other:?} are not supported"),
        )),
    }
}

async fn post_form(ctx: &Ctx<'_>, url: &str, body: String) -> Result<String, Error> {
    let answer = ctx.web.post_form(HELPER, url, body).await?;
    Ok(json::<Token>(HELPER, url, &answer)?.access_token)
}

#[derive(serde::Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

/// The signed JWT-bearer assertion of a service account for `aud`, valid for an hour.
pub(crate) fn assertion(f: &File, aud: &str, now: SystemTime) -> Result<String, Error> {
    let email = f
        .client_email
        .as_deref()
        .ok_or_else(|| fail(HELPER, "service_account without client_email"))?;
    let pem = f
        .private_key
        .as_deref()
        .ok_or_else(|| fail(HELPER, "service_account without private_key"))?;
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes())
        .map_err(|e| fail(HELPER, format!("the service account's private_key: {e}")))?;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = f.private_key_id.clone();
    let iat = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let claims = Claims {
        iss: email,
        scope: SCOPE,
        aud,
        iat,
        exp: iat + 3600,
    };
    jsonwebtoken::encode(&header, &claims, &key)
        .map_err(|e| fail(HELPER, format!("signing the assertion: {e}")))
}

async fn service_account(ctx: &Ctx<'_>, f: &File) -> Result<String, Error> {
    let uri = f.token_uri.as_deref().unwrap_or(DEFAULT_TOKEN_URI);
    let jwt = assertion(f, uri, SystemTime::now())?;
    let body = form(&[
        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
        ("assertion", &jwt),
    ]);
    post_form(ctx, uri, body).await
}

/// Workload identity federation: the subject token exchanged at STS, then (when the file
/// says so) a service account's token through IAM credentials' generateAccessToken.
async fn external_account(env: &Snapshot, ctx: &Ctx<'_>, f: &File) -> Result<String, Error> {
    let subject = google_sources::subject_token(env, f)?;
    let url = f
        .token_url
        .as_deref()
        .unwrap_or("https://sts.googleapis.com/v1/token");
    let audience = f
        .audience
        .as_deref()
        .ok_or_else(|| fail(HELPER, "external_account without audience"))?;
    let body = form(&[
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        ("audience", audience),
        ("scope", SCOPE),
        (
            "requested_token_type",
            "urn:ietf:params:oauth:token-type:access_token",
        ),
        ("subject_token", &subject),
        (
            "subject_token_type",
            f.subject_token_type
                .as_deref()
                .unwrap_or("urn:ietf:params:oauth:token-type:jwt"),
        ),
    ]);
    let federated = post_form(ctx, url, body).await?;
    let Some(impersonate) = f.service_account_impersonation_url.as_deref() else {
        return Ok(federated);
    };
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Impersonated {
        access_token: String,
    }
    let req = serde_json::json!({"scope": [SCOPE], "lifetime": "3600s"}).to_string();
    let answer = ctx
        .web
        .call(HELPER, "POST", impersonate, |r| {
            r.bearer_auth(federated)
                .header("Content-Type", "application/json")
                .body(req)
        })
        .await?;
    Ok(json::<Impersonated>(HELPER, impersonate, &answer)?.access_token)
}

/// The metadata server's token for the default service account (GKE workload identity,
/// Compute Engine, Cloud Run); `None` when there is no metadata server.
async fn metadata(env: &Snapshot, ctx: &Ctx<'_>) -> Result<Option<String>, Error> {
    let host = env.var("GCE_METADATA_HOST").unwrap_or("169.254.169.254");
    let url = format!("http://{host}/computeMetadata/v1/instance/service-accounts/default/token");
    let answer = ctx
        .web
        .probe(HELPER, "GET", &url, METADATA_WAIT, |r| {
            r.header("Metadata-Flavor", "Google")
        })
        .await?;
    match answer {
        Some(body) => Ok(Some(
            json::<Token>(HELPER, "metadata server token", &body)?.access_token,
        )),
        None => {
            tracing::debug!("google: no credentials file and no metadata server at {host}");
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        for h in [
            "gcr.io",
            "eu.gcr.io",
            "europe-docker.pkg.dev",
            "x.google.com",
        ] {
            assert!(is_google(h), "{h}");
        }
        for h in ["gcr.io.evil", "pkg.dev.example", "notgcr.io"] {
            assert!(!is_google(h), "{h}");
        }
    }
}
