//! Base images made by the test kit: pushed to a real registry, read back with skopeo,
//! unpacked with umoci and run with runc.

use std::os::unix::fs::PermissionsExt;
use testkit::images::{self, Access, Format, ImageSpec};
use testkit::registry::{Auth, Registry};

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn busybox_rootfs_has_the_applets_and_users() {
    let dir = tempfile::tempdir().unwrap();
    images::busybox_rootfs(dir.path()).unwrap();
    let d = dir.path();
    assert_eq!(
        std::fs::read_link(d.join("bin/sh")).unwrap().to_str(),
        Some("busybox")
    );
    assert!(d.join("bin/busybox").metadata().unwrap().len() > 100_000);
    let passwd = std::fs::read_to_string(d.join("etc/passwd")).unwrap();
    assert!(passwd.contains("\napp:x:1000:1000:"), "{passwd}");
    assert!(passwd.starts_with("root:x:0:0:"));
    assert!(passwd.contains("nobody:x:65534:"));
    assert!(std::fs::read_to_string(d.join("etc/group"))
        .unwrap()
        .contains("app:x:1000:"));
    let tmp = d.join("tmp").metadata().unwrap().permissions().mode();
    assert_eq!(tmp & 0o7777, 0o1777);
    assert!(d.join("root").is_dir());
    assert!(d.join("etc/hosts").is_file());
}

#[test]
fn busybox_pushes_inspects_unpacks_and_runs() {
    let reg = Registry::start(Auth::None, false).unwrap();
    let digest = images::push_busybox(&reg.addr, "library/busybox:latest").unwrap();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );

    let info = images::inspect(&reg.addr, "library/busybox:latest").unwrap();
    assert_eq!(info["Digest"], digest.as_str());
    assert_eq!(info["Layers"].as_array().unwrap().len(), 1);
    let env = info["Env"].as_array().unwrap();
    assert!(env.iter().any(|e| e.as_str().unwrap().starts_with("PATH=")));

    let manifest = images::inspect_raw(&reg.addr, "library/busybox:latest", false).unwrap();
    // OCI manifests may leave their own mediaType out; the config's says OCI.
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    let config = images::inspect_raw(&reg.addr, "library/busybox:latest", true).unwrap();
    assert_eq!(config["config"]["Cmd"], serde_json::json!(["sh"]));

    let work = tempfile::tempdir().unwrap();
    let bundle = images::unpack(&reg.addr, "library/busybox:latest", work.path()).unwrap();
    assert!(bundle.join("rootfs/bin/busybox").is_file());
    let out = images::run(&bundle, Some(&s(&["echo", "hi"]))).unwrap();
    assert_eq!(
        (out.status, out.stdout.as_str()),
        (0, "hi\n"),
        "{}",
        out.stderr
    );
    let out = images::run(&bundle, Some(&s(&["sh", "-c", "exit 3"]))).unwrap();
    assert_eq!(out.status, 3);
}

#[test]
fn spec_sets_format_config_and_extra_layers() {
    let reg = Registry::start(Auth::None, false).unwrap();
    let extra = tempfile::tempdir().unwrap();
    std::fs::write(extra.path().join("extra.txt"), "extra\n").unwrap();
    let spec = ImageSpec {
        format: Format::Docker,
        entrypoint: s(&["/bin/sh", "-c"]),
        cmd: s(&["id -u; pwd; cat /extra.txt; echo $GREETING"]),
        env: s(&["PATH=/bin", "GREETING=hello"]),
        user: Some("app".into()),
        workdir: Some("/home/app".into()),
        extra_layers: vec![extra.path().to_path_buf()],
    };
    images::push_busybox_with(&reg.addr, "test/spec:1", &spec, &Access::default()).unwrap();
    let manifest = images::inspect_raw(&reg.addr, "test/spec:1", false).unwrap();
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert_eq!(manifest["layers"].as_array().unwrap().len(), 2);
    let config = images::inspect_raw(&reg.addr, "test/spec:1", true).unwrap();
    assert_eq!(config["config"]["User"], "app");
    assert_eq!(config["config"]["WorkingDir"], "/home/app");
    assert_eq!(
        config["config"]["Entrypoint"],
        serde_json::json!(["/bin/sh", "-c"])
    );

    let work = tempfile::tempdir().unwrap();
    let bundle = images::unpack(&reg.addr, "test/spec:1", work.path()).unwrap();
    let out = images::run(&bundle, None).unwrap();
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "1000\n/home/app\nextra\nhello\n");
}

