//! Azure Blob Storage as kaniko reads it: the account is the URL's first host label and
//! the key `AZURE_STORAGE_ACCESS_KEY`. `AZURE_STORAGE_CONNECTION_STRING` (an emulator's
//! `BlobEndpoint`, `AccountName`, `AccountKey`, or `UseDevelopmentStorage=true`) points the
//! same URL at another endpoint.

use super::{client_options, retry, Store};
use crate::source::BucketUrl;
use crate::{Env, Error, Secret};
use object_store::azure::MicrosoftAzureBuilder;
use std::sync::Arc;

const HINT: &str = "AZURE_STORAGE_ACCESS_KEY (or the connection string's AccountKey)";
/// Azurite's well-known development account, as `UseDevelopmentStorage=true` means it.
const DEV_ACCOUNT: &str = "devstoreaccount1";
const DEV_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const DEV_ENDPOINT: &str = "http://127.0.0.1:10000/devstoreaccount1";

/// The parts of a connection string this reads.
#[derive(Debug, Default)]
struct Connection {
    account: Option<String>,
    key: Option<Secret>,
    endpoint: Option<String>,
}

fn parse_connection(s: &str) -> Connection {
    let mut c = Connection::default();
    for (k, v) in s.split(';').filter_map(|p| p.split_once('=')) {
        match k.trim() {
            "AccountName" => c.account = Some(v.trim().to_string()),
            "AccountKey" => c.key = Some(Secret::new(v.trim())),
            "BlobEndpoint" => c.endpoint = Some(v.trim().trim_end_matches('/').to_string()),
            "UseDevelopmentStorage" if v.trim().eq_ignore_ascii_case("true") => {
                c.account = Some(DEV_ACCOUNT.into());
                c.key = Some(Secret::new(DEV_KEY));
                c.endpoint = Some(DEV_ENDPOINT.into());
            }
            _ => {}
        }
    }
    c
}

pub(super) fn store(
    url: &BucketUrl,
    env: &Env,
    resolver: &resolve::Resolver,
) -> Result<Store, Error> {
    let conn = env
        .get("AZURE_STORAGE_CONNECTION_STRING")
        .map(parse_connection)
        .unwrap_or_default();
    let key = env
        .secret("AZURE_STORAGE_ACCESS_KEY")
        .or(conn.key)
        .ok_or_else(|| {
            Error::Config("AZURE_STORAGE_ACCESS_KEY environment variable is not set".into())
        })?;
    let account = conn
        .account
        .or_else(|| url.account.clone())
        .unwrap_or_default();
    let endpoint = conn
        .endpoint
        .unwrap_or_else(|| format!("https://{account}.blob.core.windows.net"));
    let allow_http = endpoint.starts_with("http://");
    let store = MicrosoftAzureBuilder::new()
        .with_account(&account)
        .with_container_name(&url.bucket)
        .with_access_key(key.expose())
        .with_endpoint(endpoint.clone())
        .with_client_options(client_options(allow_http, resolver))
        .with_retry(retry())
        .build()
        .map_err(|_| {
            Error::Config(format!(
                "Azure client for {}: the account key is not valid base64",
                url.display()
            ))
        })?;
    Ok(Store {
        store: Arc::new(store),
        endpoint,
        credential_hint: HINT,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_strings_name_endpoint_account_and_key() {
        let c = parse_connection("DefaultEndpointsProtocol=http;AccountName=a1;AccountKey=k==;BlobEndpoint=http://127.0.0.1:1/a1/;");
        assert_eq!(c.account.as_deref(), Some("a1"));
        assert_eq!(c.key.unwrap().expose(), "k==");
        assert_eq!(c.endpoint.as_deref(), Some("http://127.0.0.1:1/a1"));
        let d = parse_connection("UseDevelopmentStorage=true");
        assert_eq!(d.endpoint.as_deref(), Some(DEV_ENDPOINT));
    }
}
