//! `executor index`: the fan-in of per-node builds. Two builds per test, one per platform
//! (`--custom-platform`, a base index of Debian's amd64 and arm64 busybox-static), push
//! `app:1-amd64` and `app:1-arm64`; `executor index` then pushes one index over them, in
//! the same repository (nothing copied: no upload request reaches the registry), in another
//! repository (blobs mounted, never sent) and on another registry (blobs streamed). Read
//! back with skopeo; `skopeo copy --all` of each index finds every blob.

mod common;
use base64::Engine;
use common::*;
use serde_json::Value;
use std::process::Command;
use testkit::images::{push_busybox_index, Access, Format, ImageSpec, Platform};
use testkit::proxy::{Fault, FaultProxy, Rule};
use testkit::registry::{Auth, Registry};
use testkit::sandbox::{Output, Sandbox};

/// A registry with a two-platform busybox index `base/busybox:multi` of `format`.
fn registry_with_base(format: Format) -> Registry {
    let reg = Registry::start(Auth::None, false).expect("registry");
    let spec = ImageSpec {
        format,
        ..ImageSpec::default()
    };
    push_busybox_index(
        &reg.addr,
        "base/busybox:multi",
        &[Platform::amd64(), Platform::arm64()],
        &spec,
        &Access::default(),
    )
    .expect("push the base index");
    reg
}

/// Builds a one-COPY image for `platform` (no RUN: nothing foreign executes) and pushes it
/// to `reference` on `reg`; its manifest digest.
fn build_for(reg: &Registry, platform: &str, reference: &str, extra: &[&str]) -> String {
    let dest = format!("{}/{reference}", reg.addr);
    let df = format!("FROM {}/base/busybox:multi\nCOPY hello /hello\n", reg.addr);
    let ctx = context(&[("Dockerfile", &df), ("hello", platform)]);
    let custom = format!("--custom-platform={platform}");
    let mut args = vec![
        custom.as_str(),
        "--destination",
        &dest,
        "--digest-file=/kaniko/digest",
    ];
    args.extend_from_slice(extra);
    let (sb, _) = build_ok(ctx.path(), &args);
    std::fs::read_to_string(sb.root().join("kaniko/digest")).expect("digest file")
}

/// `executor index` in a fresh sandbox over plain http.
fn run_index(args: &[&str]) -> (Sandbox, Output) {
    let sb = Sandbox::new(&executor()).expect("sandbox");
    let mut all = vec!["index", "--insecure"];
    all.extend_from_slice(args);
    let out = sb.run(&all).expect("run sandbox");
    (sb, out)
}

fn index_ok(args: &[&str]) -> Sandbox {
    let (sb, out) = run_index(args);
    assert_eq!(out.status, 0, "executor index failed:\n{}", out.stderr);
    sb
}

/// The manifest `reference` exactly as stored, parsed, and its digest.
fn raw(addr: &str, reference: &str) -> (Value, String) {
    raw_as(addr, reference, None)
}

/// [`raw`] with Basic credentials.
fn raw_as(addr: &str, reference: &str, creds: Option<(&str, &str)>) -> (Value, String) {
    let mut cmd = Command::new("skopeo");
    cmd.args(["inspect", "--tls-verify=false", "--raw"]);
    if let Some((user, password)) = creds {
        cmd.arg(format!("--creds={user}:{password}"));
    }
    let out = cmd
        .arg(format!("docker://{addr}/{reference}"))
        .output()
        .expect("skopeo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut sum = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sha256sum");
    std::io::Write::write_all(&mut sum.stdin.take().unwrap(), &out.stdout).unwrap();
    let hex = String::from_utf8(sum.wait_with_output().unwrap().stdout).unwrap();
    let digest = format!("sha256:{}", hex.split_whitespace().next().unwrap());
    (serde_json::from_slice(&out.stdout).expect("JSON"), digest)
}

