//! The client against the real registry behind the fault-injecting proxy: every kind of
//! transient failure is retried per request (so a registry failing each new request once
//! lets a push through), a cut download continues with a Range request, a stalled registry
//! ends in a timeout naming the request, bodies over their caps are refused, transfers are
//! bounded, and an immutable-tag refusal is recognised.

mod common;
use common::*;
use image::{media, Digest, Platform};
use registry::{Keychain, Tuning};
use std::time::{Duration, Instant};
use testkit::proxy::{Fault, FaultProxy, Rule};
use testkit::registry::{Auth, Registry};

fn registry() -> Registry {
    Registry::start(Auth::None, false).expect("start registry")
}

fn rule(method: &str, path: &str, times: usize, fault: Fault) -> Rule {
    Rule::new(Some(method), path, times, fault)
}

/// `n` bytes that do not compress.
fn noise(n: usize, seed: u32) -> Vec<u8> {
    (0..n as u32)
        .map(|i| (i.wrapping_add(seed).wrapping_mul(2654435761) >> 13) as u8)
        .collect()
}

/// A reset HEAD, a 429 with Retry-After on the POST, a dropped upload, a 500 on the manifest.
fn push_faults() -> Vec<Rule> {
    vec![
        rule("HEAD", "/blobs/", 1, Fault::Reset),
        rule(
            "POST",
            "/blobs/uploads/",
            1,
            Fault::Status {
                code: 429,
                retry_after: Some(1),
            },
        ),
        rule("PUT", "/blobs/uploads/", 1, Fault::Drop),
        rule(
            "PUT",
            "/manifests/",
            1,
            Fault::Status {
                code: 500,
                retry_after: None,
            },
        ),
    ]
}

/// A 503 and a cut manifest, a cut config, a trickling layer.
fn pull_faults(config: &Digest, layer: &Digest) -> Vec<Rule> {
    vec![
        rule(
            "GET",
            "/manifests/",
            1,
            Fault::Status {
                code: 503,
                retry_after: None,
            },
        ),
        rule("GET", "/manifests/", 1, Fault::Truncate(10)),
        rule("GET", &config.to_string(), 1, Fault::Truncate(5)),
        rule(
            "GET",
            &layer.to_string(),
            1,
            Fault::Trickle {
                chunk: 4,
                pause: Duration::from_millis(10),
            },
        ),
    ]
}

#[tokio::test]
async fn every_transient_failure_is_retried_and_the_image_is_intact() {
    let reg = registry();
    let proxy = FaultProxy::start(&reg.addr).unwrap();
    for r in push_faults() {
        proxy.add(r);
    }
    let c = client_at(&proxy.addr, Keychain::default(), 3, quick_tuning());
    let r = reference_at(&proxy.addr, "faults/app:1");
    let pushed = push_image(&c, &r, "linux/amd64").await;

    // The pushed image, read from the registry itself by skopeo.
    let seen = testkit::images::inspect(&reg.addr, "faults/app:1").unwrap();
    assert_eq!(seen["Digest"], pushed.digest.to_string());

    // Retry-After was honoured: the next POST came at least a second after the 429.
    let posts: Vec<Instant> = proxy
        .seen()
        .iter()
        .filter(|s| s.method == "POST")
        .map(|s| s.at)
        .collect();
    assert!(posts.len() >= 2, "{posts:?}");
    assert!(posts[1] - posts[0] >= Duration::from_millis(950));

    for r in pull_faults(&pushed.config.digest, &pushed.layer.digest) {
        proxy.add(r);
    }
    let img = c
        .pull_image(&r, &Platform::parse("linux/amd64").unwrap())
        .await
        .unwrap();
    assert_eq!(img.manifest_bytes, pushed.manifest);
    assert_eq!(Digest::sha256(&img.config_bytes), pushed.config.digest);
    let layer = read_blob(&c, &r, &pushed.layer.digest).await.unwrap();
    assert_eq!(layer, pushed.layer_bytes);
}

