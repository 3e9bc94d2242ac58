//! Build modes and inputs: a Docker schema 2 base keeps its family, --single-snapshot,
//! --snapshot-mode, --ignore-path, --context-sub-path, tar contexts on stdin, annotations.

mod common;
use common::*;
use testkit::images::{push_busybox_with, Access, Format, ImageSpec};

#[test]
fn docker_base_keeps_docker_manifest() {
    let reg = registry_with_busybox();
    let spec = ImageSpec {
        format: Format::Docker,
        ..Default::default()
    };
    push_busybox_with(
        &reg.addr,
        "library/busybox:docker",
        &spec,
        &Access::default(),
    )
    .unwrap();
    let df = format!(
        "FROM {}/library/busybox:docker\nRUN echo d > /d.txt\n",
        reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    build_ok(
        ctx.path(),
        &["--destination", &format!("{}/test/fromdocker:1", reg.addr)],
    );
    let m = testkit::images::inspect_raw(&reg.addr, "test/fromdocker:1", false).unwrap();
    assert_eq!(
        m["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert_eq!(
        m["config"]["mediaType"],
        "application/vnd.docker.container.image.v1+json"
    );
    for l in m["layers"].as_array().unwrap() {
        assert_eq!(
            l["mediaType"],
            "application/vnd.docker.image.rootfs.diff.tar.gzip"
        );
    }
    assert_eq!(
        run_image(
            &reg,
            "test/fromdocker:1",
            Some(&["cat".into(), "/d.txt".into()])
        ),
        "d\n"
    );
}

#[test]
fn single_snapshot_and_snapshot_modes() {
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {}/library/busybox:latest\nRUN echo 1 > /one\nCOPY a.txt /a.txt\nRUN echo 2 > /two && rm /etc/group\n",
        reg.addr
    );
    let ctx = context(&[("Dockerfile", &df), ("a.txt", "a")]);
    build_ok(
        ctx.path(),
        &[
            "--destination",
            &format!("{}/test/single:1", reg.addr),
            "--single-snapshot",
        ],
    );
    let m = testkit::images::inspect_raw(&reg.addr, "test/single:1", false).unwrap();
    assert_eq!(
        m["layers"].as_array().unwrap().len(),
        2,
        "one layer for the whole build"
    );
    let out = run_image(
        &reg,
        "test/single:1",
        Some(&[
            "sh".into(),
            "-c".into(),
            "cat /one /a.txt /two; ls /etc/group 2>&1 | grep -c 'No such'".into(),
        ]),
    );
    assert_eq!(out, "1\na2\n1\n");
    for mode in ["redo", "time"] {
        let dest = format!("{}/test/mode:{mode}", reg.addr);
        build_ok(
            ctx.path(),
            &["--destination", &dest, "--snapshot-mode", mode],
        );
        let m =
            testkit::images::inspect_raw(&reg.addr, &format!("test/mode:{mode}"), false).unwrap();
        assert_eq!(m["layers"].as_array().unwrap().len(), 4, "{mode}");
    }
}

#[test]
fn ignore_path_is_neither_unpacked_nor_snapshotted() {
    let reg = registry_with_busybox();
    let df = format!("FROM {}/library/busybox:latest\nRUN mkdir -p /scratch && echo x > /scratch/x && echo kept > /kept\n", reg.addr);
    let ctx = context(&[("Dockerfile", &df)]);
    build_ok(
        ctx.path(),
        &[
            "--destination",
            &format!("{}/test/ignored:1", reg.addr),
            "--ignore-path",
            "/scratch",
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let bundle = testkit::images::unpack(&reg.addr, "test/ignored:1", dir.path()).unwrap();
    assert!(bundle.join("rootfs/kept").exists());
    assert!(!bundle.join("rootfs/scratch/x").exists());
}

#[test]
fn context_sub_path_and_tar_on_stdin() {
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {}/library/busybox:latest\nCOPY hello.txt /hello.txt\n",
        reg.addr
    );
    let ctx = context(&[
        ("app/Dockerfile", &df),
        ("app/hello.txt", "from sub path\n"),
    ]);
    build_ok(
        ctx.path(),
        &[
            "--destination",
            &format!("{}/test/sub:1", reg.addr),
            "--context-sub-path",
            "app",
        ],
    );
    assert_eq!(
        run_image(
            &reg,
            "test/sub:1",
            Some(&["cat".into(), "/hello.txt".into()])
        ),
        "from sub path\n"
    );

    // The same context as a gzipped tar on standard input.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    {
        let mut b = tar::Builder::new(&mut gz);
        for (name, body) in [("Dockerfile", df.as_str()), ("hello.txt", "from stdin\n")] {
            let mut h = tar::Header::new_gnu();
            h.set_size(body.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, name, body.as_bytes()).unwrap();
        }
        b.finish().unwrap();
    }
    let tgz = gz.finish().unwrap();
    let empty = context(&[]);
    let mut sb = testkit::sandbox::Sandbox::new(&executor()).unwrap();
    sb.context(empty.path());
    let dest = format!("{}/test/stdin:1", reg.addr);
    let out = sb
        .run_with_stdin(
            &[
                "--context",
                "tar://stdin",
                "--destination",
                &dest,
                "--insecure",
                "--insecure-pull",
                "--annotation",
                "org.example.note=hi",
            ],
            Some(&tgz),
        )
        .unwrap();
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(
        run_image(
            &reg,
            "test/stdin:1",
            Some(&["cat".into(), "/hello.txt".into()])
        ),
        "from stdin\n"
    );
    let m = testkit::images::inspect_raw(&reg.addr, "test/stdin:1", false).unwrap();
    assert_eq!(m["annotations"]["org.example.note"], "hi");
}

#[test]
fn pre_cleanup_empties_the_root_before_the_build() {
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {}/library/busybox:latest\nRUN test ! -e /leftover/file\n",
        reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    for (flag, ok) in [(None, false), (Some("--pre-cleanup"), true)] {
        let mut sb = testkit::sandbox::Sandbox::new(&executor()).unwrap();
        sb.context(ctx.path())
            .file("/leftover/file", b"from before");
        let mut args = vec![
            "--context",
            "/workspace",
            "--dockerfile",
            "Dockerfile",
            "--insecure",
            "--insecure-pull",
            "--no-push",
        ];
        args.extend(flag);
        let out = sb.run(&args).unwrap();
        assert_eq!(out.status == 0, ok, "{flag:?}:\n{}", out.stderr);
        // What the build must not touch is still there.
        assert!(sb.root().join("kaniko/executor").exists());
    }
}
