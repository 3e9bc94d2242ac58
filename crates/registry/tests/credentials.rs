//! Credentials go only to the registry they belong to (same scheme, host and port): an
//! upload `Location` and a blob redirect that point at another server get requests without
//! an Authorization header, and the push and pull still work. The registry is a real one
//! behind a proxy that demands Basic credentials; the "other server" is a second proxy in
//! front of the same registry that records what it is sent.

mod common;
use common::*;
use image::Platform;
use registry::Keychain;
use testkit::proxy::{Fault, FaultProxy, Rule};
use testkit::registry::{Auth, Registry};

const USER: &str = "alice";
const PASSWORD: &str = "s3cret-pass";

/// A registry, a proxy in front of it asking for Basic credentials, a second proxy (the
/// foreign server), and a client holding the credentials for the first proxy.
fn setup() -> (Registry, FaultProxy, FaultProxy, registry::Client) {
    let reg = Registry::start(Auth::None, false).expect("start registry");
    let guarded = FaultProxy::start(&reg.addr).unwrap();
    guarded.require_basic(USER, PASSWORD);
    let foreign = FaultProxy::start(&reg.addr).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let auth = testkit::registry::basic_auth_config(&guarded.addr, USER, PASSWORD);
    std::fs::write(dir.path().join("config.json"), auth).unwrap();
    let keychain = Keychain::from_dir(dir.path()).unwrap();
    let client = client_at(&guarded.addr, keychain, 0, quick_tuning());
    (reg, guarded, foreign, client)
}

#[tokio::test]
async fn an_upload_location_on_another_server_gets_no_credentials() {
    let (reg, guarded, foreign, c) = setup();
    guarded.add(Rule::new(
        Some("POST"),
        "/blobs/uploads/",
        usize::MAX,
        Fault::Relocate(format!("http://{}", foreign.addr)),
    ));
    let r = reference_at(&guarded.addr, "creds/app:1");
    let pushed = push_image(&c, &r, "linux/amd64").await;

    let puts: Vec<_> = foreign
        .seen()
        .into_iter()
        .filter(|s| s.method == "PUT")
        .collect();
    assert_eq!(puts.len(), 2, "both blobs went to the Location's server");
    for put in &puts {
        assert_eq!(put.authorization, None, "credentials sent to {put:?}");
    }
    // The registry itself did get them.
    assert!(guarded
        .seen()
        .iter()
        .any(|s| s.method == "PUT" && s.path.contains("/manifests/") && s.authorization.is_some()));
    let seen = testkit::images::inspect(&reg.addr, "creds/app:1").unwrap();
    assert_eq!(seen["Digest"], pushed.digest.to_string());
}

#[tokio::test]
async fn a_blob_redirect_to_storage_gets_no_credentials_and_the_pull_works() {
    let (_reg, guarded, foreign, c) = setup();
    let r = reference_at(&guarded.addr, "creds/pull:1");
    let pushed = push_image(&c, &r, "linux/amd64").await;
    guarded.add(Rule::new(
        Some("GET"),
        "/blobs/sha256:",
        usize::MAX,
        Fault::Redirect(format!("http://{}", foreign.addr)),
    ));
    let img = c
        .pull_image(&r, &Platform::parse("linux/amd64").unwrap())
        .await
        .unwrap();
    assert_eq!(img.manifest_bytes, pushed.manifest);
    assert_eq!(
        read_blob(&c, &r, &pushed.layer.digest).await.unwrap(),
        pushed.layer_bytes
    );
    let gets: Vec<_> = foreign
        .seen()
        .into_iter()
        .filter(|s| s.method == "GET")
        .collect();
    assert_eq!(
        gets.len(),
        2,
        "config and layer came from the storage server"
    );
    for get in &gets {
        assert_eq!(get.authorization, None, "credentials sent to {get:?}");
        assert_eq!(get.header("referer"), None, "{get:?}");
    }
}
