//! The `gcp-storage-emulator` (PyPI) on a free loopback port, in memory. Buckets and objects
//! are made through its JSON API with Python's standard library.

use super::{python_with_file, Process};
use crate::registry::free_port;
use anyhow::Result;
use std::process::Command;

pub struct GcsServer {
    /// `127.0.0.1:PORT`, as `STORAGE_EMULATOR_HOST` takes it.
    pub host: String,
    _process: Process,
}

/// argv: base bucket name file. Makes the bucket if new, then uploads the file.
const PUT: &str = r#"
import sys, json, urllib.request, urllib.parse, urllib.error
base, bucket, name, path = sys.argv[1:5]
req = urllib.request.Request(base + "/storage/v1/b", data=json.dumps({"name": bucket}).encode(),
                             headers={"Content-Type": "application/json"}, method="POST")
try:
    urllib.request.urlopen(req, timeout=30)
except urllib.error.HTTPError as e:
    if e.code != 409:
        raise
url = base + "/upload/storage/v1/b/" + bucket + "/o?uploadType=media&name=" + urllib.parse.quote(name, safe="")
data = open(path, "rb").read()
urllib.request.urlopen(urllib.request.Request(url, data=data, method="POST",
                       headers={"Content-Type": "application/octet-stream"}), timeout=30)
"#;

impl GcsServer {
    pub fn start() -> Result<GcsServer> {
        let dir = tempfile::Builder::new().prefix("gcs-").tempdir()?;
        let port = free_port()?;
        // The module, as pip installed it for this python3 (its script may not be on PATH).
        let mut cmd = Command::new("python3");
        cmd.args([
            "-m",
            "gcp_storage_emulator",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--in-memory",
        ]);
        let process = Process::spawn(cmd, dir, port)?;
        Ok(GcsServer {
            host: format!("127.0.0.1:{port}"),
            _process: process,
        })
    }

    /// Stores `bytes` as `bucket/name`, making the bucket if needed.
    pub fn put(&self, bucket: &str, name: &str, bytes: &[u8]) -> Result<()> {
        let base = format!("http://{}", self.host);
        python_with_file(PUT, &[&base, bucket, name], bytes)?;
        Ok(())
    }
}
