//! TLS (trusted CA, skipped verification, untrusted certificate) and where pulls go:
//! Docker Hub mirrors in order, registry maps for any registry.

mod common;

use common::*;
use image::Platform;
use registry::{Client, Options, Reference};
use testkit::registry::{Auth, Registry};

fn amd64() -> Platform {
    Platform::parse("linux/amd64").unwrap()
}

#[tokio::test]
async fn tls_with_the_ca_certificate() {
    let reg = Registry::start(Auth::None, true).unwrap();
    let opts = Options {
        ca_certs: vec![(reg.addr.clone(), reg.ca_cert.clone().unwrap())],
        ..Options::default()
    };
    let c = Client::new(opts, keychain(&reg, None)).unwrap();
    roundtrip(&c, &reference(&reg, "tls/app:v1")).await;
}

#[tokio::test]
async fn tls_with_skip_verify_per_side_and_per_registry() {
    let reg = Registry::start(Auth::None, true).unwrap();
    let r = reference(&reg, "tls/skip:v1");
    let push_side = Options {
        skip_tls_verify_push: true,
        ..Options::default()
    };
    let c = Client::new(push_side, keychain(&reg, None)).unwrap();
    push_image(&c, &r, "linux/amd64").await;
    // The push-side flag does not cover pulls.
    let err = c.pull_image(&r, &amd64()).await.unwrap_err().to_string();
    assert!(err.contains("certificate"), "{err}");

    let per_registry = Options {
        skip_tls_verify_registries: vec![reg.addr.clone()],
        ..Options::default()
    };
    let c = Client::new(per_registry, keychain(&reg, None)).unwrap();
    c.pull_image(&r, &amd64()).await.unwrap();
    let pull_side = Options {
        skip_tls_verify_pull: true,
        ..Options::default()
    };
    let c = Client::new(pull_side, keychain(&reg, None)).unwrap();
    c.pull_image(&r, &amd64()).await.unwrap();
}

#[tokio::test]
async fn tls_without_the_ca_names_the_certificate_problem() {
    let reg = Registry::start(Auth::None, true).unwrap();
    // Even with http allowed, a TLS registry keeps https and its certificate error.
    let opts = Options {
        insecure_registries: vec![reg.addr.clone()],
        ..Options::default()
    };
    let c = Client::new(opts, keychain(&reg, None)).unwrap();
    let err = c
        .pull_image(&reference(&reg, "tls/app:v1"), &amd64())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("certificate"), "{err}");
    assert!(err.contains(&format!("https://{}/v2/", reg.addr)), "{err}");
}

#[tokio::test]
async fn docker_hub_mirrors_in_order_without_default_fallback() {
    let empty = Registry::start(Auth::None, false).unwrap();
    let full = Registry::start(Auth::None, false).unwrap();
    let c = client(&full);
    let pushed = push_image(
        &c,
        &reference(&full, "library/kaniko-test:1"),
        "linux/amd64",
    )
    .await;
    let opts = Options {
        mirrors: vec![empty.addr.clone(), full.addr.clone()],
        skip_default_fallback: true,
        ..Options::default()
    };
    let c = Client::new(opts, keychain(&full, None)).unwrap();
    let hub: Reference = "kaniko-test:1".parse().unwrap();
    let img = c.pull_image(&hub, &amd64()).await.unwrap();
    assert_eq!(img.reference.registry, full.addr);
    assert_eq!(img.reference.repository, "library/kaniko-test");
    assert_eq!(img.reference.digest.as_ref(), Some(&pushed.digest));
    // Layers then come from where the image was found.
    let mut r = c
        .blob_reader(&img.reference, &pushed.layer.digest)
        .await
        .unwrap();
    let mut body = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut r, &mut body)
        .await
        .unwrap();
    assert_eq!(body, pushed.layer_bytes);

    // Not on any mirror and no fallback: the last mirror's answer, Docker Hub never asked.
    let err = c
        .pull_image(&"kaniko-absent:1".parse().unwrap(), &amd64())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404), "{err}");
    assert!(err.to_string().contains(&full.addr), "{err}");
}

#[tokio::test]
async fn registry_map_rewrites_any_registry_with_a_prefix() {
    let reg = Registry::start(Auth::None, false).unwrap();
    let c = client(&reg);
    let pushed = push_image(&c, &reference(&reg, "cache/team/app:2"), "linux/amd64").await;
    let opts = Options {
        registry_maps: vec![(
            "registry.invalid".into(),
            vec!["127.0.0.1:1".into(), format!("{}/cache", reg.addr)],
        )],
        skip_default_fallback: true,
        ..Options::default()
    };
    let c = Client::new(opts, keychain(&reg, None)).unwrap();
    let img = c
        .pull_image(&"registry.invalid/team/app:2".parse().unwrap(), &amd64())
        .await
        .unwrap();
    assert_eq!(
        img.reference.repo_str(),
        format!("{}/cache/team/app", reg.addr)
    );
    assert_eq!(img.reference.digest.as_ref(), Some(&pushed.digest));
}

#[tokio::test]
async fn mutual_tls_with_a_client_certificate() {
    let reg = Registry::start_mtls(Auth::None).unwrap();
    let (cert, key) = reg.client_cert.clone().unwrap();
    let ca = (reg.addr.clone(), reg.ca_cert.clone().unwrap());
    let opts = Options {
        ca_certs: vec![ca.clone()],
        client_certs: vec![(reg.addr.clone(), cert, key)],
        ..Options::default()
    };
    let c = Client::new(opts, keychain(&reg, None)).unwrap();
    roundtrip(&c, &reference(&reg, "mtls/app:v1")).await;

    // Without the client certificate the handshake is refused (as an alert or a closed
    // connection, depending on timing).
    let opts = Options {
        ca_certs: vec![ca],
        ..Options::default()
    };
    let c = Client::new(opts, keychain(&reg, None)).unwrap();
    let err = c
        .pull_image(&reference(&reg, "mtls/app:v1"), &amd64())
        .await
        .unwrap_err();
    assert_eq!(err.status(), None, "{err}");
    assert!(
        matches!(err, registry::Error::Http { .. }) && err.to_string().contains("/v2/mtls/app"),
        "{err}"
    );
}
