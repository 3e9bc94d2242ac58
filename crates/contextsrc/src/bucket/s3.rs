//! S3 as kaniko's AWS SDK sees it: the `AWS_*` variables, the shared credentials and config
//! files, `S3_ENDPOINT` for another S3 server and `S3_FORCE_PATH_STYLE=true` for path-style
//! requests to it.

use super::{aws_files, client_options, retry, Store};
use crate::source::BucketUrl;
use crate::{Env, Error};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use std::sync::Arc;

const HINT: &str = "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (or the shared credentials file)";

pub(super) fn store(
    url: &BucketUrl,
    env: &Env,
    resolver: &resolve::Resolver,
) -> Result<Store, Error> {
    let mut b = AmazonS3Builder::new().with_bucket_name(&url.bucket);
    for (k, v) in env.with_prefix("AWS_") {
        // Endpoints come from S3_ENDPOINT alone, as in kaniko.
        if let Ok(key) = k.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() {
            if !matches!(
                key,
                AmazonS3ConfigKey::Endpoint | AmazonS3ConfigKey::S3Endpoint
            ) {
                b = b.with_config(key, v);
            }
        }
    }
    let (has_keys, has_region) = (
        env.get("AWS_ACCESS_KEY_ID").is_some(),
        env.get("AWS_REGION").is_some() || env.get("AWS_DEFAULT_REGION").is_some(),
    );
    // The shared files are read only for what the environment does not give.
    if !(has_keys && has_region) {
        let shared = aws_files::profile(env)?;
        let keys = match has_keys {
            true => None,
            false => shared.keys()?,
        };
        if let Some(k) = keys {
            b = b
                .with_access_key_id(k.access_key_id)
                .with_secret_access_key(k.secret_access_key);
            if let Some(t) = k.session_token {
                b = b.with_token(t);
            }
        }
        if !has_region {
            b = b.with_region(shared.region().unwrap_or("us-east-1"));
        }
    }
    let (endpoint, allow_http) = match env.get("S3_ENDPOINT") {
        Some(ep) => {
            let path_style = env
                .get("S3_FORCE_PATH_STYLE")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"));
            let endpoint = if path_style {
                ep.trim_end_matches('/').to_string()
            } else {
                virtual_host(ep, &url.bucket)?
            };
            b = b
                .with_endpoint(&endpoint)
                .with_virtual_hosted_style_request(!path_style);
            (endpoint, ep.starts_with("http://"))
        }
        // AWS itself: virtual-hosted requests unless the bucket name has dots.
        None => {
            b = b.with_virtual_hosted_style_request(!url.bucket.contains('.'));
            ("https://s3.amazonaws.com".to_string(), false)
        }
    };
    let store = b
        .with_client_options(client_options(allow_http, resolver))
        .with_retry(retry())
        .build()
        .map_err(|e| {
            Error::Config(format!(
                "S3 client for {}: {}",
                url.display(),
                crate::error::one_line(&e)
            ))
        })?;
    Ok(Store {
        store: Arc::new(store),
        endpoint,
        credential_hint: HINT,
    })
}

/// `scheme://bucket.host[:port]`: the endpoint of a virtual-hosted request.
fn virtual_host(endpoint: &str, bucket: &str) -> Result<String, Error> {
    let mut u = url::Url::parse(endpoint)
        .map_err(|e| Error::Config(format!("S3_ENDPOINT {endpoint:?}: {e}")))?;
    let host = u
        .host_str()
        .ok_or_else(|| Error::Config(format!("S3_ENDPOINT {endpoint:?} names no host")))?
        .to_string();
    u.set_host(Some(&format!("{bucket}.{host}")))
        .map_err(|e| Error::Config(format!("S3_ENDPOINT {endpoint:?}: {e}")))?;
    Ok(u.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn virtual_hosts_put_the_bucket_first() {
        assert_eq!(
            super::virtual_host("http://minio.local:9000/", "ctx").unwrap(),
            "http://ctx.minio.local:9000"
        );
    }
}