/// The index's entries as (platform, digest), platform as `os/arch`.
fn entries(index: &Value) -> Vec<(String, String)> {
    index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .map(|m| {
            let p = &m["platform"];
            (
                format!(
                    "{}/{}",
                    p["os"].as_str().unwrap(),
                    p["architecture"].as_str().unwrap()
                ),
                m["digest"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// `skopeo copy --all` of `reference` into an OCI layout: fails if any blob is missing.
fn copy_all(addr: &str, reference: &str) {
    copy_all_as(addr, reference, None)
}

fn copy_all_as(addr: &str, reference: &str, creds: Option<(&str, &str)>) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("skopeo");
    cmd.args(["copy", "-q", "--all", "--src-tls-verify=false"]);
    if let Some((user, password)) = creds {
        cmd.arg(format!("--src-creds={user}:{password}"));
    }
    let out = cmd
        .arg(format!("docker://{addr}/{reference}"))
        .arg(format!("oci:{}:copy", dir.path().display()))
        .output()
        .expect("skopeo");
    assert!(
        out.status.success(),
        "skopeo copy --all {reference}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The requests the proxy saw as `METHOD path`.
fn requests(proxy: &FaultProxy) -> Vec<String> {
    proxy
        .seen()
        .into_iter()
        .map(|s| format!("{} {}", s.method, s.path))
        .collect()
}

#[test]
fn index_in_the_same_repository_references_the_pushes() {
    let reg = registry_with_base(Format::Oci);
    let amd64 = build_for(&reg, "linux/amd64", "app:1-amd64", &[]);
    let arm64 = build_for(&reg, "linux/arm64", "app:1-arm64", &[]);
    let proxy = FaultProxy::start(&reg.addr).unwrap();
    let p = &proxy.addr;
    let sb = index_ok(&[
        "--destination",
        &format!("{p}/app:1"),
        &format!("--destination={p}/app:latest"),
        &format!("{p}/app:1-amd64"),
        // By digest, as a pipeline passes a build's result on.
        &format!("{p}/app@{arm64}"),
        "--digest-file=/kaniko/out/digest",
        "--image-name-with-digest-file=/kaniko/out/names",
        "--image-name-tag-with-digest-file=/kaniko/out/tags",
    ]);
    let (index, digest) = raw(&reg.addr, "app:1");
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    assert_eq!(
        entries(&index),
        [
            ("linux/amd64".to_string(), amd64),
            ("linux/arm64".to_string(), arm64)
        ]
    );
    assert_eq!(raw(&reg.addr, "app:latest").1, digest);
    // Nothing was copied: no upload was started, no manifest but the two tags was put.
    let seen = requests(&proxy);
    assert!(
        !seen.iter().any(|r| r.contains("/blobs/uploads")),
        "{seen:#?}"
    );
    let puts: Vec<&String> = seen.iter().filter(|r| r.starts_with("PUT")).collect();
    assert_eq!(
        puts,
        ["PUT /v2/app/manifests/1", "PUT /v2/app/manifests/latest"]
    );
    let read = |f: &str| std::fs::read_to_string(sb.root().join("kaniko/out").join(f)).unwrap();
    assert_eq!(read("digest"), digest);
    assert_eq!(
        read("names"),
        format!("{p}/app@{digest}\n{p}/app@{digest}\n")
    );
    assert_eq!(
        read("tags"),
        format!("{p}/app:1@{digest}\n{p}/app:latest@{digest}\n")
    );
    copy_all(&reg.addr, "app:1");

    // An index among the sources gives its entries: two for linux/amd64 now.
    let (_, out) = run_index(&[
        "-d",
        &format!("{}/app:dup", reg.addr),
        &format!("{}/app:1-amd64", reg.addr),
        &format!("{}/base/busybox:multi", reg.addr),
    ]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    let line = format!("sources {}/app:1-amd64 (sha256:", reg.addr);
    assert!(out.stderr.contains(&line), "{}", out.stderr);
    assert!(
        out.stderr.contains("base/busybox:multi ("),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("are both for platform linux/amd64"),
        "{}",
        out.stderr
    );
    assert!(!exists(&reg, "app:dup"), "nothing is tagged after an error");

    // A missing source: named, with the registry's answer.
    let (sb, out) = run_index(&[
        "-d",
        &format!("{}/app:2", reg.addr),
        "--digest-file=/kaniko/digest",
        &format!("{}/app:1-amd64", reg.addr),
        &format!("{}/app:1-riscv64", reg.addr),
    ]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    let want = format!("source {}/app:1-riscv64: GET ", reg.addr);
    assert!(out.stderr.contains(&want), "{}", out.stderr);
    assert!(out.stderr.contains("404"), "{}", out.stderr);
    assert!(out.stderr.contains("MANIFEST_UNKNOWN"), "{}", out.stderr);
    assert!(!exists(&reg, "app:2"));
    assert!(!sb.root().join("kaniko/digest").exists());
}

#[test]
fn sources_elsewhere_are_mounted_or_streamed() {
    let reg = registry_with_base(Format::Docker);
    let amd64 = build_for(&reg, "linux/amd64", "builds/app:amd64", &[]);
    let arm64 = build_for(&reg, "linux/arm64", "builds/app:arm64", &[]);

    // Another repository of the same registry: every blob mounted, none sent.
    let proxy = FaultProxy::start(&reg.addr).unwrap();
    let p = &proxy.addr;
    let (_, out) = run_index(&[
        "-d",
        &format!("{p}/release/app:1"),
        &format!("{p}/builds/app:amd64"),
        &format!("{p}/builds/app:arm64"),
    ]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    // Config, base layer and the COPY's layer of each.
    let copied = out
        .stderr
        .matches(": 3 blobs mounted, 0 sent, 0 already there")
        .count();
    assert_eq!(copied, 2, "{}", out.stderr);
    let (list, _) = raw(&reg.addr, "release/app:1");
    // Every source Docker-typed: a Docker manifest list.
    assert_eq!(
        list["mediaType"],
        "application/vnd.docker.distribution.manifest.list.v2+json"
    );
    assert_eq!(
        entries(&list),
        [
            ("linux/amd64".to_string(), amd64.clone()),
            ("linux/arm64".to_string(), arm64.clone())
        ]
    );
    let seen = requests(&proxy);
    let posts: Vec<&String> = seen
        .iter()
        .filter(|r| r.contains("/blobs/uploads"))
        .collect();
    assert!(!posts.is_empty(), "{seen:#?}");
    for r in &posts {
        assert!(
            r.starts_with("POST /v2/release/app/blobs/uploads/?mount=sha256:")
                && r.ends_with("&from=builds/app"),
            "not a mount: {r}"
        );
    }
    // Each child manifest put by digest, then the tag.
    let puts: Vec<&String> = seen.iter().filter(|r| r.starts_with("PUT")).collect();
    assert_eq!(
        puts,
        [
            &format!("PUT /v2/release/app/manifests/{amd64}"),
            &format!("PUT /v2/release/app/manifests/{arm64}"),
            &"PUT /v2/release/app/manifests/1".to_string(),
        ]
    );
    copy_all(&reg.addr, "release/app:1");

    // Another registry, and a mixed pair (an OCI image beside a Docker one): the blobs
    // streamed across, and an OCI index.
    let oci = build_for(
        &reg,
        "linux/amd64",
        "builds/app:amd64-oci",
        &["--image-format=oci"],
    );
    let other = Registry::start(Auth::None, false).expect("registry");
    let (_, out) = run_index(&[
        "-d",
        &format!("{}/mirror/app:1", other.addr),
        &format!("{}/builds/app:amd64-oci", reg.addr),
        &format!("{}/builds/app:arm64", reg.addr),
    ]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let copied = out
        .stderr
        .matches(": 0 blobs mounted, 3 sent, 0 already there")
        .count();
    assert_eq!(copied, 2, "{}", out.stderr);
    let (index, _) = raw(&other.addr, "mirror/app:1");
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    assert_eq!(
        entries(&index),
        [
            ("linux/amd64".to_string(), oci),
            ("linux/arm64".to_string(), arm64)
        ]
    );
    copy_all(&other.addr, "mirror/app:1");

    // A layer corrupted on the way from the source registry: the copy fails, nothing tagged.
    let (manifest, _) = raw(&reg.addr, "builds/app:arm64");
    let layer = manifest["layers"][1]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let proxy = FaultProxy::start(&reg.addr).unwrap();
    proxy.add(Rule::new(Some("GET"), &layer, 100, Fault::Corrupt));
    let third = Registry::start(Auth::None, false).expect("registry");
    let (_, out) = run_index(&[
        "-d",
        &format!("{}/mirror/app:bad", third.addr),
        &format!("{}/builds/app:arm64", proxy.addr),
    ]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("digest mismatch for blob {layer}")),
        "{}",
        out.stderr
    );
    assert!(
        !exists(&third, "mirror/app:bad"),
        "tagged despite a corrupt layer"
    );
}

#[test]
fn an_index_source_is_copied_between_registries_with_each_ones_credentials() {
    let (src_creds, dest_creds) = (("ann", "src-Pa55"), ("bob", "dest-Pa55"));
    let basic = |(user, password): (&str, &str)| Auth::Basic {
        user: user.into(),
        password: password.into(),
    };
    let src = Registry::start(basic(src_creds), false).expect("registry");
    let dest = Registry::start(basic(dest_creds), false).expect("registry");
    let access = Access {
        creds: src.credentials(),
        ca_cert: None,
    };
    let platforms = [Platform::amd64(), Platform::arm64()];
    let digest = push_busybox_index(
        &src.addr,
        "base/busybox:multi",
        &platforms,
        &ImageSpec::default(),
        &access,
    )
    .expect("push the index");
    // Both registries' logins in the Docker config, as `executor login` writes them.
    let login = |addr: &str, (user, password): (&str, &str)| {
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        (addr.to_string(), serde_json::json!({ "auth": auth }))
    };
    let auths: serde_json::Map<String, Value> =
        [login(&src.addr, src_creds), login(&dest.addr, dest_creds)]
            .into_iter()
            .collect();
    let mut sb = Sandbox::new(&executor()).expect("sandbox");
    sb.docker_config(&serde_json::json!({ "auths": auths }).to_string());
    let out = sb
        .run(&[
            "index",
            "--insecure",
            "-d",
            &format!("{}/app:1", dest.addr),
            &format!("{}/base/busybox@{digest}", src.addr),
            "--verbosity=trace",
        ])
        .expect("run sandbox");
    assert_eq!(out.status, 0, "{}", out.stderr);
    for secret in [src_creds.1, dest_creds.1] {
        assert!(!out.stderr.contains(secret), "a password in the log");
    }
    let (source, _) = raw_as(
        &src.addr,
        &format!("base/busybox@{digest}"),
        Some(src_creds),
    );
    let (index, _) = raw_as(&dest.addr, "app:1", Some(dest_creds));
    // The source index's entries: platforms (arm64's variant too) and digests kept.
    assert_eq!(index["manifests"], source["manifests"]);
    assert_eq!(entries(&index).len(), 2);
    copy_all_as(&dest.addr, "app:1", Some(dest_creds));
}
