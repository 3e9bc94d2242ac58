//! A base image cannot plant a credential helper and receive the user's secrets: helpers
//! are resolved when the executor starts (kaniko's directory, then PATH as it was then),
//! before the base image is unpacked over the root. The destination is a real registry
//! behind a proxy that asks for Basic credentials, the helper's answer.

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;
use testkit::images::{push_busybox_with, Access, ImageSpec};
use testkit::proxy::FaultProxy;
use testkit::sandbox::Sandbox;

const USER: &str = "alice";
const PASSWORD: &str = "s3cret-pass";

/// What a helper script prints: the credentials the proxy wants.
fn answer() -> String {
    format!(r#"read s; echo '{{"Username":"{USER}","Secret":"{PASSWORD}"}}'"#)
}

/// Busybox plus `/usr/local/bin/docker-credential-{evil,good}`, both planted: each leaves
/// `/helper-ran` behind and answers with the right credentials.
fn base_with_planted_helpers(reg: &str) {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("usr/local/bin");
    std::fs::create_dir_all(&bin).unwrap();
    for name in ["evil", "good"] {
        let p = bin.join(format!("docker-credential-{name}"));
        std::fs::write(&p, format!("#!/bin/sh\ntouch /helper-ran\n{}\n", answer())).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let spec = ImageSpec {
        extra_layers: vec![dir.path().to_path_buf()],
        ..ImageSpec::default()
    };
    push_busybox_with(reg, "test/planted:latest", &spec, &Access::default()).unwrap();
}

/// Runs a build pushing to `dest` with `config.json` naming `helper` for the proxy.
fn build(
    reg: &str,
    proxy: &str,
    helper: &str,
    own_helper: bool,
) -> (Sandbox, testkit::sandbox::Output) {
    let df = format!("FROM {reg}/test/planted:latest\nRUN echo built > /built\n");
    let ctx = context(&[("Dockerfile", &df)]);
    let mut sb = Sandbox::new(&executor()).unwrap();
    sb.context(ctx.path());
    sb.docker_config(&format!(r#"{{"credHelpers":{{"{proxy}":"{helper}"}}}}"#));
    if own_helper {
        // The executor's own helper, run by a static busybox shell from /kaniko.
        sb.file("/kaniko/sh", &std::fs::read("/bin/busybox").unwrap());
        let script = format!("#!/kaniko/sh\n{}\n", answer());
        sb.file(
            &format!("/kaniko/docker-credential-{helper}"),
            script.as_bytes(),
        );
        for f in ["kaniko/sh", &format!("kaniko/docker-credential-{helper}")] {
            let p = sb.root().join(f);
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    let dest = format!("{proxy}/test/out:{helper}");
    let mut args = PLAIN.to_vec();
    // So that the first credential request comes after the unpack.
    args.extend(["--skip-push-permission-check", "--destination", &dest]);
    let out = sb.run(&args).unwrap();
    (sb, out)
}

#[test]
fn a_helper_planted_by_the_base_image_is_never_run() {
    let reg = registry_with_busybox();
    base_with_planted_helpers(&reg.addr);
    let proxy = FaultProxy::start(&reg.addr).unwrap();
    proxy.require_basic(USER, PASSWORD);

    // Named in config.json, found nowhere at start: refused, not looked up after the unpack.
    let (sb, out) = build(&reg.addr, &proxy.addr, "evil", false);
    assert_ne!(out.status, 0, "the push got credentials:\n{}", out.stderr);
    assert!(
        sb.root().join("built").exists(),
        "the build did not get to its RUN"
    );
    assert!(
        !sb.root().join("helper-ran").exists(),
        "the planted helper ran:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("docker-credential-evil") && out.stderr.contains("not found at start"),
        "{}",
        out.stderr
    );
    assert!(proxy.requests().iter().all(|(_, _, auth)| auth.is_none()));
    assert!(!exists(&reg, "test/out:evil"));

    // The executor's own helper in /kaniko answers; the planted one of the same name and
    // earlier on PATH never runs.
    let (sb, out) = build(&reg.addr, &proxy.addr, "good", true);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(!sb.root().join("helper-ran").exists(), "{}", out.stderr);
    assert!(exists(&reg, "test/out:good"));
    assert!(proxy.requests().iter().any(|(_, _, auth)| auth.is_some()));
    assert!(!out.stderr.contains(PASSWORD));
}
