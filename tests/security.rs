//! Hostile images and contexts: nothing a layer holds may reach the executor's own files
//! (/kaniko), the user's mounted context (/workspace), or anything outside the root.

mod common;
use common::*;

/// A tar stream built entry by entry, names taken as given (no sanitising).
struct RawTar(Vec<u8>);

impl RawTar {
    fn entry(&mut self, name: &str, kind: u8, link: &str, data: &[u8]) -> &mut Self {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..107].copy_from_slice(b"0000755");
        h[108..115].copy_from_slice(b"0000000");
        h[116..123].copy_from_slice(b"0000000");
        h[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
        h[136..147].copy_from_slice(b"00000000000");
        h[156] = kind;
        h[157..157 + link.len()].copy_from_slice(link.as_bytes());
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        self.0.extend_from_slice(&h);
        self.0.extend_from_slice(data);
        self.0.resize(self.0.len().div_ceil(512) * 512, 0);
        self
    }
    fn finish(&mut self) -> Vec<u8> {
        self.0.extend_from_slice(&[0u8; 1024]);
        std::mem::take(&mut self.0)
    }
}

#[test]
fn hostile_layer_cannot_reach_kaniko_or_workspace() {
    let reg = registry_with_busybox();
    let layer = RawTar(Vec::new())
        .entry("evil", b'2', "/kaniko", b"")
        .entry("evil/executor", b'0', "", b"#!/bin/sh\necho owned\n")
        .entry("ws", b'2', "/workspace", b"")
        .entry("ws/Dockerfile", b'0', "", b"FROM owned\n")
        .entry("up", b'2', "../../../../..", b"")
        .entry("up/escaped.txt", b'0', "", b"out")
        .entry("../../../outside.txt", b'0', "", b"out")
        .entry("hard", b'1', "kaniko/executor", b"")
        .entry(".wh.kaniko", b'0', "", b"")
        .entry("workspace/.wh..wh..opq", b'0', "", b"")
        .entry("usr/lib/legit", b'2', "../../bin/busybox", b"")
        .finish();
    testkit::images::push_with_raw_layer(
        &reg.addr,
        "library/busybox:latest",
        "test/hostile:1",
        &layer,
    )
    .unwrap();
    let df = format!(
        "FROM {}/test/hostile:1\nRUN ls /usr/lib/legit > /legit.txt\n",
        reg.addr
    );
    let ctx = context(&[("Dockerfile", &df), ("keep.txt", "mine")]);
    let dest = format!("{}/test/after:1", reg.addr);
    let (sb, _) = build_ok(ctx.path(), &["--destination", &dest]);
    // The executor binary and the mounted context are untouched.
    assert_eq!(
        std::fs::read(sb.root().join("kaniko/executor")).unwrap(),
        std::fs::read(executor()).unwrap()
    );
    assert_eq!(
        std::fs::read_to_string(ctx.path().join("Dockerfile")).unwrap(),
        df
    );
    assert_eq!(
        std::fs::read_to_string(ctx.path().join("keep.txt")).unwrap(),
        "mine"
    );
    assert!(!ctx.path().join("ws").exists());
    // Nothing escaped the root.
    let parent = sb.root().parent().unwrap();
    assert!(!parent.join("outside.txt").exists());
    assert!(!parent.join("escaped.txt").exists());
    // Contained writes landed inside the root.
    assert!(sb.root().join("escaped.txt").exists() || sb.root().join("outside.txt").exists());
    // A legitimate relative symlink that climbs above its depth still works.
    assert_eq!(
        run_image(
            &reg,
            "test/after:1",
            Some(&["cat".into(), "/legit.txt".into()])
        ),
        "/usr/lib/legit\n"
    );
}

#[test]
fn hostile_context_archive_is_contained() {
    let tar = RawTar(Vec::new())
        .entry("Dockerfile", b'0', "", b"FROM scratch\nLABEL ok=1\n")
        .entry("../executor", b'0', "", b"owned")
        .entry("../../kaniko/executor", b'0', "", b"owned")
        .finish();
    let ctx = context(&[]);
    std::fs::write(ctx.path().join("ctx.tar"), &tar).unwrap();
    let (sb, out) = run(
        ctx.path(),
        &["--context", "tar:///workspace/ctx.tar", "--no-push"],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(
        std::fs::read(sb.root().join("kaniko/executor")).unwrap(),
        std::fs::read(executor()).unwrap()
    );
}

/// A base image with symlinks into the mounted context and the executor's directory.
fn base_with_links(reg: &testkit::registry::Registry) -> String {
    let layer = RawTar(Vec::new())
        .entry("app", b'2', "/workspace", b"")
        .entry("kk", b'2', "/kaniko", b"")
        .finish();
    testkit::images::push_with_raw_layer(
        &reg.addr,
        "library/busybox:latest",
        "test/links:1",
        &layer,
    )
    .unwrap();
    format!("{}/test/links:1", reg.addr)
}

#[test]
fn copy_destinations_through_symlinks_cannot_reach_ignored_paths() {
    let reg = registry_with_busybox();
    let base = base_with_links(&reg);
    for (dest, what) in [("/app/", "workspace"), ("/kk/executor", "kaniko")] {
        let df = format!("FROM {base}\nCOPY payload {dest}\n");
        let ctx = context(&[("Dockerfile", &df), ("payload", "owned")]);
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
                &format!("{}/test/refused:1", reg.addr),
            ],
        );
        assert_ne!(
            out.status, 0,
            "COPY into {what} was allowed:\n{}",
            out.stderr
        );
        assert!(out.stderr.contains("must not write"), "{}", out.stderr);
        assert_eq!(
            std::fs::read(sb.root().join("kaniko/executor")).unwrap(),
            std::fs::read(executor()).unwrap()
        );
        assert!(!ctx.path().join("payload.1").exists());
        let names: Vec<_> = std::fs::read_dir(ctx.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 2, "the context gained files: {names:?}");
    }
}

