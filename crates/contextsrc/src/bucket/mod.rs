//! Bucket contexts: one object in S3, Google Cloud Storage or Azure Blob Storage, read with
//! `object_store` and streamed into the extractor. Each provider module turns the
//! environment into a configured store; this one fetches and names failures.

mod aws_files;
mod azure;
mod gcs;
mod s3;

use crate::error::one_line;
use crate::source::{BucketUrl, Provider};
use crate::unpack::{extract_stream, runtime};
use crate::{Error, Options};
use futures_util::TryStreamExt;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, RetryConfig};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A configured store, the endpoint it talks to (for messages) and what to check when the
/// server refuses the credentials.
pub(crate) struct Store {
    pub store: Arc<dyn ObjectStore>,
    pub endpoint: String,
    pub credential_hint: &'static str,
}

/// Bounded waits: connecting, each read, and the retries of failed requests; names
/// resolved by our resolver (for the credential services too: object_store hands these
/// options to every client it makes).
pub(crate) fn client_options(allow_http: bool, resolver: &resolve::Resolver) -> ClientOptions {
    ClientOptions::new()
        .with_dns_resolver(Arc::new(Dns(resolver.clone())))
        .with_allow_http(allow_http)
        .with_connect_timeout(Duration::from_secs(10))
        .with_timeout_disabled()
        .with_read_timeout(Duration::from_secs(60))
}

pub(crate) fn retry() -> RetryConfig {
    RetryConfig {
        max_retries: 2,
        retry_timeout: Duration::from_secs(20),
        ..RetryConfig::default()
    }
}

/// Our resolver as object_store takes one.
#[derive(Debug)]
struct Dns(resolve::Resolver);

impl object_store::client::DnsResolver for Dns {
    fn resolve(&self, host: &str) -> object_store::client::DnsFuture {
        let (r, host) = (self.0.clone(), host.to_string());
        Box::pin(async move { Ok(r.lookup(&host).await?) })
    }
}

/// Downloads the object `url` names and unpacks it into `dest`.
pub(crate) fn fetch(url: &BucketUrl, opts: &Options, dest: &Path) -> Result<(), Error> {
    let location = url.display();
    let (env, resolver) = (&opts.env, &opts.resolver);
    let store = match url.provider {
        Provider::S3 => s3::store(url, env, resolver)?,
        Provider::Gcs => gcs::store(url, env, resolver)?,
        Provider::Azure => azure::store(url, env, resolver)?,
    };
    tracing::info!("Retrieving build context from {location}");
    tracing::debug!("object store endpoint {}", store.endpoint);
    let rt = runtime()?;
    let _inside = rt.enter();
    let path = object_store::path::Path::from(url.key.as_str());
    let got = match rt.block_on(store.store.get(&path)) {
        Ok(got) => got,
        Err(e @ object_store::Error::NotFound { .. }) => {
            // Servers answer 404 for a missing bucket too: their error code, or else a
            // listing, tells which it is.
            let bucket = missing_bucket(&e)
                || matches!(rt.block_on(store.store.list_with_delimiter(None)), Err(e) if missing_bucket(&e));
            let what = if bucket {
                "no such bucket"
            } else {
                "no such object"
            };
            return Err(Error::NotFound {
                location,
                what: what.into(),
            });
        }
        Err(e) => return Err(classify(e, &location, &store)),
    };
    let stream = got.into_stream().map_err(std::io::Error::other);
    extract_stream(&rt, stream, dest, &location, opts.expansion)?;
    tracing::info!("Retrieved build context from {location}");
    Ok(())
}

/// Whether an error says the bucket (or container) does not exist.
fn missing_bucket(e: &object_store::Error) -> bool {
    let text = crate::error::full_text(e);
    ["NoSuchBucket", "ContainerNotFound", "bucket does not exist"]
        .iter()
        .any(|c| text.contains(c))
}

/// Server error codes worth naming when a request is refused.
const CODES: [&str; 5] = [
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AccessDenied",
    "AuthenticationFailed",
    "ExpiredToken",
];

/// One line naming what went wrong, without the request's credentials.
fn classify(e: object_store::Error, location: &str, store: &Store) -> Error {
    let text = one_line(&e);
    let all = crate::error::full_text(&e);
    let code = CODES.iter().find(|c| all.contains(*c)).copied();
    let location = location.to_string();
    match e {
        object_store::Error::NotFound { .. } => Error::NotFound {
            location,
            what: "no such object".into(),
        },
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => {
            let hint = match code {
                Some(c) => format!("{c}: check {}", store.credential_hint),
                None => format!("check {}", store.credential_hint),
            };
            Error::Denied { location, hint }
        }
        _ if unreachable(&text) => Error::Unreachable {
            location,
            endpoint: store.endpoint.clone(),
            cause: text,
        },
        _ => Error::Remote {
            location,
            cause: text,
        },
    }
}

/// Whether an error's text says the connection itself failed.
pub(crate) fn unreachable(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    [
        "error sending request",
        "connection refused",
        "dns error",
        "timed out",
        "tcp connect",
        "client error (connect)",
    ]
    .iter()
    .any(|s| t.contains(s))
}
