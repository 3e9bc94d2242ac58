//! The context servers themselves, checked with independent clients: git clones over
//! plain HTTP, basic auth and TLS; moto refuses a wrong secret; the GCS emulator and
//! Azurite serve what was uploaded.

use std::process::Command;
use testkit::servers::{azure, gcs, git, http, s3};

fn git_clone(url: &str, extra: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    Command::new("git")
        .args(extra)
        .args(["clone", "-q", url])
        .arg(dir.path().join("c"))
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .unwrap()
}

#[test]
fn git_over_http_with_auth_and_tls() {
    let auth = Some(("ci".to_string(), "s3cret".to_string()));
    let srv = http::HttpServer::start(http::Config {
        basic_auth: auth,
        tls: true,
    })
    .unwrap();
    let repo = git::WorkRepo::init().unwrap();
    repo.write(&[("a.txt", "a")]).unwrap();
    repo.commit("one").unwrap();
    repo.publish(&srv.repos, "app.git").unwrap();
    let url = format!("https://ci:s3cret@{}/git/app.git", srv.addr);
    let ok = git_clone(&url, &["-c", "http.sslVerify=false"]);
    assert!(
        ok.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&ok.stderr),
        srv.log()
    );
    let bad = git_clone(
        &url.replace("s3cret", "nope"),
        &["-c", "http.sslVerify=false"],
    );
    assert!(!bad.status.success());
    let untrusted = git_clone(&url, &[]);
    assert!(!untrusted.status.success());
}

#[test]
fn moto_checks_signatures() {
    let s = s3::S3Server::start().unwrap();
    s.put("bkt", "x/y.bin", b"data").unwrap();
    let err = s.put_signed("wrong", "bkt", "z", b"data").unwrap_err();
    assert!(err.to_string().contains("SignatureDoesNotMatch"), "{err}");
}

#[test]
fn gcs_emulator_and_azurite_store_objects() {
    let g = gcs::GcsServer::start().unwrap();
    g.put("bkt", "dir/ctx.tar.gz", b"data").unwrap();
    let a = azure::AzureServer::start().unwrap();
    a.put("ctr", "dir/ctx.tar.gz", b"data").unwrap();
}
