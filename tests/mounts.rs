//! `RUN --mount=type=cache` and `type=secret` in the pod sandbox against the real registry:
//! a download cache filled by one build and reused by the next (a host directory bound at
//! /kaniko/caches, as a volume would be), `sharing=locked` serialising two builds at once,
//! secrets read through a file and through the environment that end up in no layer, config,
//! history or log line (at trace level).

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use testkit::leaks;
use testkit::sandbox::Sandbox;

/// The executor's arguments for a build of the context pushing to `dest`, and `extra`.
fn args<'a>(dest: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--context", "/workspace", "--insecure", "--insecure-pull"];
    args.extend_from_slice(&["--destination", dest]);
    args.extend_from_slice(extra);
    args
}

/// Runs a build in a fresh sandbox with the host directory `caches` at /kaniko/caches.
fn build_with_caches(ctx: &Path, caches: &Path, dest: &str) -> (Sandbox, String) {
    let mut sb = Sandbox::new(&executor()).expect("sandbox");
    sb.context(ctx).bind(caches, "/kaniko/caches");
    let out = sb.run(&args(dest, &[])).expect("run sandbox");
    assert_eq!(out.status, 0, "executor failed:\n{}", out.stderr);
    (sb, out.stderr)
}

/// Whether the unpacked root file system `rootfs` has `path`.
fn has(rootfs: &Path, path: &str) -> bool {
    rootfs
        .join(path.trim_start_matches('/'))
        .symlink_metadata()
        .is_ok()
}