#[test]
fn context_symlinks_cannot_copy_the_executors_root() {
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {}/library/busybox:latest\nCOPY up/kaniko /stolen/\nCOPY up /whole/\n",
        reg.addr
    );
    let ctx = context(&[("Dockerfile", &df), ("kaniko/mine", "mine")]);
    std::os::unix::fs::symlink("/", ctx.path().join("up")).unwrap();
    build_ok(
        ctx.path(),
        &["--destination", &format!("{}/test/ctxlink:1", reg.addr)],
    );
    // `up` is the context's own root: /stolen holds the context's kaniko/, not /kaniko.
    let dir = tempfile::tempdir().unwrap();
    let bundle = testkit::images::unpack(&reg.addr, "test/ctxlink:1", dir.path()).unwrap();
    let rootfs = bundle.join("rootfs");
    assert_eq!(
        std::fs::read_to_string(rootfs.join("stolen/mine")).unwrap(),
        "mine"
    );
    assert!(!rootfs.join("stolen/executor").exists());
    assert!(rootfs.join("whole/Dockerfile").exists());
    assert!(!rootfs.join("whole/kaniko/executor").exists());
}

#[test]
fn add_archive_whiteouts_are_plain_files_and_ignored_paths_are_spared() {
    let reg = registry_with_busybox();
    let archive = RawTar(Vec::new())
        .entry(".wh.kaniko", b'0', "", b"")
        .entry("workspace/.wh..wh..opq", b'0', "", b"")
        .entry("etc/.wh.passwd", b'0', "", b"")
        .entry("../../escape", b'0', "", b"x")
        .entry("kaniko/executor", b'0', "", b"owned")
        .finish();
    let df = format!(
        "FROM {}/library/busybox:latest\nADD a.tar /\nRUN cat /etc/passwd > /passwd-copy && ls -a / /etc > /listing\n",
        reg.addr
    );
    let ctx = context(&[("Dockerfile", &df), ("keep.txt", "mine")]);
    std::fs::write(ctx.path().join("a.tar"), &archive).unwrap();
    let (sb, _) = build_ok(
        ctx.path(),
        &["--destination", &format!("{}/test/addtar:1", reg.addr)],
    );
    assert_eq!(
        std::fs::read(sb.root().join("kaniko/executor")).unwrap(),
        std::fs::read(executor()).unwrap()
    );
    assert_eq!(
        std::fs::read_to_string(ctx.path().join("keep.txt")).unwrap(),
        "mine"
    );
    let dir = tempfile::tempdir().unwrap();
    let bundle = testkit::images::unpack(&reg.addr, "test/addtar:1", dir.path()).unwrap();
    let rootfs = bundle.join("rootfs");
    // During the build the names were plain files and deleted nothing (in a layer a
    // `.wh.` name is a whiteout again, so the image cannot carry them as files).
    let listing = std::fs::read_to_string(rootfs.join("listing")).unwrap();
    assert!(
        listing.contains(".wh.kaniko") && listing.contains(".wh.passwd"),
        "{listing}"
    );
    assert!(
        std::fs::read_to_string(rootfs.join("passwd-copy"))
            .unwrap()
            .contains("root:"),
        "a whiteout name deleted /etc/passwd during the build"
    );
    assert!(
        rootfs.join("escape").is_file(),
        "`..` was not kept under the destination"
    );
    assert!(!sb.root().parent().unwrap().join("escape").exists());
}

#[test]
fn scratch_plus_a_rootfs_archive_builds_a_distro_image() {
    let reg = registry_with_busybox();
    let dir = tempfile::tempdir().unwrap();
    testkit::images::busybox_rootfs(dir.path()).unwrap();
    let ctx = context(&[(
        "Dockerfile",
        "FROM scratch\nADD rootfs.tar.gz /\nRUN echo built-from-scratch > /proof\nCMD [\"cat\", \"/proof\"]\n",
    )]);
    let tar = std::process::Command::new("tar")
        .arg("-C")
        .arg(dir.path())
        .args(["-czf"])
        .arg(ctx.path().join("rootfs.tar.gz"))
        .arg(".")
        .status()
        .unwrap();
    assert!(tar.success());
    build_ok(
        ctx.path(),
        &["--destination", &format!("{}/test/distro:1", reg.addr)],
    );
    assert_eq!(
        run_image(&reg, "test/distro:1", None),
        "built-from-scratch\n"
    );
}

#[test]
fn no_mount_table_no_build() {
    let reg = registry_with_busybox();
    let df = format!("FROM {}/library/busybox:latest\nRUN true\n", reg.addr);
    let ctx = context(&[("Dockerfile", &df)]);
    let mut sb = testkit::sandbox::Sandbox::new(&executor()).unwrap();
    sb.context(ctx.path()).without_proc();
    let out = sb
        .run(&[
            "--context",
            "/workspace",
            "--dockerfile",
            "Dockerfile",
            "--insecure",
            "--insecure-pull",
            "--no-push",
        ])
        .unwrap();
    assert_ne!(
        out.status, 0,
        "built without a mount table:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("/proc/self/mountinfo"),
        "{}",
        out.stderr
    );
    assert!(
        !sb.root().join("bin/busybox").exists(),
        "the base was unpacked anyway"
    );
}
