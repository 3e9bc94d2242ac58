//! `https://` tarball contexts from lighttpd over TLS on loopback, trusted through the
//! registry flags (`--registry-certificate`, `--skip-tls-verify-registry`); an untrusted
//! certificate and a missing file fail with one line.

mod common;
mod remote;

use common::*;
use remote::*;
use testkit::servers::http::{Config, HttpServer};

#[test]
fn tarball_over_https_with_the_registry_tls_flags() {
    let reg = registry_with_busybox();
    let srv = HttpServer::start(Config {
        basic_auth: None,
        tls: true,
    })
    .unwrap();
    srv.put_file("ctx.tar.gz", &context_tar_gz(&reg, "from https", ""))
        .unwrap();
    let url = format!("https://{}/files/ctx.tar.gz", srv.addr);
    let cert = std::fs::read(srv.cert.as_ref().unwrap()).unwrap();
    let flag = format!("{}=/kaniko/ctx-ca.crt", srv.addr);
    let files = [("/kaniko/ctx-ca.crt", cert.as_slice())];
    let (_sb, out) = build_with(
        &reg,
        &url,
        &[],
        &files,
        &["--registry-certificate", &flag],
        "https:1",
    );
    assert!(
        out.stderr.contains("Retrieving https tar file"),
        "{}",
        out.stderr
    );
    assert_built(&reg, &out, "https:1", "from https", &[]);

    let (_sb, out) = build(
        &reg,
        &url,
        &[],
        &["--skip-tls-verify-registry", &srv.addr],
        "https:2",
    );
    assert_built(&reg, &out, "https:2", "from https", &[]);

    // --skip-tls-verify-pull is for pulling images: it does not reach the context.
    let (_sb, out) = build(&reg, &url, &[], &["--skip-tls-verify-pull"], "https:3");
    assert_fails(
        &reg,
        &out,
        "https:3",
        &["files/ctx.tar.gz", "TLS", "--registry-certificate"],
        &[],
    );
    let missing = url.replace("ctx.tar.gz", "missing.tar.gz");
    let (_sb, out) = build(
        &reg,
        &missing,
        &[],
        &["--skip-tls-verify-registry", &srv.addr],
        "https:4",
    );
    assert_fails(
        &reg,
        &out,
        "https:4",
        &["missing.tar.gz", "no such file", "404"],
        &[],
    );
}
