//! Single-stage builds kaniko and `docker build` accept that the first version rejected or
//! built differently (issue 13), each checked on the pushed image with umoci or runc.

mod common;
use common::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;

/// Unpacks `image` with umoci; returns the temp dir and the bundle's rootfs.
fn files(reg: &testkit::registry::Registry, image: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let bundle = testkit::images::unpack(&reg.addr, image, dir.path()).unwrap();
    let rootfs = bundle.join("rootfs");
    (dir, rootfs)
}

fn build(reg: &testkit::registry::Registry, df: &str, ctx_files: &[(&str, &str)], tag: &str) {
    let mut all = vec![("Dockerfile", df)];
    all.extend_from_slice(ctx_files);
    let ctx = context(&all);
    build_ok(
        ctx.path(),
        &["--destination", &format!("{}/test/conf:{tag}", reg.addr)],
    );
}

fn build_err(reg: &testkit::registry::Registry, df: &str, ctx_files: &[(&str, &str)]) -> String {
    let mut all = vec![("Dockerfile", df)];
    all.extend_from_slice(ctx_files);
    let ctx = context(&all);
    let (_, out) = run(
        ctx.path(),
        &[
            "--context",
            "/workspace",
            "--dockerfile",
            "Dockerfile",
            "--insecure",
            "--insecure-pull",
            "--destination",
            &format!("{}/test/conf:err", reg.addr),
        ],
    );
    assert_ne!(out.status, 0, "the build should fail:\n{}", out.stderr);
    assert!(!exists(reg, "test/conf:err"));
    out.stderr
}

const CTX: &[(&str, &str)] = &[("context/foo", "foo\n"), ("context/bar/b", "bar\n")];

#[test]
fn empty_wildcard_beside_matching_sources_is_skipped() {
    let reg = registry_with_busybox();
    let base = format!("FROM {}/library/busybox:latest\n", reg.addr);
    build(
        &reg,
        &format!("{base}COPY context/bar/doesnotexist* context/foo /hello/\nADD context/none* context/bar/ /added/\n"),
        CTX,
        "wild",
    );
    let (_d, root) = files(&reg, "test/conf:wild");
    assert_eq!(
        std::fs::read_to_string(root.join("hello/foo")).unwrap(),
        "foo\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("added/b")).unwrap(),
        "bar\n"
    );
    // Wildcards that all match nothing copy nothing, as BuildKit (which allows an empty
    // wildcard for every source); a plain missing file is an error.
    build(
        &reg,
        &format!("{base}COPY context/nope* context/none* /x/\n"),
        CTX,
        "empty",
    );
    let (_d, root) = files(&reg, "test/conf:empty");
    assert!(!root.join("x").exists());
    let e = build_err(
        &reg,
        &format!("{base}COPY context/foo context/missing /x/\n"),
        CTX,
    );
    assert!(e.contains("context/missing"), "{e}");
}

#[test]
fn the_context_root_copies_everywhere() {
    let reg = registry_with_busybox();
    let bb = format!("FROM {}/library/busybox:latest", reg.addr);
    let cases = [
        ("FROM scratch\nCOPY . .\n".to_string(), "/"),
        ("FROM scratch\nCOPY / /foo\n".to_string(), "/foo/"),
        ("FROM scratch\nWORKDIR /w\nCOPY . ./\n".to_string(), "/w/"),
        (format!("{bb}\nWORKDIR /app\nCOPY . .\n"), "/app/"),
        (format!("{bb}\nCOPY ./ ./\n"), "/"),
        (format!("{bb}\nCOPY . /newdir\n"), "/newdir/"),
        (
            format!("{bb} AS s\nCOPY . /src\n{bb}\nCOPY --from=s /src/ /fromstage\n"),
            "/fromstage/",
        ),
    ];
    for (i, (df, at)) in cases.iter().enumerate() {
        let tag = format!("root{i}");
        build(&reg, df, CTX, &tag);
        let (_d, root) = files(&reg, &format!("test/conf:{tag}"));
        let base = root.join(at.trim_start_matches('/'));
        assert_eq!(
            std::fs::read_to_string(base.join("context/foo")).unwrap_or_default(),
            "foo\n",
            "{df}"
        );
        assert_eq!(
            std::fs::read_to_string(base.join("context/bar/b")).unwrap_or_default(),
            "bar\n",
            "{df}"
        );
    }
}

