//! AWS credentials for the `ecr` helper, in the AWS SDKs' order: the environment
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), the profile's
//! static keys in the shared files (read by the SDKs' rules: the `awsfiles` crate), web
//! identity (`AWS_WEB_IDENTITY_TOKEN_FILE` with `AWS_ROLE_ARN`, exchanged at STS by AssumeRoleWithWebIdentity: EKS IRSA), container
//! credentials (`AWS_CONTAINER_CREDENTIALS_FULL_URI` or `_RELATIVE_URI`, with
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` or `_TOKEN`: EKS Pod Identity, ECS), then the
//! EC2 instance metadata service (IMDSv2; `AWS_EC2_METADATA_DISABLED=true` skips it).
//! Endpoints: `AWS_ENDPOINT_URL_STS` (else `AWS_ENDPOINT_URL`) for STS,
//! `AWS_EC2_METADATA_SERVICE_ENDPOINT` for the instance metadata service.

use super::web::{fail, form, json, xml_text};
use super::{Snapshot, Web};
use crate::Error;
use std::path::PathBuf;
use std::time::Duration;

const HELPER: &str = "ecr";
/// How long an absent metadata service is waited for (as the AWS SDKs do).
const METADATA_WAIT: Duration = Duration::from_secs(2);

pub(crate) use awsfiles::Keys;

/// The shared files and profile the environment names.
fn shared_files(env: &Snapshot) -> awsfiles::Files {
    awsfiles::Files::from_env(|k| env.var(k).map(str::to_string))
}

/// The files the chain may read.
pub(crate) fn files(env: &Snapshot) -> Vec<PathBuf> {
    let shared = shared_files(env);
    let named = [
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    ];
    named
        .iter()
        .filter_map(|v| env.var(v).map(PathBuf::from))
        .chain(shared.config)
        .chain(shared.credentials)
        .collect()
}

/// A service's endpoint: `AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`, else `default`.
pub(crate) fn endpoint(env: &Snapshot, service: &str, default: String) -> String {
    env.var(&format!("AWS_ENDPOINT_URL_{service}"))
        .or_else(|| env.var("AWS_ENDPOINT_URL"))
        .map_or(default, |u| u.trim_end_matches('/').to_string())
}

/// `amazonaws.com`, or `amazonaws.com.cn` in the China regions.
pub(crate) fn dns_suffix(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    }
}

/// The first source in the chain that has credentials; `None` when none has.
pub(crate) async fn keys(
    env: &Snapshot,
    web: Web<'_>,
    region: &str,
) -> Result<Option<Keys>, Error> {
    if let (Some(id), Some(secret)) = (
        env.var("AWS_ACCESS_KEY_ID"),
        env.var("AWS_SECRET_ACCESS_KEY"),
    ) {
        return Ok(Some(Keys {
            access_key_id: id.into(),
            secret_access_key: secret.into(),
            session_token: env.var("AWS_SESSION_TOKEN").map(str::to_string),
        }));
    }
    if let Some(k) = profile_keys(env)? {
        return Ok(Some(k));
    }
    if let Some(file) = env.var("AWS_WEB_IDENTITY_TOKEN_FILE") {
        return web_identity(env, web, region, file).await.map(Some);
    }
    let container = env
        .var("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .map(str::to_string)
        .or_else(|| {
            env.var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
                .map(|r| format!("http://169.254.170.2{r}"))
        });
    if let Some(uri) = container {
        return container_keys(env, web, &uri).await.map(Some);
    }
    if env
        .var("AWS_EC2_METADATA_DISABLED")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        return Ok(None);
    }
    instance_keys(env, web).await
}

/// Static keys of the profile in the shared files, if it has them. Files that could not be
/// read at start count as empty, as in the SDKs.
fn profile_keys(env: &Snapshot) -> Result<Option<Keys>, Error> {
    let shared = shared_files(env);
    let source = |p: &Option<PathBuf>| {
        let p = p.as_ref()?;
        Some(awsfiles::Source {
            name: p.display().to_string(),
            text: String::from_utf8_lossy(env.file(p).ok()?).into_owned(),
        })
    };
    let (config, credentials) = (source(&shared.config), source(&shared.credentials));
    awsfiles::Profile::read(&shared.profile, config.as_ref(), credentials.as_ref())
        .and_then(|p| p.keys())
        .map_err(|e| fail(HELPER, e.to_string()))
}

/// STS AssumeRoleWithWebIdentity with the token file's JWT (the request is not signed).
async fn web_identity(
    env: &Snapshot,
    web: Web<'_>,
    region: &str,
    file: &str,
) -> Result<Keys, Error> {
    let role = env.var("AWS_ROLE_ARN").ok_or_else(|| {
        fail(
            HELPER,
            "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not",
        )
    })?;
    let jwt = env
        .file(std::path::Path::new(file))
        .map_err(|e| fail(HELPER, e))?;
    let jwt = String::from_utf8_lossy(jwt).trim().to_string();
    let session = env.var("AWS_ROLE_SESSION_NAME").unwrap_or("kaniko");
    let url = endpoint(
        env,
        "STS",
        format!("https://sts.{region}.{}", dns_suffix(region)),
    );
    let body = form(&[
        ("Action", "AssumeRoleWithWebIdentity"),
        ("Version", "2011-06-15"),
        ("RoleArn", role),
        ("RoleSessionName", session),
        ("WebIdentityToken", &jwt),
    ]);
    let answer = web.post_form(HELPER, &format!("{url}/"), body).await?;
    let xml = String::from_utf8_lossy(&answer);
    let field = |tag| {
        xml_text(&xml, tag)
            .ok_or_else(|| fail(HELPER, format!("STS answer from {url} has no {tag}")))
    };
    Ok(Keys {
        access_key_id: field("AccessKeyId")?,
        secret_access_key: field("SecretAccessKey")?,
        session_token: Some(field("SessionToken")?),
    })
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Issued {
    access_key_id: String,
    secret_access_key: String,
    token: Option<String>,
}

impl From<Issued> for Keys {
    fn from(i: Issued) -> Keys {
        Keys {
            access_key_id: i.access_key_id,
            secret_access_key: i.secret_access_key,
            session_token: i.token,
        }
    }
}

/// Credentials from the container credentials endpoint.
async fn container_keys(env: &Snapshot, web: Web<'_>, uri: &str) -> Result<Keys, Error> {
    let token = match env.var("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
        Some(f) => {
            let t = env
                .file(std::path::Path::new(f))
                .map_err(|e| fail(HELPER, e))?;
            Some(String::from_utf8_lossy(t).trim().to_string())
        }
        None => env
            .var("AWS_CONTAINER_AUTHORIZATION_TOKEN")
            .map(str::to_string),
    };
    let body = web
        .call(HELPER, "GET", uri, |r| match token {
            Some(t) => r.header("Authorization", t),
            None => r,
        })
        .await?;
    Ok(json::<Issued>(HELPER, "container credentials", &body)?.into())
}

/// The instance role's credentials from IMDSv2; `None` when there is no metadata service.
async fn instance_keys(env: &Snapshot, web: Web<'_>) -> Result<Option<Keys>, Error> {
    let base = env
        .var("AWS_EC2_METADATA_SERVICE_ENDPOINT")
        .unwrap_or("http://169.254.169.254")
        .trim_end_matches('/')
        .to_string();
    let put =
        |r: reqwest::RequestBuilder| r.header("X-aws-ec2-metadata-token-ttl-seconds", "21600");
    let Some(token) = web
        .probe(
            HELPER,
            "PUT",
            &format!("{base}/latest/api/token"),
            METADATA_WAIT,
            put,
        )
        .await?
    else {
        return Ok(None);
    };
    let token = String::from_utf8_lossy(&token).trim().to_string();
    let roles_url = format!("{base}/latest/meta-data/iam/security-credentials/");
    let with = |r: reqwest::RequestBuilder| r.header("X-aws-ec2-metadata-token", token.clone());
    let roles = web.call(HELPER, "GET", &roles_url, with).await?;
    let roles = String::from_utf8_lossy(&roles).into_owned();
    let role = roles
        .lines()
        .next()
        .map(str::trim)
        .filter(|r| !r.is_empty() && !r.contains('/'));
    let role =
        role.ok_or_else(|| fail(HELPER, "the instance metadata service names no IAM role"))?;
    let body = web
        .call(HELPER, "GET", &format!("{roles_url}{role}"), with)
        .await?;
    Ok(Some(
        json::<Issued>(HELPER, "instance credentials", &body)?.into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::Builtins;
    use std::collections::HashMap;

    #[test]
    fn shared_file_profiles() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("credentials");
        std::fs::write(
            &f,
            "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s1\n\n[ci]\naws_access_key_id=AKIDCI\naws_secret_access_key=s2\naws_session_token=t\n",
        )
        .unwrap();
        let mut vars = HashMap::from([(
            "AWS_SHARED_CREDENTIALS_FILE".to_string(),
            f.display().to_string(),
        )]);
        let b = Builtins::new(Some(&[]), vars.clone());
        let k = profile_keys(&b.env).unwrap().unwrap();
        assert_eq!(
            (k.access_key_id.as_str(), k.session_token),
            ("AKIDDEFAULT", None)
        );
        vars.insert("AWS_PROFILE".into(), "ci".into());
        let b = Builtins::new(Some(&[]), vars.clone());
        let k = profile_keys(&b.env).unwrap().unwrap();
        assert_eq!(
            (k.access_key_id.as_str(), k.session_token.as_deref()),
            ("AKIDCI", Some("t"))
        );
        assert!(!format!("{k:?}").contains("s2"));
        vars.insert("AWS_PROFILE".into(), "none".into());
        let b = Builtins::new(Some(&[]), vars);
        assert!(profile_keys(&b.env).unwrap().is_none());
    }

    #[test]
    fn endpoints() {
        let b = Builtins::new(
            Some(&[]),
            HashMap::from([(
                "AWS_ENDPOINT_URL".to_string(),
                "http://127.0.0.1:9/".to_string(),
            )]),
        );
        assert_eq!(endpoint(&b.env, "ECR", "x".into()), "http://127.0.0.1:9");
        assert_eq!(dns_suffix("cn-north-1"), "amazonaws.com.cn");
    }
}
