//! The layer cache in an OCI layout (`--cache-repo=oci:/path`), across stages, and
//! `--materialize`, in the pod sandbox against the real registry. Every RUN appends a line
//! to a file in the mounted /workspace, outside the image, so the tests see which ran.

mod common;
use common::*;
use testkit::sandbox::Sandbox;

fn runs(ctx: &std::path::Path) -> String {
    std::fs::read_to_string(ctx.join("runs")).unwrap_or_default()
}

/// A build with the cache in the sandbox `sb`; asserts success and returns the log.
fn cached_in(sb: &Sandbox, extra: &[&str]) -> String {
    let mut args = vec!["--cache=true"];
    args.extend_from_slice(extra);
    let out = build_in(sb, &args);
    assert_eq!(out.status, 0, "executor failed:\n{}", out.stderr);
    out.stderr
}

/// The key the log looks up for `cmd` (cache writes may log in between).
fn key_of(log: &str, cmd: &str) -> String {
    let mut lines = log.lines().skip_while(|l| !l.ends_with(cmd));
    let line = lines
        .find(|l| l.contains("Checking for cached layer"))
        .expect("a lookup after the command");
    let key = line.rsplit(':').next().unwrap_or_default();
    key.trim_end_matches("...").to_string()
}

#[test]
fn an_oci_layout_cache_and_hits_after_a_miss() {
    let reg = registry_with_busybox();
    let df = format!(
        r#"FROM {r}/library/busybox:latest
RUN echo one >> /workspace/runs && echo 1 > /one
RUN echo two >> /workspace/runs && echo 2 > /two
RUN echo three >> /workspace/runs && cat /one /two > /three
"#,
        r = reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let mut sb = Sandbox::new(&executor()).unwrap();
    sb.context(ctx.path());
    let dest = |t: &str| format!("{}/t/oci:{t}", reg.addr);
    let first = cached_in(
        &sb,
        &["--cache-repo=oci:/layers", "--destination", &dest("1")],
    );
    assert_eq!(runs(ctx.path()), "one\ntwo\nthree\n");
    // skopeo reads an entry of the layout.
    let layout = sb.root().join("layers");
    let key = key_of(&first, "RUN echo two >> /workspace/runs && echo 2 > /two");
    let entry = format!("oci:{}:{key}", layout.display());
    let out = std::process::Command::new("skopeo")
        .args(["inspect", &entry])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    cached_in(
        &sb,
        &["--cache-repo=oci:/layers", "--destination", &dest("2")],
    );
    assert_eq!(runs(ctx.path()), "one\ntwo\nthree\n");

    // The middle entry is gone: that step runs, the one after it still hits.
    let index_path = layout.join("index.json");
    let mut index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    let manifests = index["manifests"].as_array_mut().unwrap();
    let before = manifests.len();
    manifests.retain(|m| m["annotations"]["org.opencontainers.image.ref.name"] != key.as_str());
    assert_eq!(manifests.len() + 1, before);
    std::fs::write(&index_path, index.to_string()).unwrap();
    let log = cached_in(
        &sb,
        &["--cache-repo=oci:/layers", "--destination", &dest("3")],
    );
    assert_eq!(runs(ctx.path()), "one\ntwo\nthree\ntwo\n", "{log}");
    let cat = run_image(&reg, "t/oci:3", Some(&["cat".into(), "/three".into()]));
    assert_eq!(cat, "1\n2\n");
}

#[test]
fn a_fully_cached_stage_is_neither_run_nor_unpacked() {
    let reg = registry_with_busybox();
    let df = format!(
        r#"ARG UNUSED=a
FROM {r}/library/busybox:latest AS builder
RUN echo built >> /workspace/runs && mkdir /out && echo artifact > /out/a
FROM {r}/library/busybox:latest
ARG V=1
RUN echo final >> /workspace/runs && echo $V > /v
COPY --from=builder /out /out
"#,
        r = reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let build = |tag: &str, extra: &[&str]| {
        let d = format!("{}/t/stages:{tag}", reg.addr);
        let mut args = vec![
            "--destination",
            d.as_str(),
            "--cache",
            "--cache-copy-layers",
        ];
        args.extend_from_slice(extra);
        build_ok(ctx.path(), &args)
    };
    build("1", &[]);
    assert_eq!(runs(ctx.path()), "built\nfinal\n");

    // Build args no step sees change nothing; nothing is unpacked.
    let (_, out) = build("2", &["--build-arg", "UNUSED=b", "--build-arg", "OTHER=c"]);
    assert_eq!(runs(ctx.path()), "built\nfinal\n", "{}", out.stderr);
    assert!(!out.stderr.contains("Unpacking rootfs"), "{}", out.stderr);

    // The last stage misses: it runs, and the first stage's files come from its cached
    // layers without running it.
    let (_, out) = build("3", &["--build-arg", "V=2"]);
    assert_eq!(runs(ctx.path()), "built\nfinal\nfinal\n", "{}", out.stderr);
    assert!(
        out.stderr.contains("Extracting the layers of stage 0"),
        "{}",
        out.stderr
    );
    let cat = |f: &str| run_image(&reg, "t/stages:3", Some(&["cat".into(), f.into()]));
    assert_eq!(cat("/out/a"), "artifact\n");
    assert_eq!(cat("/v"), "2\n");
}

#[test]
fn materialize_writes_the_root_of_a_fully_cached_build() {
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {}/library/busybox:latest\nRUN echo x >> /workspace/runs && echo made > /made\n",
        reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let build = |extra: &[&str]| {
        let d = format!("{}/t/mat:1", reg.addr);
        let mut args = vec!["--destination", d.as_str(), "--cache"];
        args.extend_from_slice(extra);
        build_ok(ctx.path(), &args).0
    };
    build(&[]);
    let sb = build(&[]);
    assert!(
        !sb.root().join("made").exists(),
        "a fully cached build unpacked"
    );
    let sb = build(&["--materialize"]);
    assert_eq!(runs(ctx.path()), "x\n");
    assert_eq!(
        std::fs::read_to_string(sb.root().join("made")).unwrap(),
        "made\n"
    );
    assert!(sb.root().join("bin/busybox").is_file());
}

/// A RUN's `--mount=type=bind,from=<stage>` is keyed by that stage's content: when the stage
/// changes, the RUN runs again instead of reusing a layer made from the old files.
#[test]
fn a_changed_bind_mount_source_misses_the_cache() {
    let reg = registry_with_busybox();
    let df = format!(
        r#"FROM {r}/library/busybox:latest AS src
ARG V
RUN echo "$V" > /v
FROM {r}/library/busybox:latest
RUN --mount=type=bind,from=src,source=/v,target=/mnt/v cat /mnt/v >> /workspace/runs && cp /mnt/v /copied
"#,
        r = reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let mut sb = Sandbox::new(&executor()).unwrap();
    sb.context(ctx.path());
    let dest = format!("{}/t/mountkey:1", reg.addr);
    let build = |v: &str| {
        let arg = format!("V={v}");
        cached_in(
            &sb,
            &[
                "--cache-repo=oci:/layers",
                "--build-arg",
                &arg,
                "--destination",
                &dest,
            ],
        )
    };
    build("one");
    assert_eq!(runs(ctx.path()), "one\n");
    let again = build("one");
    assert_eq!(runs(ctx.path()), "one\n", "same source, a hit:\n{again}");
    build("two");
    assert_eq!(
        runs(ctx.path()),
        "one\ntwo\n",
        "the changed stage was not seen"
    );
}

/// A layer taken from the `oci:` cache is checked against its digest before it goes into
/// `--tar-path` or `--oci-layout-path`: a changed blob fails the build naming it.
#[test]
fn a_changed_cached_layer_never_reaches_the_outputs() {
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {}/library/busybox:latest\nRUN echo made > /made\n",
        reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let mut sb = Sandbox::new(&executor()).unwrap();
    sb.context(ctx.path());
    let args = |out: &'static str| ["--cache-repo=oci:/layers", "--no-push", "--tar-path", out];
    cached_in(&sb, &args("/out1.tar"));
    // The cache's layer blob (gzip), one byte changed.
    let blobs = sb.root().join("layers/blobs/sha256");
    let layer = std::fs::read_dir(&blobs)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| std::fs::read(p).unwrap().starts_with(&[0x1f, 0x8b]))
        .expect("a gzip layer in the cache");
    let mut bytes = std::fs::read(&layer).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&layer, bytes).unwrap();
    let mut all = vec!["--cache=true"];
    all.extend(args("/out2.tar"));
    let out = build_in(&sb, &all);
    assert_ne!(
        out.status, 0,
        "a changed cached layer was used:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("does not match its digest"),
        "{}",
        out.stderr
    );
}