#[test]
fn root_entry_metadata_lets_unprivileged_users_run() {
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {}/library/busybox:latest\nUSER nobody\nRUN id -u > /tmp/uid\nUSER 1000:50\nRUN id -g > /tmp/gid\n",
        reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let mut sb = testkit::sandbox::Sandbox::new(&executor()).unwrap();
    sb.context(ctx.path());
    // Some runtimes start the executor with a 0700 root.
    std::fs::set_permissions(sb.root(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let out = sb
        .run(&[
            "--context",
            "/workspace",
            "--dockerfile",
            "Dockerfile",
            "--insecure",
            "--insecure-pull",
            "--destination",
            &format!("{}/test/conf:rootmode", reg.addr),
        ])
        .unwrap();
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(
        std::fs::metadata(sb.root()).unwrap().mode() & 0o777,
        0o755,
        "the base layer's ./ entry was not applied"
    );
    let (_d, root) = files(&reg, "test/conf:rootmode");
    assert_eq!(
        std::fs::read_to_string(root.join("tmp/uid")).unwrap(),
        "65534\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("tmp/gid")).unwrap(),
        "50\n"
    );
}

#[test]
fn volume_is_config_only_and_later_writes_stay() {
    // BuildKit's dispatchVolume only records the volumes: no directory is made, and a
    // write under a volume after its declaration stays in the image.
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {}/library/busybox:latest\nENV VOL=/vv\nVOLUME /foo/bar /tmp /qux/quux\nVOLUME [\"${{VOL}}\"]\nVOLUME /foo1\nRUN mkdir /foo1 && echo hi > /foo1/hello\n",
        reg.addr
    );
    build(&reg, &df, &[], "volume");
    let (_d, root) = files(&reg, "test/conf:volume");
    for d in ["foo", "qux", "vv"] {
        assert!(!root.join(d).exists(), "/{d} made by VOLUME");
    }
    // An existing directory keeps its mode.
    assert_eq!(
        std::fs::metadata(root.join("tmp")).unwrap().mode() & 0o7777,
        0o1777
    );
    assert_eq!(
        std::fs::read_to_string(root.join("foo1/hello")).unwrap(),
        "hi\n"
    );
    let config = testkit::images::inspect_raw(&reg.addr, "test/conf:volume", true).unwrap();
    let vols = &config["config"]["Volumes"];
    for v in ["/foo/bar", "/tmp", "/qux/quux", "/vv", "/foo1"] {
        assert!(vols.get(v).is_some(), "{v} missing from {vols}");
    }
}

#[test]
fn scratch_images_get_the_default_path() {
    let reg = registry_with_busybox();
    build(&reg, "FROM scratch\nCOPY context/foo /foo\n", CTX, "path");
    let config = testkit::images::inspect_raw(&reg.addr, "test/conf:path", true).unwrap();
    assert_eq!(
        config["config"]["Env"],
        serde_json::json!(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
    );
    // A stage that sets PATH keeps its own.
    build(&reg, "FROM scratch\nENV PATH=/mine\n", &[], "path2");
    let config = testkit::images::inspect_raw(&reg.addr, "test/conf:path2", true).unwrap();
    assert_eq!(config["config"]["Env"], serde_json::json!(["PATH=/mine"]));
}

#[test]
fn dockerignore_exceptions_reach_into_excluded_directories() {
    // `a/b` is excluded but `!a/b/y.txt` brings one file back: Docker walks into the
    // directory for it (kaniko too); the rest of `a/b` stays out.
    let reg = registry_with_busybox();
    let df = format!("FROM {}/library/busybox:latest\nCOPY . /ctx/\n", reg.addr);
    build(
        &reg,
        &df,
        &[
            (".dockerignore", "**/*.log\n!keep/*.log\na/b\n!a/b/y.txt\n"),
            ("a/x.txt", "x"),
            ("a/b/y.txt", "y"),
            ("a/b/z.txt", "z"),
            ("a/b/c/w.txt", "w"),
            ("keep/k.log", "k"),
            ("drop/d.log", "d"),
        ],
        "ignore-exceptions",
    );
    let (_dir, rootfs) = files(&reg, "test/conf:ignore-exceptions");
    let ctx = rootfs.join("ctx");
    assert_eq!(std::fs::read_to_string(ctx.join("a/b/y.txt")).unwrap(), "y");
    assert_eq!(std::fs::read_to_string(ctx.join("a/x.txt")).unwrap(), "x");
    assert_eq!(
        std::fs::read_to_string(ctx.join("keep/k.log")).unwrap(),
        "k"
    );
    for gone in ["a/b/z.txt", "a/b/c", "drop/d.log"] {
        assert!(!ctx.join(gone).exists(), "{gone} should be left out");
    }
}

#[test]
fn add_extracts_bzip2_and_xz_archives() {
    // Docker's ADD unpacks tar archives compressed with gzip, bzip2, xz or zstd.
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {}/library/busybox:latest\nADD t.tar.bz2 /bz2/\nADD t.tar.xz /xz/\nADD t.tar.zst /zst/\n",
        reg.addr
    );
    let ctx = context(&[("Dockerfile", &df), ("t/in.txt", "inside\n")]);
    for (flag, name) in [
        ("-j", "t.tar.bz2"),
        ("-J", "t.tar.xz"),
        ("--zstd", "t.tar.zst"),
    ] {
        let ok = std::process::Command::new("tar")
            .args([flag, "-cf", name, "t"])
            .current_dir(ctx.path())
            .status()
            .unwrap();
        assert!(ok.success(), "tar {flag}");
    }
    build_ok(
        ctx.path(),
        &["--destination", &format!("{}/test/conf:archives", reg.addr)],
    );
    let (_dir, rootfs) = files(&reg, "test/conf:archives");
    for d in ["bz2", "xz", "zst"] {
        assert_eq!(
            std::fs::read_to_string(rootfs.join(d).join("t/in.txt")).unwrap(),
            "inside\n",
            "{d}"
        );
    }
}
