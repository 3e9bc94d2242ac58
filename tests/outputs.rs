//! Outputs: digest files, --tar-path (skopeo reads it as a docker-archive), --oci-layout-path
//! (umoci unpacks it), --no-push, --reproducible, zstd layers, labels, the base image's
//! manifest family kept or overridden.

mod common;
use common::*;
use std::process::Command;

fn simple(reg: &testkit::registry::Registry) -> tempfile::TempDir {
    let df = format!(
        "FROM {}/library/busybox:latest\nRUN echo out > /out.txt\nCMD [\"cat\", \"/out.txt\"]\n",
        reg.addr
    );
    context(&[("Dockerfile", &df)])
}

#[test]
fn digest_files_hold_the_pushed_digest() {
    let reg = registry_with_busybox();
    let ctx = simple(&reg);
    let d1 = format!("{}/test/out:a", reg.addr);
    let d2 = format!("{}/test/other:b", reg.addr);
    let (sb, out) = build_ok(
        ctx.path(),
        &[
            "--verbosity=debug",
            "-d",
            &d1,
            "--destination",
            &d2,
            "--digest-file",
            "/kaniko/d",
            "--image-name-with-digest-file",
            "/kaniko/n",
            "--image-name-tag-with-digest-file",
            "/kaniko/nt",
        ],
    );
    let digest = std::fs::read_to_string(sb.root().join("kaniko/d")).unwrap();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );
    // The base layer is mounted from library/busybox, not sent again.
    let mounted = format!("from {}/library/busybox", reg.addr);
    assert!(out.stderr.contains(&mounted), "{}", out.stderr);
    for (repo, tag) in [("test/out", "a"), ("test/other", "b")] {
        let i = testkit::images::inspect(&reg.addr, &format!("{repo}:{tag}")).unwrap();
        assert_eq!(i["Digest"], digest.as_str());
    }
    let names = std::fs::read_to_string(sb.root().join("kaniko/n")).unwrap();
    assert_eq!(
        names,
        format!(
            "{}/test/out@{digest}\n{}/test/other@{digest}\n",
            reg.addr, reg.addr
        )
    );
    let tags = std::fs::read_to_string(sb.root().join("kaniko/nt")).unwrap();
    assert_eq!(
        tags,
        format!(
            "{}/test/out:a@{digest}\n{}/test/other:b@{digest}\n",
            reg.addr, reg.addr
        )
    );
}

#[test]
fn tarball_and_oci_layout_without_push() {
    let reg = registry_with_busybox();
    let ctx = simple(&reg);
    let dest = format!("{}/test/tar:1", reg.addr);
    let (sb, out) = build_ok(
        ctx.path(),
        &[
            "--destination",
            &dest,
            "--no-push",
            "--tar-path",
            "/kaniko/image.tar",
            "--oci-layout-path",
            "/kaniko/layout",
            "--digest-file",
            "/kaniko/d",
        ],
    );
    assert!(out.stderr.contains("Skipping push"), "{}", out.stderr);
    assert!(!exists(&reg, "test/tar:1"), "--no-push pushed");
    // skopeo reads the tarball as a docker-archive.
    let tar = sb.root().join("kaniko/image.tar");
    let i = Command::new("skopeo")
        .arg("inspect")
        .arg(format!("docker-archive:{}", tar.display()))
        .output()
        .unwrap();
    assert!(i.status.success(), "{}", String::from_utf8_lossy(&i.stderr));
    let v: serde_json::Value = serde_json::from_slice(&i.stdout).unwrap();
    assert_eq!(v["Layers"].as_array().unwrap().len(), 2, "{v}");
    // umoci unpacks the layout, and runc runs it.
    let layout = sb.root().join("kaniko/layout");
    let idx: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(layout.join("index.json")).unwrap()).unwrap();
    let digest = std::fs::read_to_string(sb.root().join("kaniko/d")).unwrap();
    assert_eq!(idx["manifests"][0]["digest"], digest.as_str());
    let tag = Command::new("skopeo")
        .args(["copy", "-q"])
        .arg(format!("oci:{}", layout.display()))
        .arg(format!("oci:{}:t", sb.root().join("kaniko/copy").display()))
        .status()
        .unwrap();
    assert!(tag.success());
    let work = tempfile::tempdir().unwrap();
    let bundle =
        testkit::images::unpack_layout(&sb.root().join("kaniko/copy"), "t", work.path()).unwrap();
    let run = testkit::images::run(&bundle, None).unwrap();
    assert_eq!(run.stdout, "out\n", "{}", run.stderr);
}

