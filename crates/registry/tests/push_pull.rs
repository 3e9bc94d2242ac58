//! Push and pull against the real distribution registry: plain, basic auth and token auth;
//! HEAD skips, cross-repository mounts, registry errors, indexes, and a large streamed upload.

mod common;

use common::*;
use image::{media, Digest, Platform};
use registry::{Client, ImagePush, LayerData, Uploaded};
use testkit::registry::{Auth, Registry};

fn creds() -> (String, String) {
    ("kaniko".into(), "s3cret-Pa55".into())
}

#[tokio::test]
async fn plain_registry_roundtrip_and_mount() {
    let reg = Registry::start(Auth::None, false).unwrap();
    let c = client(&reg);
    roundtrip(&c, &reference(&reg, "plain/app:v1")).await;
    let got = mount(
        &c,
        &reference(&reg, "plain/src:1"),
        &reference(&reg, "plain/dst:1"),
    )
    .await;
    assert_eq!(got, Uploaded::Mounted);
}

#[tokio::test]
async fn plain_http_is_found_for_loopback_without_flags() {
    let reg = Registry::start(Auth::None, false).unwrap();
    let c = Client::new(registry::Options::default(), keychain(&reg, None)).unwrap();
    let r = reference(&reg, "noflags/app:1");
    let pushed = push_image(&c, &r, "linux/amd64").await;
    assert_eq!(pushed.uploads, [Uploaded::Uploaded, Uploaded::Uploaded]);
}