#[tokio::test]
async fn a_registry_failing_each_new_request_once_lets_one_retry_through() {
    let reg = registry();
    let proxy = FaultProxy::start(&reg.addr).unwrap();
    proxy.fail_each_new_request_once(503);
    let c = client_at(&proxy.addr, Keychain::default(), 1, quick_tuning());
    let r = reference_at(&proxy.addr, "once/app:1");
    let pushed = push_image(&c, &r, "linux/amd64").await;
    let img = c
        .pull_image(&r, &Platform::parse("linux/amd64").unwrap())
        .await
        .unwrap();
    assert_eq!(img.manifest_bytes, pushed.manifest);
    let failed = proxy.requests().len();
    assert!(failed > 10, "the proxy saw only {failed} requests");

    // Without retries the first request already fails.
    let none = client_at(&proxy.addr, Keychain::default(), 0, quick_tuning());
    let err = none
        .pull_image(
            &reference_at(&proxy.addr, "once/other:1"),
            &Platform::parse("linux/amd64").unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503), "{err}");
}

#[tokio::test]
async fn a_cut_download_continues_with_a_range_request() {
    let reg = registry();
    let proxy = FaultProxy::start(&reg.addr).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bytes = noise(1 << 20, 7);
    let (path, desc) = blob_file(dir.path(), "big", &bytes, media::OCI_LAYER_GZIP);
    let c = client_at(&proxy.addr, Keychain::default(), 2, quick_tuning());
    let r = reference_at(&proxy.addr, "cut/app:1");
    c.upload_blob(&r, &desc, &path, None).await.unwrap();

    let digest = desc.digest.to_string();
    proxy.add(rule("GET", &digest, 1, Fault::Truncate(300_000)));
    assert_eq!(read_blob(&c, &r, &desc.digest).await.unwrap(), bytes);
    let gets: Vec<_> = proxy
        .seen()
        .into_iter()
        .filter(|s| s.method == "GET" && s.path.contains(&digest))
        .collect();
    assert_eq!(gets.len(), 2, "{gets:?}");
    assert_eq!(gets[0].header("range"), None);
    assert_eq!(gets[1].header("range"), Some("bytes=300000-"));

    // Without retries the cut is the answer, naming the request.
    proxy.add(rule("GET", &digest, 1, Fault::Truncate(300_000)));
    let none = client_at(&proxy.addr, Keychain::default(), 0, quick_tuning());
    let err = read_blob(&none, &r, &desc.digest).await.unwrap_err();
    assert!(err.contains("GET") && err.contains(&digest), "{err}");
}

#[tokio::test]
async fn a_stalled_registry_ends_in_a_timeout_naming_the_request() {
    let reg = registry();
    let proxy = FaultProxy::start(&reg.addr).unwrap();
    let c = client_at(&proxy.addr, Keychain::default(), 1, quick_tuning());
    let r = reference_at(&proxy.addr, "stall/app:1");
    push_image(&c, &r, "linux/amd64").await;
    let linux = Platform::parse("linux/amd64").unwrap();

    // Headers, then silence: the read timeout fires, on the retry too.
    proxy.add(rule(
        "GET",
        "/manifests/",
        2,
        Fault::Stall(Duration::from_secs(30)),
    ));
    let quick_reads = Tuning {
        read_timeout: Duration::from_secs(1),
        ..quick_tuning()
    };
    let c = client_at(&proxy.addr, Keychain::default(), 1, quick_reads);
    let started = Instant::now();
    let err = c.pull_image(&r, &linux).await.unwrap_err().to_string();
    assert!(started.elapsed() < Duration::from_secs(6), "{err}");
    assert!(
        err.contains("GET") && err.contains("/v2/stall/app/manifests/1"),
        "{err}"
    );
    assert!(
        err.contains("timed out") && err.contains("KANIKO_REGISTRY_READ_TIMEOUT"),
        "{err}"
    );

    // A body that keeps trickling in: the overall timeout fires.
    proxy.add(rule(
        "GET",
        "/manifests/",
        1,
        Fault::Trickle {
            chunk: 1,
            pause: Duration::from_millis(100),
        },
    ));
    let short_total = Tuning {
        request_timeout: Duration::from_secs(1),
        ..quick_tuning()
    };
    let c = client_at(&proxy.addr, Keychain::default(), 0, short_total);
    let err = c.pull_image(&r, &linux).await.unwrap_err().to_string();
    assert!(
        err.contains("not finished after 1s") && err.contains("KANIKO_REGISTRY_REQUEST_TIMEOUT"),
        "{err}"
    );
}