#[test]
fn reproducible_builds_are_byte_identical() {
    let reg = registry_with_busybox();
    let ctx = simple(&reg);
    let mut digests = Vec::new();
    for tag in ["r1", "r2"] {
        let dest = format!("{}/test/repro:{tag}", reg.addr);
        let (sb, _) = build_ok(
            ctx.path(),
            &[
                "--destination",
                &dest,
                "--reproducible",
                "--digest-file",
                "/kaniko/d",
            ],
        );
        digests.push(std::fs::read_to_string(sb.root().join("kaniko/d")).unwrap());
    }
    assert_eq!(digests[0], digests[1]);
    let config = testkit::images::inspect_raw(&reg.addr, "test/repro:r1", true).unwrap();
    assert_eq!(config["created"], "1970-01-01T00:00:00Z");
    // Without --reproducible the created time is now.
    let dest = format!("{}/test/repro:now", reg.addr);
    build_ok(ctx.path(), &["--destination", &dest]);
    let config = testkit::images::inspect_raw(&reg.addr, "test/repro:now", true).unwrap();
    assert_ne!(config["created"], "1970-01-01T00:00:00Z");
}

#[test]
fn zstd_layers_labels_and_format() {
    let reg = registry_with_busybox();
    let ctx = simple(&reg);
    let dest = format!("{}/test/zstd:1", reg.addr);
    build_ok(
        ctx.path(),
        &[
            "--destination",
            &dest,
            "--compression",
            "zstd",
            "--label",
            "org.example=yes",
        ],
    );
    let m = testkit::images::inspect_raw(&reg.addr, "test/zstd:1", false).unwrap();
    assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    let layers = m["layers"].as_array().unwrap();
    assert_eq!(
        layers.last().unwrap()["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+zstd"
    );
    let c = testkit::images::inspect_raw(&reg.addr, "test/zstd:1", true).unwrap();
    assert_eq!(c["config"]["Labels"]["org.example"], "yes");
    // Debian's umoci cannot unpack zstd layers: read the layer blob directly.
    let work = tempfile::tempdir().unwrap();
    let layout = work.path().join("oci");
    let ok = Command::new("skopeo")
        .args(["copy", "-q", "--src-tls-verify=false"])
        .arg(format!("docker://{}/test/zstd:1", reg.addr))
        .arg(format!("oci:{}:z", layout.display()))
        .status()
        .unwrap();
    assert!(ok.success());
    let digest = layers.last().unwrap()["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_string();
    let blob = std::fs::File::open(layout.join("blobs/sha256").join(digest)).unwrap();
    let tar_stream = rootfs::decompressor(std::io::BufReader::new(blob)).unwrap();
    let mut archive = tar::Archive::new(tar_stream);
    let mut found = String::new();
    for e in archive.entries().unwrap() {
        let mut e = e.unwrap();
        if e.path().unwrap().to_string_lossy() == "out.txt" {
            std::io::Read::read_to_string(&mut e, &mut found).unwrap();
        }
    }
    assert_eq!(found, "out\n");
    // --image-format docker turns the OCI base into a Docker schema 2 image.
    let dest = format!("{}/test/docker:1", reg.addr);
    build_ok(
        ctx.path(),
        &["--destination", &dest, "--image-format", "docker"],
    );
    let m = testkit::images::inspect_raw(&reg.addr, "test/docker:1", false).unwrap();
    assert_eq!(
        m["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert_eq!(
        m["layers"][1]["mediaType"],
        "application/vnd.docker.image.rootfs.diff.tar.gzip"
    );
}

#[test]
fn metadata_only_skips_unpack_and_reuploads_nothing() {
    let reg = registry_with_busybox();
    let df = format!("FROM {}/library/busybox:latest\nLABEL a=b\nENV X=1\nEXPOSE 8080\nENTRYPOINT [\"/bin/sh\", \"-c\", \"echo $X\"]\n", reg.addr);
    let ctx = context(&[("Dockerfile", &df)]);
    let dest = format!("{}/library/busybox:meta", reg.addr);
    let (_, out) = build_ok(
        ctx.path(),
        &["--destination", &dest, "--verbosity", "debug"],
    );
    assert!(
        out.stderr
            .contains("Skipping unpacking as no commands require it."),
        "{}",
        out.stderr
    );
    let base = testkit::images::inspect_raw(&reg.addr, "library/busybox:latest", false).unwrap();
    let m = testkit::images::inspect_raw(&reg.addr, "library/busybox:meta", false).unwrap();
    assert_eq!(base["layers"], m["layers"]);
    let c = testkit::images::inspect_raw(&reg.addr, "library/busybox:meta", true).unwrap();
    assert_eq!(
        c["config"]["ExposedPorts"]["8080/tcp"],
        serde_json::json!({})
    );
    assert_eq!(
        c["config"]["Cmd"],
        serde_json::Value::Null,
        "ENTRYPOINT resets the base image's CMD"
    );
    assert_eq!(run_image(&reg, "library/busybox:meta", None), "1\n");
}
