//! Shared set-up for the executor's integration tests: a real registry on loopback, a
//! busybox base image pushed with skopeo, a context directory, and the executor run in the
//! pod-like sandbox.
#![allow(dead_code)]

pub mod image;

use std::path::{Path, PathBuf};
use testkit::registry::{Auth, Registry};
use testkit::sandbox::{Output, Sandbox};

pub fn executor() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_executor"))
}

/// A plain-http registry holding `library/busybox:latest`.
pub fn registry_with_busybox() -> Registry {
    let reg = Registry::start(Auth::None, false).expect("start registry");
    testkit::images::push_busybox(&reg.addr, "library/busybox:latest").expect("push busybox");
    reg
}

/// Pushes `library/busybox:latest` to `reg` with the registry's own credentials and CA.
pub fn push_busybox_to(reg: &Registry) {
    let access = testkit::images::Access {
        creds: reg.credentials(),
        ca_cert: reg.ca_cert.as_deref(),
    };
    testkit::images::push_busybox_with(
        &reg.addr,
        "library/busybox:latest",
        &testkit::images::ImageSpec::default(),
        &access,
    )
    .expect("push busybox");
}

/// A context directory with the given files (path, contents).
pub fn context(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (path, contents) in files {
        let p = dir.path().join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, contents).expect("write");
    }
    dir
}

/// Runs the executor in a fresh sandbox with `ctx` at /workspace.
pub fn run(ctx: &Path, args: &[&str]) -> (Sandbox, Output) {
    let mut sb = Sandbox::new(&executor()).expect("sandbox");
    sb.context(ctx);
    let out = sb.run(args).expect("run sandbox");
    (sb, out)
}

/// The context at /workspace, its Dockerfile, plain http to and from the registries.
pub const PLAIN: [&str; 6] = [
    "--context",
    "/workspace",
    "--dockerfile",
    "Dockerfile",
    "--insecure",
    "--insecure-pull",
];

/// Runs a build with [`PLAIN`] and `extra` in the sandbox `sb` (its root stays).
pub fn build_in(sb: &Sandbox, extra: &[&str]) -> Output {
    let mut args = PLAIN.to_vec();
    args.extend_from_slice(extra);
    sb.run(&args).expect("run sandbox")
}

/// Runs a build pushing to `dest` over plain http; asserts success and returns the sandbox.
pub fn build_ok(ctx: &Path, extra: &[&str]) -> (Sandbox, Output) {
    let mut args = PLAIN.to_vec();
    args.extend_from_slice(extra);
    let (sb, out) = run(ctx, &args);
    assert_eq!(
        out.status, 0,
        "executor failed:\nstdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    (sb, out)
}

/// Whether the registry has `reference` (a tag that exists).
pub fn exists(reg: &Registry, reference: &str) -> bool {
    testkit::images::inspect(&reg.addr, reference).is_ok()
}

/// Pulls `reference`, unpacks it with umoci and runs it with runc; returns stdout.
pub fn run_image(reg: &Registry, reference: &str, args: Option<&[String]>) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = testkit::images::unpack(&reg.addr, reference, dir.path()).expect("unpack");
    let out = testkit::images::run(&bundle, args).expect("runc");
    assert_eq!(out.status, 0, "image run failed: {}", out.stderr);
    out.stdout
}
