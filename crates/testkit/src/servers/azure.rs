//! Azurite's blob service (npm `azurite`) on a free loopback port with its well-known
//! development account; blobs are uploaded with Microsoft's Python client
//! (`azure-storage-blob`).

use super::{python_with_file, Process};
use crate::registry::free_port;
use anyhow::Result;
use std::process::Command;

/// Azurite's development account and its published key.
pub const ACCOUNT: &str = "devstoreaccount1";
pub const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

pub struct AzureServer {
    /// `http://127.0.0.1:PORT/devstoreaccount1`.
    pub blob_endpoint: String,
    _process: Process,
}

/// argv: connection-string container name file.
const PUT: &str = r#"
import sys
from azure.storage.blob import BlobServiceClient
conn, container, name, path = sys.argv[1:5]
svc = BlobServiceClient.from_connection_string(conn)
c = svc.get_container_client(container)
if not c.exists():
    c.create_container()
with open(path, "rb") as f:
    c.upload_blob(name, f, overwrite=True)
"#;

impl AzureServer {
    pub fn start() -> Result<AzureServer> {
        let dir = tempfile::Builder::new().prefix("azurite-").tempdir()?;
        let port = free_port()?;
        let mut cmd = Command::new("azurite-blob");
        cmd.args([
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            &port.to_string(),
            "--skipApiVersionCheck",
            "--location",
        ])
        .arg(dir.path());
        let process = Process::spawn(cmd, dir, port)?;
        Ok(AzureServer {
            blob_endpoint: format!("http://127.0.0.1:{port}/{ACCOUNT}"),
            _process: process,
        })
    }

    /// A connection string for this server, with `key` as the account key.
    pub fn connection_string(&self, key: &str) -> String {
        format!(
            "DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={key};BlobEndpoint={};",
            self.blob_endpoint
        )
    }

    /// Stores `bytes` as blob `name` in `container`, making the container if needed.
    pub fn put(&self, container: &str, name: &str, bytes: &[u8]) -> Result<()> {
        let conn = self.connection_string(KEY);
        python_with_file(PUT, &[&conn, container, name], bytes)?;
        Ok(())
    }
}
