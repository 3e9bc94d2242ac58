//! Shared helpers: a client for a test registry, and an image (one layer, a config, a
//! manifest) pushed through the client under test.
#![allow(dead_code)]

use image::{media, Descriptor, Digest, Platform};
use registry::{Client, Keychain, Options, Reference, Uploaded};
use std::path::{Path, PathBuf};
use testkit::registry::Registry;

/// A keychain holding (user, password) for `reg`, or an empty one.
pub fn keychain(reg: &Registry, cred: Option<(&str, &str)>) -> Keychain {
    let dir = tempfile::tempdir().unwrap();
    if let Some((u, p)) = cred {
        std::fs::write(dir.path().join("config.json"), reg.docker_config(u, p)).unwrap();
    }
    Keychain::from_dir(dir.path()).unwrap()
}

/// Options for a registry: plain http is allowed on both sides; TLS trusts its CA.
pub fn options(reg: &Registry) -> Options {
    let mut o = Options {
        insecure_registries: vec![reg.addr.clone()],
        ..Options::default()
    };
    if let Some(ca) = &reg.ca_cert {
        o.ca_certs.push((reg.addr.clone(), ca.clone()));
    }
    o
}

/// A client for `reg` with its own credentials (if any).
pub fn client(reg: &Registry) -> Client {
    Client::new(options(reg), keychain(reg, reg.credentials())).unwrap()
}

pub fn reference(reg: &Registry, repo_tag: &str) -> Reference {
    format!("{}/{repo_tag}", reg.addr).parse().unwrap()
}

/// Writes `bytes` to a file in `dir` and describes it.
pub fn blob_file(dir: &Path, name: &str, bytes: &[u8], media_type: &str) -> (PathBuf, Descriptor) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let desc = Descriptor {
        media_type: media_type.into(),
        digest: Digest::sha256(bytes),
        size: bytes.len() as u64,
        urls: None,
        annotations: None,
        platform: None,
    };
    (path, desc)
}

/// What [`push_image`] pushed.
pub struct Pushed {
    pub layer: Descriptor,
    pub layer_bytes: Vec<u8>,
    pub config: Descriptor,
    pub manifest: Vec<u8>,
    pub digest: Digest,
    pub uploads: Vec<Uploaded>,
}

/// Pushes a one-layer Docker schema 2 image for `platform` (the layer's content and the
/// config's architecture name the platform, so two platforms give different blobs).
pub async fn push_image(c: &Client, r: &Reference, platform: &str) -> Pushed {
    let dir = tempfile::tempdir().unwrap();
    let p = Platform::parse(platform).unwrap();
    let layer_bytes = format!("layer for {platform} {}", r.repository).into_bytes();
    let (layer_path, layer) =
        blob_file(dir.path(), "layer", &layer_bytes, media::DOCKER_LAYER_GZIP);
    let config_json = serde_json::json!({
        "architecture": p.architecture, "os": p.os,
        "config": {"Env": ["PLATFORM=".to_string() + platform]},
        "rootfs": {"type": "layers", "diff_ids": [layer.digest.to_string()]},
    });
    let (config_path, config) = blob_file(
        dir.path(),
        "config",
        config_json.to_string().as_bytes(),
        media::DOCKER_CONFIG,
    );
    let mut uploads = Vec::new();
    for (path, desc) in [(&layer_path, &layer), (&config_path, &config)] {
        uploads.push(c.upload_blob(r, desc, path, None).await.unwrap());
    }
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": media::DOCKER_MANIFEST,
        "config": config, "layers": [layer],
    }))
    .unwrap();
    let digest = c
        .put_manifest(r, &manifest, media::DOCKER_MANIFEST)
        .await
        .unwrap();
    Pushed {
        layer,
        layer_bytes,
        config,
        manifest,
        digest,
        uploads,
    }
}

/// Pushes and pulls back through the client: manifest, config and the layer stream.
pub async fn roundtrip(c: &Client, r: &Reference) {
    let pushed = push_image(c, r, "linux/amd64").await;
    assert_eq!(pushed.digest, Digest::sha256(&pushed.manifest));
    assert_eq!(pushed.uploads, [Uploaded::Uploaded, Uploaded::Uploaded]);

    let img = c
        .pull_image(r, &Platform::parse("linux/amd64").unwrap())
        .await
        .unwrap();
    assert_eq!(img.manifest_bytes, pushed.manifest);
    assert_eq!(img.media_type, media::DOCKER_MANIFEST);
    assert_eq!(img.reference.digest.as_ref(), Some(&pushed.digest));
    assert_eq!(img.manifest.layers, vec![pushed.layer.clone()]);
    assert_eq!(img.config.architecture, "amd64");
    assert_eq!(Digest::sha256(&img.config_bytes), pushed.config.digest);

    let mut body = Vec::new();
    let mut reader = c.blob_reader(r, &pushed.layer.digest).await.unwrap();
    tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut body)
        .await
        .unwrap();
    assert_eq!(body, pushed.layer_bytes);

    // A second push finds every blob by HEAD.
    let again = push_image(c, r, "linux/amd64").await;
    assert_eq!(again.uploads, [Uploaded::Existed, Uploaded::Existed]);
    assert!(c.blob_exists(r, &pushed.config.digest).await.unwrap());
    assert!(!c
        .blob_exists(r, &Digest::sha256(b"never pushed"))
        .await
        .unwrap());
    c.check_push_permission(r).await.unwrap();
}

/// Pushes a blob to `from`, then uploads it to `to` with a mount.
pub async fn mount(c: &Client, from: &Reference, to: &Reference) -> Uploaded {
    let dir = tempfile::tempdir().unwrap();
    let bytes = format!("mountable {}", to.repository).into_bytes();
    let (path, desc) = blob_file(dir.path(), "b", &bytes, media::OCI_LAYER_GZIP);
    assert_eq!(
        c.upload_blob(from, &desc, &path, None).await.unwrap(),
        Uploaded::Uploaded
    );
    let got = c.upload_blob(to, &desc, &path, Some(from)).await.unwrap();
    assert!(c.blob_exists(to, &desc.digest).await.unwrap());
    got
}

/// Short waits, so retry tests stay fast.
pub fn quick_tuning() -> registry::Tuning {
    registry::Tuning {
        retry_initial: std::time::Duration::from_millis(50),
        retry_max: std::time::Duration::from_secs(2),
        ..registry::Tuning::default()
    }
}

/// A client for the plain-http registry (or proxy) at `addr`, retrying `retries` times on
/// both sides.
pub fn client_at(addr: &str, keychain: Keychain, retries: u32, tuning: registry::Tuning) -> Client {
    let opts = Options {
        insecure_registries: vec![addr.to_string()],
        pull_retries: retries,
        push_retries: retries,
        ..Options::default()
    };
    Client::with_tuning(opts, keychain, tuning).unwrap()
}

/// Reads a blob to its end through the client.
pub async fn read_blob(c: &Client, r: &Reference, digest: &Digest) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    let mut reader = c.blob_reader(r, digest).await.map_err(|e| e.to_string())?;
    tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut body)
        .await
        .map_err(|e| e.to_string())?;
    Ok(body)
}

/// `addr/repo_tag` as a reference.
pub fn reference_at(addr: &str, repo_tag: &str) -> Reference {
    format!("{addr}/{repo_tag}").parse().unwrap()
}
