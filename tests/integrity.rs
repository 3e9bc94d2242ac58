//! A registry that answers a base-layer request with other bytes must not get them into the
//! build: every compressed byte is read, the blob digest and the diff_id are checked, and
//! a mismatch fails the build before any RUN, with no tag pushed and no digest file.

mod common;
use common::*;
use std::io::Write;
use testkit::proxy::{Fault, FaultProxy, Rule};

/// A gzip tar of the busybox root plus `/pwned`, followed by a few MB more of gzip data
/// (what a registry swapping layers could send).
fn evil_layer() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    testkit::images::busybox_rootfs(dir.path()).unwrap();
    std::fs::write(dir.path().join("pwned"), "#!/bin/sh\necho pwned\n").unwrap();
    let tar = std::process::Command::new("tar")
        .args(["-C"])
        .arg(dir.path())
        .args(["-cf", "-", "."])
        .output()
        .unwrap();
    assert!(tar.status.success());
    let gz = |data: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    };
    let mut blob = gz(&tar.stdout);
    let noise: Vec<u8> = (0..4_000_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    blob.extend_from_slice(&gz(&noise));
    blob
}

fn swapped_base_build(fault: Fault) -> (testkit::sandbox::Output, bool, bool) {
    let reg = registry_with_busybox();
    let layer = testkit::images::inspect(&reg.addr, "library/busybox:latest").unwrap()["Layers"][0]
        .as_str()
        .unwrap()
        .to_string();
    let proxy = FaultProxy::start(&reg.addr).unwrap();
    proxy.add(Rule::new(
        Some("GET"),
        &format!("/blobs/{layer}"),
        usize::MAX,
        fault,
    ));
    let df = format!(
        "FROM {}/library/busybox:latest\nRUN if [ -e /pwned ]; then echo PWN\"\"ED-RAN; fi\n",
        proxy.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let dest = format!("{}/test/swapped:1", reg.addr);
    let (sb, out) = run(
        ctx.path(),
        &[
            "--context",
            "/workspace",
            "--dockerfile",
            "Dockerfile",
            "--insecure",
            "--insecure-pull",
            "--destination",
            &dest,
            "--digest-file",
            "/kaniko/digest",
        ],
    );
    let digest_written = sb.root().join("kaniko/digest").exists();
    (out, exists(&reg, "test/swapped:1"), digest_written)
}

#[test]
fn swapped_layer_with_trailing_data_fails_before_run() {
    let (out, pushed, digest_written) = swapped_base_build(Fault::Replace(evil_layer()));
    assert_ne!(
        out.status, 0,
        "the build accepted a swapped layer:\n{}",
        out.stderr
    );
    assert!(!out.stdout.contains("PWNED-RAN") && !out.stderr.contains("PWNED-RAN"));
    assert!(
        !out.stderr.contains("Running:"),
        "a RUN started:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("digest mismatch") || out.stderr.contains("declared"),
        "{}",
        out.stderr
    );
    assert!(!pushed, "a tag was pushed for a failed build");
    assert!(
        !digest_written,
        "a digest file was written for a failed build"
    );
}

#[test]
fn corrupted_layer_fails_the_build() {
    let (out, pushed, digest_written) = swapped_base_build(Fault::Corrupt);
    assert_ne!(out.status, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("Running:"), "{}", out.stderr);
    assert!(!pushed && !digest_written);
}

#[test]
fn a_broken_layer_download_is_retried_with_image_fs_extract_retry() {
    let reg = registry_with_busybox();
    let layer = testkit::images::inspect(&reg.addr, "library/busybox:latest").unwrap()["Layers"][0]
        .as_str()
        .unwrap()
        .to_string();
    let df = |addr: &str| format!("FROM {addr}/library/busybox:latest\nRUN echo ok > /ok\n");
    for (retries, want_ok) in [("0", false), ("1", true)] {
        let proxy = FaultProxy::start(&reg.addr).unwrap();
        proxy.add(Rule::new(
            Some("GET"),
            &format!("/blobs/{layer}"),
            1,
            Fault::Truncate(4096),
        ));
        let ctx = context(&[("Dockerfile", &df(&proxy.addr))]);
        let (_, out) = run(
            ctx.path(),
            &[
                "--context",
                "/workspace",
                "--dockerfile",
                "Dockerfile",
                "--insecure",
                "--insecure-pull",
                "--no-push",
                "--image-fs-extract-retry",
                retries,
            ],
        );
        assert_eq!(
            out.status == 0,
            want_ok,
            "retries={retries}:\n{}",
            out.stderr
        );
        if want_ok {
            assert!(out.stderr.contains("retrying (1/1)"), "{}", out.stderr);
        }
    }
}
