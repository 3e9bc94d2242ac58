//! Shared by the remote-context tests (tests/contexts_*.rs): the context every source
//! serves, a build from a remote context in the pod sandbox, and the checks on its result
//! and on its failures.
#![allow(dead_code)]

use crate::common::*;
use testkit::registry::Registry;
use testkit::sandbox::{Output, Sandbox};

/// The context's files: a Dockerfile that copies the whole context, proves that
/// `.dockerignore` left `secret.txt` out, and prints `hello.txt`.
pub fn context_files(reg: &Registry, hello: &str) -> Vec<(String, String)> {
    let dockerfile = format!(
        "FROM {}/library/busybox:latest\nCOPY . /ctx/\nRUN test -e /ctx/hello.txt && test ! -e /ctx/secret.txt\nCMD [\"cat\", \"/ctx/hello.txt\"]\n",
        reg.addr
    );
    vec![
        ("Dockerfile".into(), dockerfile),
        ("hello.txt".into(), format!("{hello}\n")),
        ("secret.txt".into(), "left out\n".into()),
        (".dockerignore".into(), "secret.txt\n".into()),
    ]
}

/// The same files in a directory (for archives).
pub fn context_dir(reg: &Registry, hello: &str) -> tempfile::TempDir {
    let files = context_files(reg, hello);
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    context(&refs)
}

/// Runs the executor at `--verbosity=trace` on `remote`, with `env`, an empty /workspace
/// and `extra` flags; pushes to `<reg>/test/<tag>` unless `extra` says `--no-push`.
pub fn build(
    reg: &Registry,
    remote: &str,
    env: &[(&str, &str)],
    extra: &[&str],
    tag: &str,
) -> (Sandbox, Output) {
    build_with(reg, remote, env, &[], extra, tag)
}

/// Like [`build`], with `files` (path in the root, contents) written into the sandbox.
pub fn build_with(
    reg: &Registry,
    remote: &str,
    env: &[(&str, &str)],
    files: &[(&str, &[u8])],
    extra: &[&str],
    tag: &str,
) -> (Sandbox, Output) {
    let empty = tempfile::tempdir().expect("tempdir");
    let mut sb = Sandbox::new(&executor()).expect("sandbox");
    sb.context(empty.path());
    for (k, v) in env {
        sb.env(k, v);
    }
    for (p, c) in files {
        sb.file(p, c);
    }
    let dest = format!("{}/test/{tag}", reg.addr);
    let mut args = vec![
        "--context",
        remote,
        "--insecure",
        "--insecure-pull",
        "--verbosity=trace",
    ];
    if !extra.contains(&"--no-push") {
        args.extend(["--destination", &dest]);
    }
    args.extend_from_slice(extra);
    let out = sb.run(&args).expect("run sandbox");
    (sb, out)
}

/// Asserts the build succeeded and its pushed image prints `hello`; no secret in the log.
pub fn assert_built(reg: &Registry, out: &Output, tag: &str, hello: &str, secrets: &[&str]) {
    assert_eq!(out.status, 0, "executor failed:\n{}", out.stderr);
    assert_no_secret(out, secrets);
    let inspect =
        testkit::images::inspect(&reg.addr, &format!("test/{tag}")).expect("skopeo inspect");
    assert!(inspect["Digest"]
        .as_str()
        .is_some_and(|d| d.starts_with("sha256:")));
    assert_eq!(
        run_image(reg, &format!("test/{tag}"), None),
        format!("{hello}\n")
    );
}

/// Asserts the build failed with one error line containing every `needle`, no secret in
/// the log, nothing pushed.
pub fn assert_fails(reg: &Registry, out: &Output, tag: &str, needles: &[&str], secrets: &[&str]) {
    assert_ne!(out.status, 0, "executor succeeded:\n{}", out.stderr);
    // Shown when the test fails.
    eprintln!("{}", out.stderr);
    assert_no_secret(out, secrets);
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("ERRO") || l.contains("level=error"))
        .collect();
    assert_eq!(errors.len(), 1, "want one error line:\n{}", out.stderr);
    for n in needles {
        assert!(
            errors[0].contains(n),
            "error line lacks {n:?}: {}",
            errors[0]
        );
    }
    assert!(
        !exists(reg, &format!("test/{tag}")),
        "a failed build pushed test/{tag}"
    );
}

pub fn assert_no_secret(out: &Output, secrets: &[&str]) {
    for s in secrets {
        assert!(
            !out.stderr.contains(s) && !out.stdout.contains(s),
            "secret {s:?} in the log:\n{}",
            out.stderr
        );
    }
}

/// The context as a gzipped tar, its files under `prefix` ("" for the top).
pub fn context_tar_gz(reg: &Registry, hello: &str, prefix: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    for (p, c) in context_files(reg, hello) {
        let path = dir.path().join(prefix).join(p);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, c).expect("write");
    }
    testkit::servers::tar_gz(dir.path()).expect("tar")
}
