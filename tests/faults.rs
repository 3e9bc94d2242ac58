//! Builds in the pod sandbox against the real registry behind the fault-injecting proxy:
//! with `--image-download-retry` and `--push-retry`, 5xx, 429 with Retry-After, resets,
//! dropped connections, truncated and trickling bodies are survived and the pushed image
//! is whole (skopeo, umoci, runc); a corrupted blob fails the build at once, with no tag
//! and no digest file; a stalled registry ends the build with a timeout naming the request.

mod common;
use common::*;
use std::time::{Duration, Instant};
use testkit::proxy::{Fault, FaultProxy, Rule};
use testkit::sandbox::{Output, Sandbox};

fn rule(method: &str, path: &str, times: usize, fault: Fault) -> Rule {
    Rule::new(Some(method), path, times, fault)
}

/// The base image's config and first layer digests.
fn base_blobs(reg: &str) -> (String, String) {
    let raw = testkit::images::inspect_raw(reg, "library/busybox:latest", false).unwrap();
    let config = raw["config"]["digest"].as_str().unwrap().to_string();
    let layer = raw["layers"][0]["digest"].as_str().unwrap().to_string();
    (config, layer)
}

/// Builds `FROM proxy/library/busybox` + a RUN, pushing to `proxy/test/NAME:1`, with
/// short retry waits and the extra flags and environment given.
fn build(proxy: &str, name: &str, flags: &[&str], env: &[(&str, &str)]) -> (Sandbox, Output) {
    let df = format!("FROM {proxy}/library/busybox:latest\nRUN echo survived > /hello\n");
    let ctx = context(&[("Dockerfile", &df)]);
    let mut sb = Sandbox::new(&executor()).unwrap();
    sb.context(ctx.path()).timeout(Duration::from_secs(120));
    sb.env("KANIKO_REGISTRY_RETRY_BACKOFF", "100ms");
    for (k, v) in env {
        sb.env(k, v);
    }
    let dest = format!("{proxy}/test/{name}:1");
    let mut args = PLAIN.to_vec();
    args.extend(["--destination", &dest, "--digest-file", "/kaniko/digest"]);
    args.extend_from_slice(flags);
    let out = sb.run(&args).unwrap();
    (sb, out)
}

fn digest_file(sb: &Sandbox) -> Option<String> {
    std::fs::read_to_string(sb.root().join("kaniko/digest")).ok()
}

#[test]
fn a_build_through_a_faulty_registry_retries_and_pushes_a_whole_image() {
    let reg = registry_with_busybox();
    let (config, layer) = base_blobs(&reg.addr);
    let proxy = FaultProxy::start(&reg.addr).unwrap();
    let retry_after = Fault::Status {
        code: 429,
        retry_after: Some(1),
    };
    let status = |code| Fault::Status {
        code,
        retry_after: None,
    };
    let trickle = Fault::Trickle {
        chunk: 64 << 10,
        pause: Duration::from_millis(20),
    };
    for r in [
        rule("GET", "/manifests/", 1, status(503)),
        rule("GET", &config, 1, Fault::Reset),
        rule("GET", &layer, 1, Fault::Truncate(100_000)),
        rule("GET", &layer, 1, trickle),
        rule("HEAD", "/blobs/", 1, Fault::Drop),
        rule("POST", "/blobs/uploads/", 1, retry_after),
        rule("PUT", "/blobs/uploads/", 1, Fault::Drop),
        rule("PUT", "/manifests/", 1, status(502)),
    ] {
        proxy.add(r);
    }
    let retries = ["--image-download-retry=3", "--push-retry=3"];
    let (sb, out) = build(&proxy.addr, "faulty", &retries, &[]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stderr.contains("retrying"), "{}", out.stderr);
    assert!(
        out.stderr.contains("continuing from byte 100000"),
        "{}",
        out.stderr
    );
    // The summary counts the retried requests (the 503, reset, drops, 429, 502 above).
    let total = out
        .stderr
        .lines()
        .find(|l| l.contains("Build summary: total"))
        .expect("a summary line");
    let retries: u64 = total
        .rsplit("requests, ")
        .next()
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("a retry count");
    assert!(retries >= 5, "{total}");

    // Checked from the registry itself, without the proxy.
    let seen = testkit::images::inspect(&reg.addr, "test/faulty:1").unwrap();
    assert_eq!(
        Some(seen["Digest"].as_str().unwrap().to_string()),
        digest_file(&sb)
    );
    let cat = ["cat".to_string(), "/hello".to_string()];
    assert_eq!(
        run_image(&reg, "test/faulty:1", Some(&cat)).trim(),
        "survived"
    );
}

#[test]
fn a_corrupted_blob_fails_the_build_at_once_even_with_retries() {
    let reg = registry_with_busybox();
    let (_, layer) = base_blobs(&reg.addr);
    let proxy = FaultProxy::start(&reg.addr).unwrap();
    proxy.add(rule("GET", &layer, usize::MAX, Fault::Corrupt));
    let retries = ["--image-download-retry=3", "--push-retry=3"];
    let (sb, out) = build(&proxy.addr, "corrupt", &retries, &[]);
    assert_ne!(out.status, 0, "{}", out.stderr);
    // The gzip checksum or the digest catches it, before any RUN and without a retry.
    let last = out.stderr.lines().last().unwrap_or_default();
    assert!(last.contains(&format!("layer {layer}")), "{}", out.stderr);
    assert!(!out.stderr.contains("Running:"), "{}", out.stderr);
    assert!(!out.stderr.contains("retrying"), "{}", out.stderr);
    assert!(!exists(&reg, "test/corrupt:1"), "a tag was pushed");
    assert_eq!(digest_file(&sb), None, "a digest file was written");
}

#[test]
fn a_stalled_registry_ends_the_build_with_a_timeout_naming_the_request() {
    let reg = registry_with_busybox();
    let (_, layer) = base_blobs(&reg.addr);
    let proxy = FaultProxy::start(&reg.addr).unwrap();
    let stall = Fault::Stall(Duration::from_secs(90));
    proxy.add(rule("GET", &layer, usize::MAX, stall));
    let started = Instant::now();
    let env = [("KANIKO_REGISTRY_READ_TIMEOUT", "2s")];
    let (sb, out) = build(&proxy.addr, "stalled", &[], &env);
    assert_ne!(out.status, 0, "{}", out.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    let last = out.stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("timed out")
            && last.contains("KANIKO_REGISTRY_READ_TIMEOUT")
            && last.contains(&format!("/blobs/{layer}")),
        "{}",
        out.stderr
    );
    assert!(!exists(&reg, "test/stalled:1"));
    assert_eq!(digest_file(&sb), None);
}