#[tokio::test]
async fn basic_auth_roundtrip_mount_and_wrong_password() {
    let (user, password) = creds();
    let reg = Registry::start(
        Auth::Basic {
            user: user.clone(),
            password,
        },
        false,
    )
    .unwrap();
    let c = client(&reg);
    roundtrip(&c, &reference(&reg, "basic/app:v1")).await;
    let got = mount(
        &c,
        &reference(&reg, "basic/src:1"),
        &reference(&reg, "basic/dst:1"),
    )
    .await;
    assert_eq!(got, Uploaded::Mounted);

    let wrong = Client::new(
        options(&reg),
        keychain(&reg, Some((&user, "wrong-Pa55word"))),
    )
    .unwrap();
    let err = wrong
        .pull_image(
            &reference(&reg, "basic/app:v1"),
            &Platform::parse("linux/amd64").unwrap(),
        )
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert_eq!(err.status(), Some(401), "{msg}");
    assert!(
        msg.contains("401") && msg.contains("/v2/basic/app/manifests/v1"),
        "{msg}"
    );
    assert!(msg.contains("UNAUTHORIZED"), "{msg}");
    assert!(!msg.contains("wrong-Pa55word") && !format!("{err:?}").contains("wrong-Pa55word"));

    let anonymous = Client::new(options(&reg), keychain(&reg, None)).unwrap();
    let err = anonymous
        .check_push_permission(&reference(&reg, "basic/app:v1"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
}

#[tokio::test]
async fn token_auth_roundtrip_mount_and_wrong_password() {
    let (user, password) = creds();
    let reg = Registry::start(
        Auth::Token {
            user: user.clone(),
            password: password.clone(),
        },
        false,
    )
    .unwrap();
    let c = client(&reg);
    roundtrip(&c, &reference(&reg, "token/app:v1")).await;
    // Tokens are cached per scope: pulling again asks the token service nothing.
    let asked = reg.token_requests();
    assert!(asked >= 2, "{asked}");
    c.pull_image(
        &reference(&reg, "token/app:v1"),
        &Platform::parse("linux/amd64").unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(reg.token_requests(), asked);
    let got = mount(
        &c,
        &reference(&reg, "token/src:1"),
        &reference(&reg, "token/dst:1"),
    )
    .await;
    assert_eq!(got, Uploaded::Mounted);

    let wrong = Client::new(
        options(&reg),
        keychain(&reg, Some((&user, "wrong-Pa55word"))),
    )
    .unwrap();
    let err = wrong
        .upload_blob(
            &reference(&reg, "token/app:v1"),
            &blob_file(
                tempfile::tempdir().unwrap().path(),
                "x",
                b"x",
                media::OCI_LAYER_GZIP,
            )
            .1,
            std::path::Path::new("/nonexistent"),
            None,
        )
        .await
        .unwrap_err();
    let msg = format!("{err} {err:?}");
    assert_eq!(err.status(), Some(401), "{msg}");
    assert!(msg.contains(reg.token_realm().unwrap()), "{msg}");
    assert!(
        !msg.contains("wrong-Pa55word") && !msg.contains(&password),
        "{msg}"
    );
}

#[tokio::test]
async fn registry_errors_name_status_url_and_code() {
    let reg = Registry::start(Auth::None, false).unwrap();
    let c = client(&reg);
    let err = c
        .pull_image(
            &reference(&reg, "missing/app:nope"),
            &Platform::parse("linux/amd64").unwrap(),
        )
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert_eq!(err.status(), Some(404));
    assert!(
        msg.contains(&format!(
            "http://{}/v2/missing/app/manifests/nope",
            reg.addr
        )),
        "{msg}"
    );
    assert!(msg.contains("MANIFEST_UNKNOWN"), "{msg}");
    // A tagged manifest push with a blob the registry lacks is refused with its code.
    let r = reference(&reg, "missing/app:v1");
    let manifest = serde_json::json!({
        "schemaVersion": 2, "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": media::OCI_CONFIG, "digest": Digest::sha256(b"none").to_string(), "size": 4},
        "layers": [],
    });
    let err = c
        .put_manifest(&r, manifest.to_string().as_bytes(), media::OCI_MANIFEST)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    assert!(err.to_string().contains("MANIFEST_BLOB_UNKNOWN"), "{err}");
}

#[tokio::test]
async fn index_resolves_the_requested_platform() {
    let reg = Registry::start(Auth::None, false).unwrap();
    let c = client(&reg);
    let amd = push_image(&c, &reference(&reg, "multi/app:amd64"), "linux/amd64").await;
    let arm = push_image(&c, &reference(&reg, "multi/app:arm64"), "linux/arm64/v8").await;
    let entry = |p: &common::Pushed, arch: &str, variant: Option<&str>| {
        let mut platform = serde_json::json!({"os": "linux", "architecture": arch});
        if let Some(v) = variant {
            platform["variant"] = v.into();
        }
        serde_json::json!({"mediaType": media::DOCKER_MANIFEST, "digest": p.digest.to_string(),
            "size": p.manifest.len(), "platform": platform})
    };
    let index = serde_json::json!({
        "schemaVersion": 2, "mediaType": media::OCI_INDEX,
        "manifests": [entry(&amd, "amd64", None), entry(&arm, "arm64", Some("v8"))],
    })
    .to_string();
    let r = reference(&reg, "multi/app:latest");
    let index_digest = c
        .put_manifest(&r, index.as_bytes(), media::OCI_INDEX)
        .await
        .unwrap();
    assert_eq!(index_digest, Digest::sha256(index.as_bytes()));

    let img = c
        .pull_image(&r, &Platform::parse("linux/arm64").unwrap())
        .await
        .unwrap();
    assert_eq!(img.reference.digest.as_ref(), Some(&arm.digest));
    assert_eq!(img.config.architecture, "arm64");
    assert_eq!(img.manifest.layers[0].digest, arm.layer.digest);
    let img = c
        .pull_image(&r, &Platform::parse("linux/amd64").unwrap())
        .await
        .unwrap();
    assert_eq!(img.reference.digest.as_ref(), Some(&amd.digest));

    // By digest: the index digest is verified and resolved the same way.
    let by_digest = r.with_digest(index_digest);
    let img = c
        .pull_image(&by_digest, &Platform::parse("linux/arm64/v8").unwrap())
        .await
        .unwrap();
    assert_eq!(img.config.architecture, "arm64");

    let err = c
        .pull_image(&r, &Platform::parse("linux/s390x").unwrap())
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("linux/s390x") && msg.contains("linux/arm64/v8"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_300_mib_sparse_file_streams_up() {
    let reg = Registry::start(Auth::None, false).unwrap();
    let c = client(&reg);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big");
    let size: u64 = 300 << 20;
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(size).unwrap();
    drop(f);
    let mut w = image::Sha256Writer::new(std::io::sink());
    std::io::copy(&mut std::fs::File::open(&path).unwrap(), &mut w).unwrap();
    let (_, digest, n) = w.finish();
    assert_eq!(n, size);
    let desc = image::Descriptor {
        media_type: media::OCI_LAYER_TAR.into(),
        digest: digest.clone(),
        size,
        urls: None,
        annotations: None,
        platform: None,
    };
    let r = reference(&reg, "big/blob:1");
    assert_eq!(
        c.upload_blob(&r, &desc, &path, None).await.unwrap(),
        Uploaded::Uploaded
    );
    assert!(c.blob_exists(&r, &digest).await.unwrap());
    // And back as a stream, verified at the end.
    let mut reader = c.blob_reader(&r, &digest).await.unwrap();
    let got = tokio::io::copy(&mut reader, &mut tokio::io::sink())
        .await
        .unwrap();
    assert_eq!(got, size);
}

/// A keychain from a raw `auths` entry for `reg`.
fn keychain_entry(reg: &Registry, entry: serde_json::Value) -> registry::Keychain {
    let dir = tempfile::tempdir().unwrap();
    let config = serde_json::json!({"auths": {reg.addr.clone(): entry}});
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    registry::Keychain::from_dir(dir.path()).unwrap()
}

#[tokio::test]
async fn identity_and_registry_tokens() {
    let (user, password) = creds();
    let reg = Registry::start(
        Auth::Token {
            user: user.clone(),
            password: password.clone(),
        },
        false,
    )
    .unwrap();
    // identitytoken: an OAuth2 refresh token POSTed to the realm (the test service takes
    // the password as the refresh token).
    let kc = keychain_entry(&reg, serde_json::json!({"identitytoken": password}));
    let c = Client::new(options(&reg), kc).unwrap();
    let r = reference(&reg, "oauth/app:v1");
    let pushed = push_image(&c, &r, "linux/amd64").await;
    assert_eq!(pushed.uploads, [Uploaded::Uploaded, Uploaded::Uploaded]);
    c.pull_image(&r, &Platform::parse("linux/amd64").unwrap())
        .await
        .unwrap();
    let kc = keychain_entry(&reg, serde_json::json!({"identitytoken": "stale-refresh"}));
    let err = Client::new(options(&reg), kc)
        .unwrap()
        .pull_image(&r, &Platform::parse("linux/amd64").unwrap())
        .await
        .unwrap_err();
    let msg = format!("{err} {err:?}");
    assert_eq!(err.status(), Some(401), "{msg}");
    assert!(!msg.contains("stale-refresh"), "{msg}");

    // registrytoken: a bearer token used as is; it only grants what it was issued for.
    let realm = reg.token_realm().unwrap().to_string();
    let token: serde_json::Value = reqwest::Client::new()
        .get(&realm)
        .query(&[
            ("service", "testkit-registry"),
            ("scope", "repository:oauth/app:pull"),
        ])
        .basic_auth(&user, Some(&password))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap();
    let kc = keychain_entry(&reg, serde_json::json!({"registrytoken": token}));
    let c = Client::new(options(&reg), kc).unwrap();
    let img = c
        .pull_image(&r, &Platform::parse("linux/amd64").unwrap())
        .await
        .unwrap();
    assert_eq!(img.reference.digest.as_ref(), Some(&pushed.digest));
    let err = c
        .check_push_permission(&reference(&reg, "other/app:v1"))
        .await
        .unwrap_err();
    let msg = format!("{err} {err:?}");
    assert_eq!(err.status(), Some(401), "{msg}");
    assert!(!msg.contains(token), "{msg}");
}

#[tokio::test]
async fn manifest_and_config_layer_counts_must_agree() {
    let reg = Registry::start(Auth::None, false).unwrap();
    let c = client(&reg);
    let r = reference(&reg, "test/inconsistent:1");
    let pushed = push_image(&c, &r, "linux/amd64").await;
    // The same config (one diff_id) under a manifest listing the layer twice.
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": media::DOCKER_MANIFEST,
        "config": pushed.config, "layers": [pushed.layer, pushed.layer],
    }))
    .unwrap();
    c.put_manifest(&r, &manifest, media::DOCKER_MANIFEST)
        .await
        .unwrap();
    let err = c
        .pull_image(&r, &Platform::parse("linux/amd64").unwrap())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("2 layers") && err.contains("1 diff_ids"),
        "{err}"
    );
}

