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

/// Blob uploads the proxy saw: (PATCH requests, PUTs with a body) to `repo`.
fn uploads(proxy: &FaultProxy, repo: &str) -> (Vec<testkit::proxy::Seen>, usize) {
    let prefix = format!("/v2/{repo}/blobs/uploads/");
    let seen = proxy.seen();
    let patches = seen
        .iter()
        .filter(|s| s.method == "PATCH" && s.path.starts_with(&prefix))
        .cloned()
        .collect();
    let puts = seen
        .iter()
        .filter(|s| s.method == "PUT" && s.path.starts_with(&prefix))
        .filter(|s| s.header("content-length").is_some_and(|l| l != "0"))
        .count();
    (patches, puts)
}

#[test]
fn layers_are_streamed_while_written_and_pushed_from_the_file_when_that_fails() {
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {}/library/busybox:latest\nCOPY f /f\nRUN echo x > /x\n",
        reg.addr
    );
    let (ctx, mut args) = base_args(&df);
    args.push("--reproducible".into()); // the same layers from both builds
                                        // Two layers, each sent as it was written: one PATCH each with a chunked body.
    let proxy = FaultProxy::start(&reg.addr).unwrap();
    let mut streamed = args.clone();
    streamed.extend([
        "--destination".into(),
        format!("{}/test/streamed:1", proxy.addr),
    ]);
    let (_sb, out) = run_with(ctx.path(), &streamed);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let (patches, puts) = uploads(&proxy, "test/streamed");
    assert_eq!(patches.len(), 2, "{patches:?}");
    assert!(patches
        .iter()
        .all(|p| p.header("transfer-encoding") == Some("chunked")));
    // Whole uploads: the config, and the base layer (from another registry: no mount).
    assert_eq!(puts, 2, "{}", out.stderr);
    let config = testkit::images::inspect_raw(&reg.addr, "test/streamed:1", true).unwrap();
    assert_eq!(
        config["rootfs"]["diff_ids"].as_array().map(Vec::len),
        Some(3)
    );
    // A registry refusing the streams: the push sends both layers from their files.
    let refusing = refusing(&reg.addr, "PATCH", "/blobs/uploads/", 500, b"{}");
    let mut fallback = args;
    fallback.extend([
        "--destination".into(),
        format!("{}/test/fallback:1", refusing.addr),
    ]);
    let (_sb, out) = run_with(ctx.path(), &fallback);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let (patches, puts) = uploads(&refusing, "test/fallback");
    assert_eq!((patches.len(), puts), (2, 4), "{patches:?}");
    let a = testkit::images::inspect(&reg.addr, "test/streamed:1").unwrap();
    let b = testkit::images::inspect(&reg.addr, "test/fallback:1").unwrap();
    assert_eq!(a["Layers"], b["Layers"]);
}

#[test]
fn streams_to_more_destinations_than_transfer_slots_never_wait_on_each_other() {
    // 8 MiB of incompressible bytes: more than a stream queues, so the layer writer waits on
    // each destination in turn; with one transfer slot, a stream holding it would stall the
    // other one, and the build with them.
    let reg = registry_with_busybox();
    let df = format!("FROM {}/library/busybox:latest\nCOPY big /big\n", reg.addr);
    let (ctx, mut args) = base_args(&df);
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let big: Vec<u8> = (0..8 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect();
    std::fs::write(ctx.path().join("big"), &big).unwrap();
    let proxy = FaultProxy::start(&reg.addr).unwrap();
    for repo in ["test/slots-a:1", "test/slots-b:1"] {
        args.extend(["--destination".into(), format!("{}/{repo}", proxy.addr)]);
    }
    let mut sb = testkit::sandbox::Sandbox::new(&executor()).unwrap();
    sb.context(ctx.path())
        .env("KANIKO_REGISTRY_MAX_TRANSFERS", "1");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = sb.run(&args).unwrap();
    assert_eq!(out.status, 0, "{}", out.stderr);
    // Both streams went through (a stalled one would end in a timeout and a whole upload of
    // the layer at the push): in each repository one PATCH, and whole uploads only of the
    // config and the base layer.
    for repo in ["test/slots-a", "test/slots-b"] {
        let (patches, puts) = uploads(&proxy, repo);
        assert_eq!((patches.len(), puts), (1, 2), "{repo}: {}", out.stderr);
    }
    let a = testkit::images::inspect(&reg.addr, "test/slots-a:1").unwrap();
    let b = testkit::images::inspect(&reg.addr, "test/slots-b:1").unwrap();
    assert_eq!(a["Layers"], b["Layers"]);
}
