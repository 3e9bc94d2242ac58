//! Google Cloud Storage as kaniko's Go client sees it: `GOOGLE_APPLICATION_CREDENTIALS`
//! (a service-account or authorized-user JSON file, else the metadata server), and
//! `STORAGE_EMULATOR_HOST` for an emulator, which takes no credentials.

use super::{client_options, retry, Store};
use crate::source::BucketUrl;
use crate::{Env, Error};
use object_store::client::{
    HttpClient, HttpConnector, HttpError, HttpRequest, HttpResponse, HttpService, ReqwestConnector,
};
use object_store::gcp::{GcpCredential, GoogleCloudStorageBuilder};
use object_store::{ClientOptions, StaticCredentialProvider};
use std::sync::Arc;

const HINT: &str = "GOOGLE_APPLICATION_CREDENTIALS";

pub(super) fn store(
    url: &BucketUrl,
    env: &Env,
    resolver: &resolve::Resolver,
) -> Result<Store, Error> {
    let creds = env.get("GOOGLE_APPLICATION_CREDENTIALS");
    let mut b = GoogleCloudStorageBuilder::new().with_bucket_name(&url.bucket);
    let (endpoint, allow_http) = match env.get("STORAGE_EMULATOR_HOST") {
        Some(host) => {
            // The emulator takes no credentials, but a bad file still fails here rather
            // than when the same settings meet the real service.
            if let Some(path) = creds {
                check_credentials(url, path, resolver)?;
            }
            let base = if host.contains("://") {
                host.trim_end_matches('/').to_string()
            } else {
                format!("http://{host}")
            };
            let anonymous = GcpCredential {
                bearer: String::new(),
            };
            b = b
                .with_base_url(&base)
                .with_credentials(Arc::new(StaticCredentialProvider::new(anonymous)))
                .with_http_connector(EmulatorConnector);
            let http = base.starts_with("http://");
            (base, http)
        }
        None => {
            if let Some(path) = creds {
                b = b.with_application_credentials(path);
            }
            ("https://storage.googleapis.com".to_string(), false)
        }
    };
    let store = b
        .with_client_options(client_options(allow_http, resolver))
        .with_retry(retry())
        .build()
        .map_err(|e| credentials_error(creds, &e))?;
    Ok(Store {
        store: Arc::new(store),
        endpoint,
        credential_hint: HINT,
    })
}

/// Builds a client from the credentials file alone, which reads and checks it.
fn check_credentials(
    url: &BucketUrl,
    path: &str,
    resolver: &resolve::Resolver,
) -> Result<(), Error> {
    GoogleCloudStorageBuilder::new()
        .with_bucket_name(&url.bucket)
        .with_application_credentials(path)
        .with_client_options(client_options(false, resolver))
        .build()
        .map(drop)
        .map_err(|e| credentials_error(Some(path), &e))
}

/// A builder error, blamed on the credentials file when there is one. The error's own text
/// is left out: a parser may quote the key.
fn credentials_error(path: Option<&str>, e: &object_store::Error) -> Error {
    match path {
        Some(p) => {
            let why = if std::path::Path::new(p).is_file() {
                "not a valid service-account or authorized-user key file"
            } else {
                "no such file"
            };
            Error::Config(format!("GOOGLE_APPLICATION_CREDENTIALS {p}: {why}"))
        }
        None => Error::Config(format!("GCS client: {}", crate::error::one_line(e))),
    }
}

/// The HTTP client for an emulator: emulators leave out `Last-Modified` and `ETag`, which
/// the client requires of every object; their values do not matter for one download.
#[derive(Debug)]
struct EmulatorConnector;

impl HttpConnector for EmulatorConnector {
    fn connect(&self, options: &ClientOptions) -> object_store::Result<HttpClient> {
        Ok(HttpClient::new(EmulatorService(
            ReqwestConnector::default().connect(options)?,
        )))
    }
}

#[derive(Debug)]
struct EmulatorService(HttpClient);

#[async_trait::async_trait]
impl HttpService for EmulatorService {
    async fn call(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        let mut resp = self.0.execute(req).await?;
        let headers = resp.headers_mut();
        let defaults = [
            (http::header::LAST_MODIFIED, "Thu, 01 Jan 1970 00:00:00 GMT"),
            (http::header::ETAG, "\"emulator\""),
        ];
        for (name, value) in defaults {
            if !headers.contains_key(&name) {
                headers.insert(name, http::HeaderValue::from_static(value));
            }
        }
        Ok(resp)
    }
}
