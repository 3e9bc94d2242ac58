//! The layer cache in a registry (`--cache`), in the pod sandbox against the real registry.
//! Every RUN appends a line to a file in the mounted /workspace, outside the image: a
//! build whose steps all hit leaves that file as it was. Images are checked with skopeo
//! and run with runc.

mod common;
use common::*;

/// A build with the cache in `<destination>/cache`, pushing to `dest`.
fn cached_build(ctx: &std::path::Path, reg: &str, dest: &str, extra: &[&str]) -> String {
    let d = format!("{reg}/{dest}");
    let mut args = vec!["--destination", &d, "--cache=true"];
    args.extend_from_slice(extra);
    build_ok(ctx, &args).1.stderr
}

fn runs(ctx: &std::path::Path) -> String {
    std::fs::read_to_string(ctx.join("runs")).unwrap_or_default()
}

fn layers(reg: &str, image: &str) -> Vec<serde_json::Value> {
    let inspect = testkit::images::inspect(reg, image).expect("inspect");
    inspect["Layers"].as_array().cloned().unwrap_or_default()
}

#[test]
fn a_second_build_runs_nothing_and_pushes_the_same_layers() {
    let reg = registry_with_busybox();
    let df = format!(
        r#"FROM {r}/library/busybox:latest
RUN echo one >> /workspace/runs && echo 1 > /one
RUN echo two >> /workspace/runs
WORKDIR /app
COPY f /app/f
ENV X=1
RUN echo three >> /workspace/runs && cat /app/f /one > /three
CMD ["cat", "/three"]
"#,
        r = reg.addr
    );
    let ctx = context(&[("Dockerfile", &df), ("f", "from f\n")]);
    let first = cached_build(ctx.path(), &reg.addr, "t/app:1", &["--cache-copy-layers"]);
    assert_eq!(runs(ctx.path()), "one\ntwo\nthree\n", "{first}");
    assert!(
        first.contains("No cached layer found for cmd RUN echo one"),
        "{first}"
    );
    assert!(first.contains("Pushing layer"), "{first}");

    let second = cached_build(ctx.path(), &reg.addr, "t/app:2", &["--cache-copy-layers"]);
    assert_eq!(
        runs(ctx.path()),
        "one\ntwo\nthree\n",
        "a RUN ran again:\n{second}"
    );
    for cmd in [
        "RUN echo one",
        "RUN echo two",
        "WORKDIR /app",
        "COPY f /app/f",
        "RUN echo three",
    ] {
        let line = format!("Using caching version of cmd: {cmd}");
        assert!(second.contains(&line), "{line} missing:\n{second}");
    }
    assert!(!second.contains("Unpacking rootfs"), "{second}");
    assert_eq!(layers(&reg.addr, "t/app:1"), layers(&reg.addr, "t/app:2"));
    assert_eq!(run_image(&reg, "t/app:2", None), "from f\n1\n");
    let config = |t: &str| testkit::images::inspect_raw(&reg.addr, t, true).unwrap();
    let (one, two) = (config("t/app:1"), config("t/app:2"));
    assert_eq!(two["config"]["WorkingDir"], "/app", "{two}");
    let steps = |c: &serde_json::Value| -> Vec<(String, bool)> {
        let h = c["history"].as_array().cloned().unwrap_or_default();
        h.iter()
            .map(|e| (e["created_by"].to_string(), e["empty_layer"] == true))
            .collect()
    };
    assert_eq!(steps(&one), steps(&two));
}

#[test]
fn a_changed_copy_source_invalidates_that_step_and_the_ones_after() {
    let reg = registry_with_busybox();
    let df = format!(
        r#"FROM {r}/library/busybox:latest
RUN echo a >> /workspace/runs && echo a > /a
COPY one /one
RUN echo b >> /workspace/runs && cat /one > /b
COPY two /two
RUN echo c >> /workspace/runs && cat /two > /c
"#,
        r = reg.addr
    );
    let ctx = context(&[("Dockerfile", &df), ("one", "1\n"), ("two", "2\n")]);
    let copy = ["--cache-copy-layers"];
    cached_build(ctx.path(), &reg.addr, "t/inv:1", &copy);
    assert_eq!(runs(ctx.path()), "a\nb\nc\n");

    // A new mtime alone changes nothing.
    let t = nix::sys::time::TimeSpec::new(1_000_000, 0);
    let two = ctx.path().join("two");
    nix::sys::stat::utimensat(
        None,
        &two,
        &t,
        &t,
        nix::sys::stat::UtimensatFlags::NoFollowSymlink,
    )
    .unwrap();
    cached_build(ctx.path(), &reg.addr, "t/inv:2", &copy);
    assert_eq!(runs(ctx.path()), "a\nb\nc\n");

    std::fs::write(&two, "2 changed\n").unwrap();
    let log = cached_build(ctx.path(), &reg.addr, "t/inv:3", &copy);
    assert_eq!(runs(ctx.path()), "a\nb\nc\nc\n", "{log}");
    for hit in ["RUN echo a", "COPY one /one", "RUN echo b"] {
        assert!(
            log.contains(&format!("Using caching version of cmd: {hit}")),
            "{log}"
        );
    }
    for miss in ["COPY two /two", "RUN echo c"] {
        assert!(
            log.contains(&format!("No cached layer found for cmd {miss}")),
            "{log}"
        );
    }
    let cat = |f: &str| run_image(&reg, "t/inv:3", Some(&["cat".into(), f.into()]));
    assert_eq!(cat("/c"), "2 changed\n");
    assert_eq!(cat("/b"), "1\n");

    std::fs::write(ctx.path().join("one"), "1 changed\n").unwrap();
    cached_build(ctx.path(), &reg.addr, "t/inv:4", &copy);
    assert_eq!(runs(ctx.path()), "a\nb\nc\nc\nb\nc\n");
    assert_eq!(
        run_image(&reg, "t/inv:4", Some(&["cat".into(), "/b".into()])),
        "1 changed\n"
    );
}

