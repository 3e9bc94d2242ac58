//! Pushing to several destinations and writing the digest files: every blob goes to every
//! destination before any tag, so a destination refusing blobs leaves no destination
//! tagged; `--push-ignore-immutable-tag-errors` turns a refused immutable tag into a log
//! line; digest files are written in place, so a bind-mounted file (as
//! `/dev/termination-log` is in Kubernetes) works.

mod common;
use common::*;
use testkit::proxy::{Fault, FaultProxy, Rule};

const IMMUTABLE: &str = r#"{"errors":[{"code":"MANIFEST_INVALID","message":"The repository has enabled tag immutability"}]}"#;

fn base_args(df: &str) -> (tempfile::TempDir, Vec<String>) {
    let ctx = context(&[("Dockerfile", df), ("f", "content\n")]);
    (ctx, PLAIN.map(String::from).to_vec())
}

/// A proxy answering every `method` request to a path with `path` with `code` and `body`.
fn refusing(reg: &str, method: &str, path: &str, code: u16, body: &[u8]) -> FaultProxy {
    let proxy = FaultProxy::start(reg).unwrap();
    let fault = Fault::Respond {
        code,
        body: body.to_vec(),
    };
    proxy.add(Rule::new(Some(method), path, usize::MAX, fault));
    proxy
}

fn run_with(
    ctx: &std::path::Path,
    args: &[String],
) -> (testkit::sandbox::Sandbox, testkit::sandbox::Output) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(ctx, &args)
}

#[test]
fn a_destination_refusing_blobs_leaves_no_destination_tagged() {
    let reg = registry_with_busybox();
    let denied = br#"{"errors":[{"code":"DENIED","message":"no blobs for you"}]}"#;
    let refusing = refusing(&reg.addr, "PUT", "/blobs/uploads/", 403, denied);
    let df = format!("FROM {}/library/busybox:latest\nCOPY f /f\n", reg.addr);
    let (ctx, mut args) = base_args(&df);
    args.extend([
        "--destination".into(),
        format!("{}/test/first:1", reg.addr),
        "--destination".into(),
        format!("{}/test/second:1", refusing.addr),
        "--digest-file".into(),
        "/kaniko/digest".into(),
    ]);
    let (sb, out) = run_with(ctx.path(), &args);
    assert_ne!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("DENIED: no blobs for you"),
        "{}",
        out.stderr
    );
    assert!(
        !exists(&reg, "test/first:1"),
        "the first destination was tagged"
    );
    assert!(!exists(&reg, "test/second:1"));
    assert!(!sb.root().join("kaniko/digest").exists());
}

#[test]
fn immutable_tag_errors_fail_unless_ignored() {
    let reg = registry_with_busybox();
    let immutable = refusing(&reg.addr, "PUT", "/manifests/", 400, IMMUTABLE.as_bytes());
    let df = format!("FROM {}/library/busybox:latest\nCOPY f /f\n", reg.addr);
    let (ctx, mut args) = base_args(&df);
    args.extend([
        "--destination".into(),
        format!("{}/test/fixed:1", immutable.addr),
        "--destination".into(),
        format!("{}/test/moving:1", reg.addr),
        "--digest-file".into(),
        "/kaniko/digest".into(),
    ]);
    let (sb, out) = run_with(ctx.path(), &args);
    assert_ne!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("enabled tag immutability"),
        "{}",
        out.stderr
    );
    assert!(!sb.root().join("kaniko/digest").exists());

    args.push("--push-ignore-immutable-tag-errors".into());
    let (sb, out) = run_with(ctx.path(), &args);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let digest = std::fs::read_to_string(sb.root().join("kaniko/digest")).unwrap();
    let ignored = format!(
        "Immutable tag error ignored for {}/test/fixed@{digest}",
        immutable.addr
    );
    assert!(out.stderr.contains(&ignored), "{}", out.stderr);
    let seen = testkit::images::inspect(&reg.addr, "test/moving:1").unwrap();
    assert_eq!(seen["Digest"], digest.as_str());
}

#[test]
fn digest_files_are_written_in_place_even_on_a_bind_mounted_file() {
    let reg = registry_with_busybox();
    let df = format!("FROM {}/library/busybox:latest\nCOPY f /f\n", reg.addr);
    let (ctx, mut args) = base_args(&df);
    // /dev/null in the sandbox is a file bind-mounted from the host: it can be written,
    // never replaced by a rename.
    args.extend([
        "--destination".into(),
        format!("{}/test/inplace:1", reg.addr),
        "--digest-file".into(),
        "/dev/null".into(),
        "--image-name-tag-with-digest-file".into(),
        "/kaniko/out/names".into(),
    ]);
    let (sb, out) = run_with(ctx.path(), &args);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let names = std::fs::read_to_string(sb.root().join("kaniko/out/names")).unwrap();
    let seen = testkit::images::inspect(&reg.addr, "test/inplace:1").unwrap();
    assert_eq!(
        names,
        format!(
            "{}/test/inplace:1@{}\n",
            reg.addr,
            seen["Digest"].as_str().unwrap()
        )
    );
}