#[test]
fn credentials_are_used_for_push_and_inspect() {
    let auth = Auth::Basic {
        user: "alice".into(),
        password: "s3cret".into(),
    };
    let reg = Registry::start(auth, false).unwrap();
    let spec = ImageSpec::default();
    let anonymous = images::push_busybox_with(&reg.addr, "test/auth:1", &spec, &Access::default());
    assert!(anonymous.is_err());
    let access = Access {
        creds: Some(("alice", "s3cret")),
        ca_cert: None,
    };
    let digest = images::push_busybox_with(&reg.addr, "test/auth:1", &spec, &access).unwrap();
    let info = images::inspect_as(&reg.addr, "test/auth:1", &access).unwrap();
    assert_eq!(info["Digest"], digest.as_str());
    assert!(images::inspect(&reg.addr, "test/auth:1").is_err());
}

#[test]
fn tls_registry_is_verified_against_its_ca() {
    let reg = Registry::start(Auth::None, true).unwrap();
    let ca = reg.ca_cert.clone().unwrap();
    let access = Access {
        creds: None,
        ca_cert: Some(&ca),
    };
    let spec = ImageSpec::default();
    let digest = images::push_busybox_with(&reg.addr, "test/tls:1", &spec, &access).unwrap();
    let info = images::inspect_as(&reg.addr, "test/tls:1", &access).unwrap();
    assert_eq!(info["Digest"], digest.as_str());
    // A CA that did not sign the registry's certificate is refused.
    let other = tempfile::tempdir().unwrap();
    let (wrong_ca, _) = testkit::registry::self_signed(other.path(), "other").unwrap();
    let wrong = Access {
        creds: None,
        ca_cert: Some(&wrong_ca),
    };
    assert!(images::push_busybox_with(&reg.addr, "test/tls:2", &spec, &wrong).is_err());
}

/// A two-platform busybox index (Debian's amd64 and arm64 busybox-static), as OCI and as a
/// Docker manifest list: skopeo reads both platforms back, and each image runs with runc
/// (arm64 through qemu's binfmt_misc handler) and reports its machine.
#[test]
fn a_two_platform_index_runs_on_both_platforms() {
    assert!(
        images::aarch64_emulation(),
        "qemu-aarch64 is not registered in binfmt_misc with the F flag (.ci/run does it)"
    );
    let reg = Registry::start(Auth::None, false).unwrap();
    let platforms = [images::Platform::amd64(), images::Platform::arm64()];
    for (format, media_type) in [
        (Format::Oci, "application/vnd.oci.image.index.v1+json"),
        (
            Format::Docker,
            "application/vnd.docker.distribution.manifest.list.v2+json",
        ),
    ] {
        let reference = format!("multi/busybox:{format:?}").to_lowercase();
        let spec = ImageSpec {
            format,
            ..ImageSpec::default()
        };
        let digest = images::push_busybox_index(
            &reg.addr,
            &reference,
            &platforms,
            &spec,
            &Access::default(),
        )
        .unwrap();
        assert!(digest.starts_with("sha256:"), "{digest}");
        let raw = images::inspect_raw(&reg.addr, &reference, false).unwrap();
        assert_eq!(raw["mediaType"], media_type, "{raw}");
        let archs: Vec<&str> = raw["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["platform"]["architecture"].as_str().unwrap())
            .collect();
        assert_eq!(archs, ["amd64", "arm64"], "{raw}");
        for (arch, machine) in [("amd64", "x86_64"), ("arm64", "aarch64")] {
            let dir = tempfile::tempdir().unwrap();
            let bundle = images::unpack_platform(&reg.addr, &reference, arch, dir.path()).unwrap();
            let out = images::run_bundle(&bundle, Some(&s(&["uname", "-m"]))).unwrap();
            assert_eq!(out.status, 0, "{}", out.stderr);
            assert_eq!(out.stdout, format!("{machine}\n"), "{arch}");
        }
    }
}
