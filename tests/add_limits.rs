//! `ADD <url>` is bounded: its body by `KANIKO_ADD_MAX_SIZE`, the whole download by
//! `KANIKO_ADD_TIMEOUT`; past either the build fails naming the variable.

mod common;
use common::*;
use std::time::{Duration, Instant};
use testkit::proxy::{Fault, FaultProxy, Rule};
use testkit::sandbox::Sandbox;
use testkit::servers::http::{Config, HttpServer};

fn add_build(reg: &str, url: &str, env: (&str, &str)) -> testkit::sandbox::Output {
    let df = format!("FROM {reg}/library/busybox:latest\nADD {url} /big\n");
    let ctx = context(&[("Dockerfile", &df)]);
    let mut sb = Sandbox::new(&executor()).unwrap();
    sb.context(ctx.path()).env(env.0, env.1);
    build_in(&sb, &["--no-push"])
}

#[test]
fn add_of_a_url_is_bounded_in_size_and_time() {
    let reg = registry_with_busybox();
    let srv = HttpServer::start(Config::default()).unwrap();
    srv.put_file("big.bin", &vec![7u8; 64 * 1024]).unwrap();
    let url = format!("http://{}/files/big.bin", srv.addr);
    let out = add_build(&reg.addr, &url, ("KANIKO_ADD_MAX_SIZE", "16KiB"));
    assert_ne!(out.status, 0, "{}", out.stderr);
    assert!(out.stderr.contains("KANIKO_ADD_MAX_SIZE"), "{}", out.stderr);
    let out = add_build(&reg.addr, &url, ("KANIKO_ADD_MAX_SIZE", "1MiB"));
    assert_eq!(out.status, 0, "{}", out.stderr);

    let proxy = FaultProxy::start(&srv.addr).unwrap();
    proxy.add(Rule::new(
        Some("GET"),
        "/files/",
        10,
        Fault::Stall(Duration::from_secs(30)),
    ));
    let slow = format!("http://{}/files/big.bin", proxy.addr);
    let started = Instant::now();
    let out = add_build(&reg.addr, &slow, ("KANIKO_ADD_TIMEOUT", "2s"));
    assert_ne!(out.status, 0, "{}", out.stderr);
    assert!(out.stderr.contains("KANIKO_ADD_TIMEOUT"), "{}", out.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "{:?}",
        started.elapsed()
    );
}
