//! Multi-stage builds in the pod sandbox against the real registry: stages by name and
//! index, `COPY --from` an external image, `FROM` an earlier stage, global ARGs in FROM,
//! `--target` with and without `--skip-unused-stages`; images checked with skopeo/umoci and
//! run with runc.

mod common;
use common::*;

fn cat(reg: &testkit::registry::Registry, image: &str, path: &str) -> String {
    run_image(reg, image, Some(&["cat".into(), path.into()]))
}

#[test]
fn three_stages_by_name_index_and_image() {
    let reg = registry_with_busybox();
    let df = format!(
        r#"ARG BASE={r}/library/busybox:latest
FROM ${{BASE}} AS builder
RUN echo built > /artifact && mkdir -p /out/sub && echo x > /out/sub/f && ln -s /artifact /out/link
FROM $BASE
RUN echo second > /second
FROM ${{BASE}} AS final
COPY --from=builder /artifact /app/artifact
COPY --from=1 /second /app/
COPY --from={r}/library/busybox:latest /bin/busybox /app/busybox
COPY --from=BUILDER /out /app/out
CMD ["cat", "/app/artifact"]
"#,
        r = reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let (_, out) = build_ok(
        ctx.path(),
        &["--destination", &format!("{}/test/multi:1", reg.addr)],
    );
    assert!(out.stderr.contains("Building stage"), "{}", out.stderr);
    // kaniko's line: each stage with the paths later stages copy from it.
    assert!(
        out.stderr
            .contains("Built cross stage deps: map[0:[/artifact /out] 1:[/second]]"),
        "{}",
        out.stderr
    );
    assert_eq!(run_image(&reg, "test/multi:1", None), "built\n");
    assert_eq!(cat(&reg, "test/multi:1", "/app/second"), "second\n");
    assert_eq!(cat(&reg, "test/multi:1", "/app/out/sub/f"), "x\n");
    // A symlink inside a copied directory stays a symlink (to the final image's /artifact,
    // which does not exist there).
    let ls = run_image(
        &reg,
        "test/multi:1",
        Some(&["readlink".into(), "/app/out/link".into()]),
    );
    assert_eq!(ls, "/artifact\n");
    let bb = run_image(
        &reg,
        "test/multi:1",
        Some(&["/app/busybox".into(), "echo".into(), "from-image".into()]),
    );
    assert_eq!(bb, "from-image\n");
    // Only the final stage's layers: busybox and the four COPYs.
    let inspect = testkit::images::inspect(&reg.addr, "test/multi:1").unwrap();
    assert_eq!(inspect["Layers"].as_array().unwrap().len(), 5, "{inspect}");
    for gone in ["/artifact", "/second"] {
        let out = testkit::images::run(
            &testkit::images::unpack(
                &reg.addr,
                "test/multi:1",
                tempfile::tempdir().unwrap().path(),
            )
            .unwrap(),
            Some(&["test".into(), "!".into(), "-e".into(), gone.into()]),
        )
        .unwrap();
        assert_eq!(out.status, 0, "{gone} leaked into the final image");
    }
}

#[test]
fn copy_from_follows_a_symlinked_source_with_chown_chmod_and_new_parents() {
    let reg = registry_with_busybox();
    let df = format!(
        r#"FROM {r}/library/busybox:latest AS b
RUN echo data > /real && ln -s /real /link && mkdir /d && echo in > /d/f
FROM {r}/library/busybox:latest
COPY --from=b --chown=1000:1000 --chmod=0750 /link /deep/new/dir/
COPY --from=b /d/ /copied
RUN stat -c '%u:%g %a %F' /deep /deep/new /deep/new/dir /deep/new/dir/link /copied /copied/f > /report && cat /deep/new/dir/link >> /report
"#,
        r = reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    build_ok(
        ctx.path(),
        &["--destination", &format!("{}/test/copyfrom:1", reg.addr)],
    );
    // The new parents get --chown and, as in current BuildKit, the octal --chmod's mode.
    assert_eq!(
        cat(&reg, "test/copyfrom:1", "/report"),
        "1000:1000 750 directory\n1000:1000 750 directory\n1000:1000 750 directory\n\
         1000:1000 750 regular file\n0:0 755 directory\n0:0 644 regular file\ndata\n"
    );
}

#[test]
fn from_an_earlier_stage_continues_its_files() {
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {r}/library/busybox:latest AS a\nRUN echo a > /a\nFROM a AS b\nRUN cat /a > /b && rm /a\nFROM b\nRUN echo c > /c\n",
        r = reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    build_ok(
        ctx.path(),
        &["--destination", &format!("{}/test/chain:1", reg.addr)],
    );
    let report = run_image(
        &reg,
        "test/chain:1",
        Some(&[
            "sh".into(),
            "-c".into(),
            "cat /b /c; test -e /a && echo a-still-there; true".into(),
        ]),
    );
    assert_eq!(report, "a\nc\n");
    // busybox + one layer per RUN: each stage adds only what it changed.
    let inspect = testkit::images::inspect(&reg.addr, "test/chain:1").unwrap();
    assert_eq!(inspect["Layers"].as_array().unwrap().len(), 4, "{inspect}");
}

/// A Dockerfile whose first stage has a side effect outside the image (a file in the
/// mounted context) and a base that does not exist, unless `--skip-unused-stages` skips it.
fn unused_stage_dockerfile(reg: &str) -> String {
    format!(
        r#"FROM {reg}/library/busybox:latest AS unused
RUN touch /workspace/unused-ran
FROM {reg}/library/busybox:latest AS used
RUN echo used > /used
FROM {reg}/library/busybox:latest AS final
COPY --from=used /used /used
FROM {reg}/does/not-exist:1 AS after
RUN true
"#
    )
}

#[test]
fn target_builds_every_earlier_stage_by_default() {
    let reg = registry_with_busybox();
    let ctx = context(&[("Dockerfile", &unused_stage_dockerfile(&reg.addr))]);
    build_ok(
        ctx.path(),
        &[
            "--destination",
            &format!("{}/test/target:all", reg.addr),
            "--target",
            "FINAL",
        ],
    );
    assert!(
        ctx.path().join("unused-ran").exists(),
        "the unused stage did not run"
    );
    assert_eq!(cat(&reg, "test/target:all", "/used"), "used\n");
}

#[test]
fn skip_unused_stages_never_pulls_or_runs_them() {
    let reg = registry_with_busybox();
    let df = unused_stage_dockerfile(&reg.addr).replace("AS unused", "AS unused\nRUN true");
    let df = df.replacen(
        &format!("{}/library/busybox:latest AS unused", reg.addr),
        &format!("{}/also/missing:1 AS unused", reg.addr),
        1,
    );
    let ctx = context(&[("Dockerfile", &df)]);
    build_ok(
        ctx.path(),
        &[
            "--destination",
            &format!("{}/test/target:skip", reg.addr),
            "--target",
            "final",
            "--skip-unused-stages",
        ],
    );
    assert!(
        !ctx.path().join("unused-ran").exists(),
        "an unused stage ran"
    );
    assert_eq!(cat(&reg, "test/target:skip", "/used"), "used\n");
    // Without the flag the missing base of the unused stage fails the build.
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
            "--target",
            "final",
        ],
    );
    assert_ne!(out.status, 0);
    assert!(out.stderr.contains("also/missing"), "{}", out.stderr);
}