#[tokio::test]
async fn bodies_over_their_caps_are_refused() {
    let reg = registry();
    let proxy = FaultProxy::start(&reg.addr).unwrap();
    let c = client_at(&proxy.addr, Keychain::default(), 0, quick_tuning());
    let r = reference_at(&proxy.addr, "caps/app:1");
    let pushed = push_image(&c, &r, "linux/amd64").await;
    let linux = Platform::parse("linux/amd64").unwrap();

    let small = Tuning {
        max_manifest_bytes: 100,
        ..quick_tuning()
    };
    let err = client_at(&proxy.addr, Keychain::default(), 0, small)
        .pull_image(&r, &linux)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("manifest of") && err.contains("KANIKO_REGISTRY_MAX_MANIFEST_SIZE"),
        "{err}"
    );

    // A config the size of a layer: refused from its Content-Length, not read.
    proxy.add(rule(
        "GET",
        &pushed.config.digest.to_string(),
        1,
        Fault::Replace(vec![b' '; 9 << 20]),
    ));
    let err = c.pull_image(&r, &linux).await.unwrap_err().to_string();
    assert!(err.contains("KANIKO_REGISTRY_MAX_CONFIG_SIZE"), "{err}");
}

#[tokio::test]
async fn uploads_and_downloads_use_at_most_their_slots() {
    let reg = registry();
    let proxy = FaultProxy::start(&reg.addr).unwrap();
    let slots = Tuning {
        max_transfers: 2,
        ..quick_tuning()
    };
    let c = client_at(&proxy.addr, Keychain::default(), 0, slots);
    let r = reference_at(&proxy.addr, "slots/app:1");
    let dir = tempfile::tempdir().unwrap();
    let blobs: Vec<_> = (0..6)
        .map(|i| {
            let bytes = noise(10_000, i);
            blob_file(dir.path(), &format!("b{i}"), &bytes, media::OCI_LAYER_GZIP)
        })
        .collect();
    let delay = Fault::Delay(Duration::from_millis(200));
    proxy.add(rule("PUT", "/blobs/uploads/", usize::MAX, delay.clone()));
    proxy.add(rule("GET", "/blobs/sha256:", usize::MAX, delay));
    let uploads = blobs
        .iter()
        .map(|(path, desc)| c.upload_blob(&r, desc, path, None));
    futures_util::future::try_join_all(uploads).await.unwrap();
    let downloads = blobs
        .iter()
        .map(|(_, desc)| read_blob(&c, &r, &desc.digest));
    futures_util::future::try_join_all(downloads).await.unwrap();
    assert_eq!(proxy.max_in_flight("PUT", "/blobs/uploads/"), 2);
    assert_eq!(proxy.max_in_flight("GET", "/blobs/sha256:"), 2);
}

#[tokio::test]
async fn an_immutable_tag_refusal_is_recognised() {
    let reg = registry();
    let proxy = FaultProxy::start(&reg.addr).unwrap();
    let c = client_at(&proxy.addr, Keychain::default(), 2, quick_tuning());
    let r = reference_at(&proxy.addr, "immutable/app:1");
    push_image(&c, &r, "linux/amd64").await;
    let body = br#"{"errors":[{"code":"MANIFEST_INVALID","message":"The repository has enabled tag immutability."}]}"#;
    proxy.add(rule(
        "PUT",
        "/manifests/",
        1,
        Fault::Respond {
            code: 400,
            body: body.to_vec(),
        },
    ));
    let err = c
        .put_manifest(&r, b"{}", media::OCI_MANIFEST)
        .await
        .unwrap_err();
    assert!(err.is_immutable_tag(), "{err}");
    assert!(err.to_string().contains("MANIFEST_INVALID"), "{err}");
    proxy.add(rule(
        "PUT",
        "/manifests/",
        1,
        Fault::Status {
            code: 403,
            retry_after: None,
        },
    ));
    let other = c
        .put_manifest(&r, b"{}", media::OCI_MANIFEST)
        .await
        .unwrap_err();
    assert!(!other.is_immutable_tag(), "{other}");
}