/// A whole image through `push_image`: a base layer mounted from its repository (never
/// fetched), a new layer and the config sent from bytes, then the manifest; pulled back
/// whole.
#[tokio::test]
async fn push_image_mounts_base_layers_and_sends_bytes() {
    let reg = Registry::start(Auth::None, false).unwrap();
    let c = client(&reg);
    let base_ref = reference(&reg, "base/app:1");
    let base = push_image(&c, &base_ref, "linux/amd64").await;
    let new_bytes = b"a new layer".to_vec();
    let (_, new_layer) = blob_file(
        tempfile::tempdir().unwrap().path(),
        "new",
        &new_bytes,
        media::DOCKER_LAYER_GZIP,
    );
    let config_bytes = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [base.layer.digest, new_layer.digest]},
    }))
    .unwrap();
    let config = image::Descriptor {
        media_type: media::DOCKER_CONFIG.into(),
        digest: Digest::sha256(&config_bytes),
        size: config_bytes.len() as u64,
        urls: None,
        annotations: None,
        platform: None,
    };
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": media::DOCKER_MANIFEST,
        "config": config, "layers": [base.layer, new_layer],
    }))
    .unwrap();
    let image = ImagePush {
        layers: vec![
            (&base.layer, LayerData::Repository(&base_ref)),
            (&new_layer, LayerData::Blob(new_bytes.as_slice().into())),
        ],
        config: &config,
        config_bytes: &config_bytes,
        manifest: &manifest,
        media_type: media::DOCKER_MANIFEST,
    };
    let dest = reference(&reg, "dest/app:1");
    let fetched = std::sync::atomic::AtomicUsize::new(0);
    let fetch = |_: usize| {
        fetched.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        std::future::ready(Err::<std::path::PathBuf, _>(registry::Error::Protocol(
            "fetched".into(),
        )))
    };
    let digest: Digest = c.push_image(&dest, &image, fetch).await.unwrap();
    assert_eq!(digest, Digest::sha256(&manifest));
    assert_eq!(fetched.load(std::sync::atomic::Ordering::SeqCst), 0);
    let pulled = c
        .pull_image(&dest, &Platform::parse("linux/amd64").unwrap())
        .await
        .unwrap();
    assert_eq!(pulled.digest, digest);
    assert_eq!(pulled.config_bytes, config_bytes);
    for layer in [&base.layer, &new_layer] {
        assert!(c.blob_exists(&dest, &layer.digest).await.unwrap());
    }
}
