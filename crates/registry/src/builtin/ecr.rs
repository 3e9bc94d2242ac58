//! The `ecr` helper: for `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]` (the
//! pattern amazon-ecr-credential-helper matches), AWS credentials (`aws`) sign a
//! GetAuthorizationToken call (SigV4, service `ecr`) to ECR's API in that region
//! (`AWS_ENDPOINT_URL_ECR`, else `AWS_ENDPOINT_URL`, overrides it); its token is
//! `AWS:<password>` in base64, sent to the registry as Basic credentials.

use super::web::{fail, json};
use super::{aws, Ctx, Snapshot};
use crate::credential::Credential;
use crate::Error;
use base64::Engine;
use std::time::SystemTime;

const HELPER: &str = "ecr";
const TARGET: &str = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// An ECR registry named by its host.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct EcrHost {
    pub account: String,
    pub region: String,
    pub fips: bool,
    pub china: bool,
}

fn label(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The account and region of an ECR host name, if it is one.
pub(crate) fn parse_host(host: &str) -> Option<EcrHost> {
    let (rest, china) = match host.strip_suffix(".amazonaws.com.cn") {
        Some(r) => (r, true),
        None => (host.strip_suffix(".amazonaws.com")?, false),
    };
    let (account, rest) = rest.split_once(".dkr.")?;
    let (service, region) = rest.split_once('.')?;
    let fips = match service {
        "ecr" => false,
        "ecr-fips" => true,
        _ => return None,
    };
    (label(account) && label(region)).then(|| EcrHost {
        account: account.into(),
        region: region.into(),
        fips,
        china,
    })
}

/// ECR's API endpoint for `h`.
fn api_url(env: &Snapshot, h: &EcrHost) -> String {
    let suffix = if h.china {
        "amazonaws.com.cn"
    } else {
        aws::dns_suffix(&h.region)
    };
    let default = if h.fips {
        format!("https://ecr-fips.{}.{suffix}", h.region)
    } else {
        format!("https://api.ecr.{}.{suffix}", h.region)
    };
    aws::endpoint(env, "ECR", default)
}

/// The SigV4 headers of a POST of `body` to `url` with `keys`.
pub(crate) fn signed_headers(
    keys: &aws::Keys,
    region: &str,
    url: &str,
    body: &[u8],
    at: SystemTime,
) -> Result<Vec<(String, String)>, Error> {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    let identity = aws_credential_types::Credentials::new(
        &keys.access_key_id,
        &keys.secret_access_key,
        keys.session_token.clone(),
        None,
        "kaniko-rs",
    )
    .into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("ecr")
        .time(at)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| fail(HELPER, format!("signing: {e}")))?
        .into();
    let headers = [("content-type", CONTENT_TYPE), ("x-amz-target", TARGET)];
    let request = SignableRequest::new("POST", url, headers.into_iter(), SignableBody::Bytes(body))
        .map_err(|e| fail(HELPER, format!("signing: {e}")))?;
    let (instructions, _) = sign(request, &params)
        .map_err(|e| fail(HELPER, format!("signing: {e}")))?
        .into_parts();
    let mut out: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    out.extend(
        instructions
            .headers()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    Ok(out)
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenAnswer {
    authorization_data: Vec<AuthorizationData>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizationData {
    authorization_token: String,
}

/// The registry's Basic credentials from ECR, or `None` for another host or without AWS
/// credentials.
pub(crate) async fn get(
    env: &Snapshot,
    ctx: &Ctx<'_>,
    host: &str,
) -> Result<Option<Credential>, Error> {
    let Some(h) = parse_host(host) else {
        return Ok(None);
    };
    let Some(keys) = aws::keys(env, ctx.web, &h.region).await? else {
        tracing::debug!("ecr: no AWS credentials for {host}");
        return Ok(None);
    };
    let url = format!("{}/", api_url(env, &h));
    let body = serde_json::json!({ "registryIds": [h.account] })
        .to_string()
        .into_bytes();
    let headers = signed_headers(&keys, &h.region, &url, &body, SystemTime::now())?;
    let answer = ctx
        .web
        .call(HELPER, "POST", &url, |mut r| {
            for (k, v) in headers {
                r = r.header(k, v);
            }
            r.body(body)
        })
        .await?;
    let t: TokenAnswer = json(HELPER, "GetAuthorizationToken", &answer)?;
    let token = t
        .authorization_data
        .into_iter()
        .next()
        .ok_or_else(|| {
            fail(
                HELPER,
                "GetAuthorizationToken answered no authorizationData",
            )
        })?
        .authorization_token;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .ok()
        .and_then(|d| String::from_utf8(d).ok())
        .ok_or_else(|| fail(HELPER, "the authorization token is not base64 text"))?;
    let (user, password) = decoded
        .split_once(':')
        .ok_or_else(|| fail(HELPER, "the authorization token is not user:password"))?;
    Ok(Some(Credential::Basic {
        username: user.to_string(),
        password: password.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(
            parse_host("123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
            Some(EcrHost {
                account: "123456789012".into(),
                region: "eu-west-1".into(),
                fips: false,
                china: false
            })
        );
        let f = parse_host("1.dkr.ecr-fips.us-gov-west-1.amazonaws.com").unwrap();
        assert!(f.fips);
        assert!(
            parse_host("1.dkr.ecr.cn-north-1.amazonaws.com.cn")
                .unwrap()
                .china
        );
        for h in [
            "gcr.io",
            "1.dkr.ecr.amazonaws.com",
            "x.dkr.s3.r.amazonaws.com",
            ".dkr.ecr.r.amazonaws.com",
            "1.dkr.ecr.r.amazonaws.com.evil",
        ] {
            assert_eq!(parse_host(h), None, "{h}");
        }
    }

    #[test]
    fn signature_is_sigv4() {
        let keys = aws::Keys {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: Some("session".into()),
        };
        let h = signed_headers(
            &keys,
            "us-east-1",
            "http://127.0.0.1:9/",
            b"{}",
            SystemTime::UNIX_EPOCH,
        )
        .unwrap();
        let get = |n: &str| {
            h.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.as_str())
        };
        let auth = get("authorization").unwrap();
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/19700101/us-east-1/ecr/aws4_request, SignedHeaders="), "{auth}");
        assert!(
            auth.contains("x-amz-target") && auth.contains("Signature="),
            "{auth}"
        );
        assert_eq!(get("x-amz-date"), Some("19700101T000000Z"));
        assert_eq!(get("x-amz-security-token"), Some("session"));
        assert_eq!(get("x-amz-target"), Some(TARGET));
    }
}