#[test]
fn entries_expire_no_push_cache_writes_none_and_compression_counts() {
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {}/library/busybox:latest\nRUN echo x >> /workspace/runs && echo x > /x\n",
        reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let log = cached_build(ctx.path(), &reg.addr, "t/ttl:1", &["--no-push-cache"]);
    assert!(!log.contains("Pushing layer"), "{log}");
    cached_build(ctx.path(), &reg.addr, "t/ttl:2", &[]);
    assert_eq!(runs(ctx.path()), "x\nx\n", "--no-push-cache wrote an entry");
    cached_build(ctx.path(), &reg.addr, "t/ttl:3", &["--cache-ttl=1h"]);
    assert_eq!(runs(ctx.path()), "x\nx\n");
    std::thread::sleep(std::time::Duration::from_secs(2));
    let log = cached_build(ctx.path(), &reg.addr, "t/ttl:4", &["--cache-ttl=1s"]);
    assert!(log.contains("Cache entry expired"), "{log}");
    assert_eq!(runs(ctx.path()), "x\nx\nx\n");
    // A gzip layer does not serve a zstd build; its zstd result then does.
    cached_build(ctx.path(), &reg.addr, "t/ttl:5", &["--compression=zstd"]);
    assert_eq!(runs(ctx.path()), "x\nx\nx\nx\n");
    cached_build(ctx.path(), &reg.addr, "t/ttl:6", &["--compression=zstd"]);
    assert_eq!(runs(ctx.path()), "x\nx\nx\nx\n");
}

#[test]
fn a_cache_that_cannot_be_used_is_a_warning() {
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {}/library/busybox:latest\nRUN echo x >> /workspace/runs && echo x > /x\n",
        reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    // Nothing listens on port 1.
    let log = cached_build(
        ctx.path(),
        &reg.addr,
        "t/warn:1",
        &["--cache-repo=127.0.0.1:1/cache"],
    );
    assert!(log.contains("WARN"), "{log}");
    assert!(log.contains("error uploading layer to cache"), "{log}");
    assert_eq!(
        run_image(&reg, "t/warn:1", Some(&["cat".into(), "/x".into()])),
        "x\n"
    );
    // Nor does an OCI layout that cannot be written fail the build.
    let log = cached_build(
        ctx.path(),
        &reg.addr,
        "t/warn:2",
        &["--cache-repo=oci:/proc/cache"],
    );
    assert!(log.contains("error uploading layer to cache"), "{log}");
    assert!(exists(&reg, "t/warn:2"));
}

/// A `COPY --link` layer does not depend on what is below it: after an earlier step
/// changed, it still hits (an ordinary COPY after it misses).
#[test]
fn a_copy_link_layer_hits_over_a_changed_base() {
    let reg = registry_with_busybox();
    let df = |word: &str| {
        format!(
            "FROM {}/library/busybox:latest\nRUN echo {word} > /word\nCOPY --link app.txt /app/\nCOPY app.txt /plain/\n",
            reg.addr
        )
    };
    let ctx = context(&[("Dockerfile", &df("one")), ("app.txt", "app")]);
    let copy = ["--cache-copy-layers"];
    cached_build(ctx.path(), &reg.addr, "t/link:1", &copy);
    std::fs::write(ctx.path().join("Dockerfile"), df("two")).unwrap();
    let log = cached_build(ctx.path(), &reg.addr, "t/link:2", &copy);
    assert!(
        log.contains("No cached layer found for cmd RUN echo two"),
        "{log}"
    );
    assert!(
        log.contains("Using caching version of cmd: COPY --link app.txt /app/"),
        "{log}"
    );
    assert!(
        log.contains("No cached layer found for cmd COPY app.txt /plain/"),
        "{log}"
    );
    assert_eq!(
        run_image(
            &reg,
            "t/link:2",
            Some(&["cat".into(), "/word".into(), "/app/app.txt".into()])
        ),
        "two\napp"
    );
}