#[test]
fn a_download_cache_is_filled_once_reused_and_never_in_the_image() {
    let reg = registry_with_busybox();
    let pkg = b"#!/bin/sh\necho tool 1.0\n".to_vec();
    let server = testkit::files::FileServer::start(&[("/tool-1.0", &pkg)]).unwrap();
    let df = format!(
        "FROM {r}/library/busybox:latest\n\
         RUN --mount=type=cache,target=/var/cache/pkg \\\n\
         \x20 (test -f /var/cache/pkg/tool-1.0 && echo hit || (wget -q -O /var/cache/pkg/tool-1.0 {url} && echo miss)) > /fetch \\\n\
         \x20 && mkdir -p /usr/local/bin && cp /var/cache/pkg/tool-1.0 /usr/local/bin/tool && chmod 755 /usr/local/bin/tool\n",
        r = reg.addr,
        url = server.url("/tool-1.0")
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let caches = tempfile::tempdir().unwrap();
    let dest1 = format!("{}/test/cache:1", reg.addr);
    build_with_caches(ctx.path(), caches.path(), &dest1);
    assert_eq!(server.hits("/tool-1.0"), 1);
    let cached = caches.path().join("%2Fvar%2Fcache%2Fpkg/tool-1.0");
    assert_eq!(
        std::fs::read(&cached).unwrap(),
        pkg,
        "the cache lives in the volume"
    );

    // A second build, in a new pod with the same volume, finds the download.
    let dest2 = format!("{}/test/cache:2", reg.addr);
    build_with_caches(ctx.path(), caches.path(), &dest2);
    assert_eq!(
        server.hits("/tool-1.0"),
        1,
        "the second build downloaded again"
    );
    for (tag, fetch) in [("test/cache:1", "miss\n"), ("test/cache:2", "hit\n")] {
        let out = run_image(
            &reg,
            tag,
            Some(&["sh".into(), "-c".into(), "cat /fetch; tool".into()]),
        );
        assert_eq!(out, format!("{fetch}tool 1.0\n"));
        let dir = tempfile::tempdir().unwrap();
        let bundle = testkit::images::unpack(&reg.addr, tag, dir.path()).unwrap();
        let rootfs = bundle.join("rootfs");
        // Neither the cached file nor the mount point (nor /var made for it) is in the image.
        assert!(
            !has(&rootfs, "/var"),
            "{tag}: the mount point stayed in the image"
        );
    }
}

#[test]
fn locked_cache_mounts_serialise_two_builds_sharing_the_volume() {
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {r}/library/busybox:latest\n\
         RUN --mount=type=cache,id=shared,target=/c,sharing=locked \\\n\
         \x20 if [ -e /c/busy ]; then touch /c/overlapped; fi; touch /c/busy; sleep 4; rm /c/busy; echo done >> /c/runs\n",
        r = reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let caches = tempfile::tempdir().unwrap();
    let start = |i: usize| {
        let (ctx, caches) = (ctx.path().to_path_buf(), caches.path().to_path_buf());
        let dest = format!("{}/test/locked:{i}", reg.addr);
        std::thread::spawn(move || build_with_caches(&ctx, &caches, &dest).1)
    };
    // The second build starts once the first one's RUN holds the cache.
    let first = start(0);
    let busy = caches.path().join("shared/busy");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !busy.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(busy.exists(), "the first build never reached its RUN");
    let second = start(1);
    let (first, second) = (first.join().unwrap(), second.join().unwrap());
    let cache = caches.path().join("shared");
    assert_eq!(
        std::fs::read_to_string(cache.join("runs")).unwrap(),
        "done\ndone\n"
    );
    assert!(
        !cache.join("overlapped").exists(),
        "the two RUNs overlapped"
    );
    assert!(
        second.contains("Waiting for cache mount \"shared\" (sharing=locked)"),
        "the second build did not wait:\n{second}\n---\n{first}"
    );
}

#[test]
fn secrets_reach_their_run_only_through_a_file_and_the_environment() {
    let reg = registry_with_busybox();
    let (file_secret, env_secret) = ("s3cr3t-from-file-81f2", "s3cr3t-from-env-c4d9");
    let df = format!(
        "FROM {r}/library/busybox:latest\n\
         RUN --mount=type=secret,id=api,uid=1000,mode=0440 --mount=type=secret,id=tok,env=TOKEN \\\n\
         \x20 sha256sum /run/secrets/api | cut -c1-64 > /file.sum && printf %s \"$TOKEN\" | sha256sum | cut -c1-64 > /env.sum \\\n\
         \x20 && stat -L -c '%a %u' /run/secrets/api > /file.mode && readlink /run/secrets/api | cut -c1-24 > /file.where\n\
         RUN --mount=type=secret,id=missing sh -c 'test ! -e /run/secrets/missing && echo skipped > /missing'\n\
         RUN (test -e /run/secrets/api || test -n \"$TOKEN\") && echo leaked > /after || echo gone > /after\n",
        r = reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    // The file comes from a volume, as a Kubernetes secret would.
    let volume = tempfile::tempdir().unwrap();
    std::fs::write(volume.path().join("api"), file_secret).unwrap();
    let mut sb = Sandbox::new(&executor()).unwrap();
    sb.context(ctx.path())
        .bind(volume.path(), "/run/pod-secrets")
        .env("SOME_TOKEN", env_secret);
    let dest = format!("{}/test/secret:1", reg.addr);
    let out = sb
        .run(&args(
            &dest,
            &[
                "--secret",
                "id=api,src=/run/pod-secrets/api",
                "--secret",
                "id=tok,env=SOME_TOKEN",
                "--verbosity=trace",
                "--log-format=text",
            ],
        ))
        .unwrap();
    assert_eq!(out.status, 0, "executor failed:\n{}", out.stderr);
    let sum = |s: &str| ::image::Digest::sha256(s.as_bytes()).hex().to_string();
    let report = run_image(
        &reg,
        "test/secret:1",
        Some(&[
            "cat".into(),
            "/file.sum".into(),
            "/env.sum".into(),
            "/file.mode".into(),
            "/file.where".into(),
            "/missing".into(),
            "/after".into(),
        ]),
    );
    assert_eq!(
        report,
        format!(
            "{}\n{}\n440 1000\n/dev/shm/.kaniko-secret-\nskipped\ngone\n",
            sum(file_secret),
            sum(env_secret)
        )
    );
    for secret in [file_secret, env_secret] {
        assert!(
            !out.stderr.contains(secret) && !out.stdout.contains(secret),
            "in the log"
        );
        // Layers (decompressed), config with its history, manifest; the pod's disk.
        assert_eq!(
            leaks::blobs_holding(&reg, secret.as_bytes()),
            Vec::<PathBuf>::new()
        );
        assert_eq!(
            leaks::files_holding(sb.root(), secret.as_bytes()),
            Vec::<PathBuf>::new()
        );
        let dir = tempfile::tempdir().unwrap();
        let bundle = testkit::images::unpack(&reg.addr, "test/secret:1", dir.path()).unwrap();
        assert!(
            !has(&bundle.join("rootfs"), "/run"),
            "the secret's mount point stayed"
        );
    }
    assert!(
        out.stderr
            .contains("level=debug msg=\"Mount for RUN: secret"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_required_secret_that_was_not_given_fails_the_run_clearly() {
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {r}/library/busybox:latest\nRUN --mount=type=secret,id=npmrc,required=true cat /run/secrets/npmrc\n",
        r = reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let dest = format!("{}/test/nosecret:1", reg.addr);
    let (_, out) = run(ctx.path(), &args(&dest, &[]));
    assert_ne!(out.status, 0);
    assert!(
        out.stderr.contains("Dockerfile line 2") && out.stderr.contains("secret npmrc: not found"),
        "{}",
        out.stderr
    );
    assert!(!exists(&reg, "test/nosecret:1"));
    // A --secret whose file is missing stops the run at start, naming the id and the file.
    let (_, out) = run(
        ctx.path(),
        &args(&dest, &["--secret", "id=npmrc,src=/run/none"]),
    );
    assert_ne!(out.status, 0);
    assert!(
        out.stderr
            .contains("--secret id=npmrc: reading /run/none: No such file"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_secret_is_gone_after_a_failing_run_and_after_sigterm() {
    let reg = registry_with_busybox();
    let secret = "s3cr3t-killed-5e1a";
    let df = format!(
        "FROM {r}/library/busybox:latest\n\
         RUN echo before > /before\n\
         RUN --mount=type=secret,id=tok,target=/etc/app/token \\\n\
         \x20 test -s /etc/app/token && if [ -e /workspace/fail ]; then exit 3; fi; \\\n\
         \x20 touch /workspace/started; sleep 600\n",
        r = reg.addr
    );
    let ctx = context(&[("Dockerfile", &df), ("fail", "")]);
    let volume = tempfile::tempdir().unwrap();
    std::fs::write(volume.path().join("tok"), secret).unwrap();
    let mut sb = Sandbox::new(&executor()).unwrap();
    sb.context(ctx.path())
        .bind(volume.path(), "/run/pod-secrets");
    let dest = format!("{}/test/killed:1", reg.addr);
    let cache = format!("{}/test/killed-cache", reg.addr);
    let build = args(
        &dest,
        &[
            "--secret",
            "id=tok,src=/run/pod-secrets/tok",
            "--cache=true",
            "--cache-repo",
            &cache,
            "--verbosity=trace",
        ],
    );
    let check = |out: &testkit::sandbox::Output, sb: &Sandbox| {
        assert!(!out.stderr.contains(secret) && !out.stdout.contains(secret));
        assert_eq!(
            leaks::blobs_holding(&reg, secret.as_bytes()),
            Vec::<PathBuf>::new()
        );
        assert_eq!(
            leaks::files_holding(sb.root(), secret.as_bytes()),
            Vec::<PathBuf>::new()
        );
        assert!(
            !sb.root().join("etc/app").exists(),
            "the target's parents stayed"
        );
    };
    // The RUN fails after copying the secret: the first RUN's layer went to the cache.
    let out = sb.run(&build).unwrap();
    assert_eq!(out.status, 3, "{}", out.stderr);
    let repos = reg.storage().join("docker/registry/v2/repositories/test");
    assert!(
        repos.join("killed-cache").exists(),
        "nothing went to the cache"
    );
    check(&out, &sb);
    // SIGTERM while the RUN holds the secret.
    std::fs::remove_file(ctx.path().join("fail")).unwrap();
    let running = sb.spawn(&build).unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !ctx.path().join("started").exists() {
        assert!(Instant::now() < deadline, "the RUN never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    running.signal(nix::sys::signal::Signal::SIGTERM).unwrap();
    let out = running.wait().unwrap();
    assert_eq!(out.status, 128 + 15, "{}", out.stderr);
    check(&out, &sb);
    assert!(!exists(&reg, "test/killed:1"));
}

#[test]
fn the_next_start_repairs_what_a_killed_build_left() {
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {r}/library/busybox:latest\n\
         RUN mkdir -p /var/cache/k && echo image > /var/cache/k/own\n\
         RUN --mount=type=cache,id=k,target=/var/cache/k echo cached > /var/cache/k/data \\\n\
         \x20 && if [ ! -e /workspace/started ]; then touch /workspace/started; sleep 600; fi\n",
        r = reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let mut sb = Sandbox::new(&executor()).unwrap();
    sb.context(ctx.path());
    let dest = format!("{}/test/repair:1", reg.addr);
    let running = sb.spawn(&args(&dest, &[])).unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !ctx.path().join("started").exists() {
        assert!(Instant::now() < deadline, "the RUN never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Killed outright (OOM, SIGKILL): the cache, renamed into place, is left at its target
    // and the image's own directory aside.
    running.signal(nix::sys::signal::Signal::SIGKILL).unwrap();
    running.wait().unwrap();
    let root = sb.root();
    assert_eq!(
        std::fs::read_to_string(root.join("var/cache/k/data")).unwrap(),
        "cached\n"
    );
    assert!(!root.join("kaniko/caches/k").exists());
    // The next start in the same container puts both back, then builds.
    let out = sb.run(&args(&dest, &[])).unwrap();
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("Put back /var/cache/k: a RUN --mount of an earlier build"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(root.join("kaniko/caches/k/data")).unwrap(),
        "cached\n"
    );
    assert_eq!(
        run_image(
            &reg,
            "test/repair:1",
            Some(&["cat".into(), "/var/cache/k/own".into()])
        ),
        "image\n"
    );
}
