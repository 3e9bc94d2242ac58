//! What each instruction does to the image, checked by running the built image with runc
//! and by reading its config with skopeo.

mod common;
use common::*;

#[test]
fn run_sees_user_workdir_env_and_args() {
    let reg = registry_with_busybox();
    let df = format!(
        r#"ARG BASE={reg}/library/busybox:latest
FROM $BASE
ARG GREETING=hi
ENV APP=/srv/app NAME="the app"
WORKDIR $APP
RUN echo "$GREETING $NAME in $(pwd)" > hello.txt
USER app
RUN id -u > /tmp/uid && touch /home/app/mine
USER root
SHELL ["/bin/sh", "-e", "-c"]
RUN <<EOF
echo first > /srv/heredoc.txt
echo "$APP" >> /srv/heredoc.txt
EOF
RUN cat <<-'X' > /srv/quoted.txt
	$NOT_EXPANDED
	X
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --retries=2 CMD ["true"]
VOLUME /data
CMD cat /srv/app/hello.txt /tmp/uid /srv/heredoc.txt /srv/quoted.txt
"#,
        reg = reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let dest = format!("{}/test/instr:1", reg.addr);
    build_ok(
        ctx.path(),
        &["--destination", &dest, "--build-arg", "GREETING=hello"],
    );
    let out = run_image(&reg, "test/instr:1", None);
    assert_eq!(
        out,
        "hello the app in /srv/app\n1000\nfirst\n/srv/app\n$NOT_EXPANDED\n"
    );
    let c = testkit::images::inspect_raw(&reg.addr, "test/instr:1", true).unwrap();
    let cfg = &c["config"];
    assert_eq!(cfg["WorkingDir"], "/srv/app");
    assert_eq!(cfg["User"], "root");
    assert_eq!(cfg["StopSignal"], "SIGTERM");
    assert_eq!(
        cfg["Healthcheck"]["Test"],
        serde_json::json!(["CMD", "true"])
    );
    assert_eq!(cfg["Healthcheck"]["Interval"], 5_000_000_000u64);
    assert_eq!(cfg["Volumes"]["/data"], serde_json::json!({}));
    assert_eq!(cfg["Shell"], serde_json::json!(["/bin/sh", "-e", "-c"]));
    assert_eq!(cfg["Cmd"][0], "/bin/sh");
    let env: Vec<String> = serde_json::from_value(cfg["Env"].clone()).unwrap();
    assert!(env.contains(&"NAME=the app".to_string()), "{env:?}");
    assert!(
        !env.iter().any(|e| e.starts_with("GREETING")),
        "ARGs do not persist: {env:?}"
    );
    // History: one entry per layer-making instruction at least; diff_ids match the non-empty entries.
    let history = c["history"].as_array().unwrap();
    assert!(history.iter().any(|h| h["created_by"]
        .as_str()
        .is_some_and(|s| s.starts_with("RUN echo \"$GREETING"))));
    let non_empty = history.iter().filter(|h| h["empty_layer"] != true).count();
    assert_eq!(c["rootfs"]["diff_ids"].as_array().unwrap().len(), non_empty);
}

#[test]
fn copy_and_add_semantics() {
    let reg = registry_with_busybox();
    let df = format!(
        r#"FROM {}/library/busybox:latest
COPY *.txt /dst/
COPY dir /copied
COPY --chown=app:staff --chmod=0640 a.txt /owned.txt
ADD bundle.tar.gz /unpacked/
ENV WHO=world
COPY <<EOF /inline.txt
inline $WHO
EOF
RUN ls /dst | tr '\n' ' ' > /report && ls /copied >> /report && stat -c '%u:%g %a' /owned.txt >> /report && cat /unpacked/inner/file.txt /inline.txt >> /report && (ls -a /copied | grep -c secret >> /report || true)
CMD ["cat", "/report"]
"#,
        reg.addr
    );
    let ctx = context(&[
        ("Dockerfile", &df),
        ("a.txt", "a"),
        ("b.txt", "b"),
        ("c.md", "c"),
        ("dir/one", "1"),
        ("dir/secret.key", "k"),
        (".dockerignore", "dir/*.key\n"),
    ]);
    // A gzipped tar archive for ADD to extract.
    {
        let f = std::fs::File::create(ctx.path().join("bundle.tar.gz")).unwrap();
        let gz = flate2::write::GzEncoder::new(f, flate2::Compression::default());
        let mut b = tar::Builder::new(gz);
        let mut h = tar::Header::new_gnu();
        h.set_size(6);
        h.set_mode(0o644);
        b.append_data(&mut h, "inner/file.txt", &b"inside"[..])
            .unwrap();
        b.into_inner().unwrap().finish().unwrap();
    }
    let dest = format!("{}/test/copy:1", reg.addr);
    build_ok(ctx.path(), &["--destination", &dest]);
    let out = run_image(&reg, "test/copy:1", None);
    assert_eq!(out, "a.txt b.txt one\n1000:50 640\ninsideinline world\n0\n");
}

#[test]
fn onbuild_triggers_run_in_the_child() {
    let reg = registry_with_busybox();
    let parent = format!(
        "FROM {}/library/busybox:latest\nONBUILD RUN echo triggered > /trigger.txt\n",
        reg.addr
    );
    let ctx = context(&[("Dockerfile", &parent)]);
    build_ok(
        ctx.path(),
        &["--destination", &format!("{}/test/parent:1", reg.addr)],
    );
    let c = testkit::images::inspect_raw(&reg.addr, "test/parent:1", true).unwrap();
    assert_eq!(
        c["config"]["OnBuild"],
        serde_json::json!(["RUN echo triggered > /trigger.txt"])
    );
    let child = format!(
        "FROM {}/test/parent:1\nCMD [\"cat\", \"/trigger.txt\"]\n",
        reg.addr
    );
    let ctx = context(&[("Dockerfile", &child)]);
    let (_, out) = build_ok(
        ctx.path(),
        &["--destination", &format!("{}/test/child:1", reg.addr)],
    );
    assert!(
        out.stderr.contains("Executing 1 build triggers"),
        "{}",
        out.stderr
    );
    assert_eq!(run_image(&reg, "test/child:1", None), "triggered\n");
    let c = testkit::images::inspect_raw(&reg.addr, "test/child:1", true).unwrap();
    assert!(c["config"]["OnBuild"].is_null(), "triggers are consumed");
}

#[test]
fn deletions_become_whiteouts_and_unchanged_runs_add_no_layer() {
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {}/library/busybox:latest\nRUN rm -rf /etc/group /home\nRUN true\n",
        reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let (_, out) = build_ok(
        ctx.path(),
        &["--destination", &format!("{}/test/wh:1", reg.addr)],
    );
    assert!(
        out.stderr.contains(
            "No files were changed, appending empty layer to config. No layer added to image."
        ),
        "{}",
        out.stderr
    );
    let m = testkit::images::inspect_raw(&reg.addr, "test/wh:1", false).unwrap();
    assert_eq!(m["layers"].as_array().unwrap().len(), 2);
    let dir = tempfile::tempdir().unwrap();
    let bundle = testkit::images::unpack(&reg.addr, "test/wh:1", dir.path()).unwrap();
    assert!(!bundle.join("rootfs/etc/group").exists());
    assert!(!bundle.join("rootfs/home").exists());
    assert!(bundle.join("rootfs/etc/passwd").exists());
}

#[test]
fn dryrun_prints_the_plan() {
    let df = "ARG V=1.0\nFROM alpine:${V} AS base\nENV P=/opt\nWORKDIR $P/app\nRUN echo $P\n";
    let ctx = context(&[("Dockerfile", df)]);
    let (_, out) = run(
        ctx.path(),
        &["--dryrun", "--no-push", "--build-arg", "V=2.0"],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "stage 0: FROM alpine:2.0 AS base\n  ENV P=\"/opt\"\n  WORKDIR /opt/app\n  RUN shell \"echo $P\"\n"
    );
}

#[test]
fn target_stage_without_dependencies_builds_alone() {
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {r}/library/busybox:latest AS first\nRUN echo first > /which\nFROM {r}/library/busybox:latest AS Second\nRUN echo second > /which\nFROM first\nRUN true\n",
        r = reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    build_ok(
        ctx.path(),
        &[
            "--destination",
            &format!("{}/test/target:1", reg.addr),
            "--target",
            "second",
        ],
    );
    assert_eq!(
        run_image(
            &reg,
            "test/target:1",
            Some(&["cat".into(), "/which".into()])
        ),
        "second\n"
    );
    // Without --target the last stage is built, on top of stage `first` (restored from
    // where it was kept while the unrelated stage `Second` ran).
    build_ok(
        ctx.path(),
        &["--destination", &format!("{}/test/target:2", reg.addr)],
    );
    assert_eq!(
        run_image(
            &reg,
            "test/target:2",
            Some(&["cat".into(), "/which".into()])
        ),
        "first\n"
    );
    let (_, out) = run(ctx.path(), &["--no-push", "--target", "nope"]);
    assert!(
        out.stderr
            .contains("failed to reach build target nope in Dockerfile"),
        "{}",
        out.stderr
    );
}
