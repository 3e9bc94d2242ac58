//! `transport-bench CLIENT REGISTRY FILE`: pushes FILE as one blob to the plain-http
//! registry at REGISTRY (`host:port`) with CLIENT (`kaniko-rs`, `oci-client` for its
//! streamed monolithic push, `oci-client-chunked` for its streamed PATCH push), then prints
//! the process's peak resident memory (VmHWM) and the time taken.

use futures_util::TryStreamExt;
use sha2::{Digest as _, Sha256};
use std::io::Read;
use std::path::Path;
use std::time::Instant;

fn sha256_of(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(format!("sha256:{}", hex::encode(h.finalize())));
        }
        h.update(&buf[..n]);
    }
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn ours(registry: &str, path: &Path, digest: &str, size: u64) -> Result<(), String> {
    let opts = registry::Options {
        insecure_registries: vec![registry.to_string()],
        ..Default::default()
    };
    let client = registry::Client::new(opts, registry::Keychain::default()).map_err(|e| e.to_string())?;
    let r: registry::Reference = format!("{registry}/bench/ours:latest")
        .parse()
        .map_err(|e: registry::Error| e.to_string())?;
    let desc = image::Descriptor {
        media_type: "application/octet-stream".into(),
        digest: digest.parse().map_err(|e| format!("{e:?}"))?,
        size,
        urls: None,
        annotations: None,
        platform: None,
    };
    client
        .upload_blob(&r, &desc, path, None)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

async fn oci(registry: &str, path: &Path, digest: &str, size: u64, chunked: bool) -> Result<(), String> {
    use oci_client::client::{ClientConfig, ClientProtocol};
    let config = ClientConfig {
        protocol: ClientProtocol::Http,
        use_monolithic_push: !chunked,
        ..Default::default()
    };
    let client = oci_client::Client::new(config);
    let r: oci_client::Reference = format!("{registry}/bench/oci:latest")
        .parse()
        .map_err(|e| format!("{e:?}"))?;
    let file = tokio::fs::File::open(path).await.map_err(|e| e.to_string())?;
    let stream = tokio_util::io::ReaderStream::with_capacity(file, 1 << 20)
        .map_err(oci_client::errors::OciDistributionError::from);
    client
        .push_blob_stream(&r, stream, digest, Some(size))
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, which, registry, file] = args.as_slice() else {
        eprintln!("usage: transport-bench kaniko-rs|oci-client|oci-client-chunked REGISTRY FILE");
        std::process::exit(2);
    };
    let path = Path::new(file);
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let digest = sha256_of(path).unwrap_or_default();
    let started = Instant::now();
    let result = match which.as_str() {
        "kaniko-rs" => ours(registry, path, &digest, size).await,
        "oci-client" => oci(registry, path, &digest, size, false).await,
        "oci-client-chunked" => oci(registry, path, &digest, size, true).await,
        other => Err(format!("unknown client {other}")),
    };
    if let Err(e) = result {
        eprintln!("{which}: {e}");
        std::process::exit(1);
    }
    println!(
        "{which}: {size} bytes in {:.1}s, peak RSS {} MiB",
        started.elapsed().as_secs_f64(),
        peak_rss_kib() / 1024
    );
}
