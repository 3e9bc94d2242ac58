//! Bad input: each case gives a one-line error naming the cause, a non-zero exit, no pushed
//! tag and no digest file.

mod common;
use common::*;

fn assert_fails(
    reg: &testkit::registry::Registry,
    dockerfile: &str,
    files: &[(&str, &str)],
    want: &str,
    code: i32,
) {
    let mut all = vec![("Dockerfile", dockerfile)];
    all.extend_from_slice(files);
    let ctx = context(&all);
    let dest = format!("{}/test/fail:1", reg.addr);
    let (sb, out) = run(
        ctx.path(),
        &[
            "--context",
            "/workspace",
            "--destination",
            &dest,
            "--insecure",
            "--insecure-pull",
            "--digest-file",
            "/kaniko/digest",
        ],
    );
    assert_eq!(
        out.status, code,
        "want exit {code}; stderr:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(want),
        "stderr lacks {want:?}:\n{}",
        out.stderr
    );
    assert!(!exists(reg, "test/fail:1"), "a failed build pushed a tag");
    assert!(
        !sb.root().join("kaniko/digest").exists(),
        "a failed build wrote a digest file"
    );
}

#[test]
fn bad_inputs_fail_cleanly() {
    let reg = registry_with_busybox();
    let base = format!("FROM {}/library/busybox:latest\n", reg.addr);
    // A parse error names the line.
    assert_fails(
        &reg,
        &format!("{base}RUN true\nFROBNICATE x\n"),
        &[],
        "line 3: unknown instruction: FROBNICATE",
        1,
    );
    // A base image that does not exist.
    assert_fails(
        &reg,
        &format!("FROM {}/library/nothere:1\nRUN true\n", reg.addr),
        &[],
        "404",
        1,
    );
    // A COPY source that does not exist.
    assert_fails(
        &reg,
        &format!("{base}COPY missing.txt /x\n"),
        &[],
        "missing.txt: file not found in build context",
        1,
    );
    // A failing RUN exits with the command's code.
    assert_fails(
        &reg,
        &format!("{base}RUN echo about to fail && exit 3\n"),
        &[],
        "returned a non-zero code: 3",
        3,
    );
    // A port Docker refuses, named with its line.
    assert_fails(
        &reg,
        &format!("{base}EXPOSE 8080 http\n"),
        &[],
        "line 2: invalid containerPort: http",
        1,
    );
    // An unknown user.
    assert_fails(
        &reg,
        &format!("{base}USER ghost\nRUN true\n"),
        &[],
        "unable to find user ghost",
        1,
    );
}

#[test]
fn missing_dockerfile_fails() {
    let reg = registry_with_busybox();
    let ctx = context(&[("other.txt", "x")]);
    let dest = format!("{}/test/fail:1", reg.addr);
    let (sb, out) = run(
        ctx.path(),
        &[
            "--context",
            "/workspace",
            "--destination",
            &dest,
            "--insecure",
            "--digest-file",
            "/kaniko/digest",
        ],
    );
    assert_eq!(out.status, 1);
    assert!(
        out.stderr
            .contains("please provide a valid path to a Dockerfile"),
        "{}",
        out.stderr
    );
    assert!(!sb.root().join("kaniko/digest").exists());
}

#[test]
fn a_bad_layer_expansion_bound_is_named() {
    let ctx = context(&[("Dockerfile", "FROM scratch\nLABEL a=b\n")]);
    let mut sb = testkit::sandbox::Sandbox::new(&executor()).unwrap();
    sb.context(ctx.path())
        .env("KANIKO_MAX_LAYER_EXPANSION", "lots");
    let out = sb.run(&["--no-push"]).unwrap();
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("KANIKO_MAX_LAYER_EXPANSION=\"lots\": want a whole number"),
        "{}",
        out.stderr
    );
}

#[test]
fn refuses_outside_a_container_unless_forced() {
    let ctx = context(&[("Dockerfile", "FROM scratch\nLABEL a=b\n")]);
    let mut sb = testkit::sandbox::Sandbox::new(&executor()).unwrap();
    sb.context(ctx.path()).without_container_marker();
    let out = sb.run(&["--no-push"]).unwrap();
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("kaniko should only be run inside of a container"),
        "{}",
        out.stderr
    );
    let out = sb.run(&["--no-push", "--force"]).unwrap();
    assert_eq!(out.status, 0, "{}", out.stderr);
}

#[test]
#[ignore = "prints the error lines for a look by hand"]
fn show_errors() {
    let reg = registry_with_busybox();
    for df in [
        format!("FROM {}/library/nothere:1\nRUN true\n", reg.addr),
        format!("FROM {}/library/busybox\nRUN exit 3\n", reg.addr),
        format!("FROM {}/library/busybox\nCOPY nope /x\n", reg.addr),
        "FROM scratch\nRUN ${x\n".to_string(),
    ] {
        let ctx = context(&[("Dockerfile", &df)]);
        let (_, out) = run(ctx.path(), &["--no-push", "--insecure-pull"]);
        eprintln!("---- {}\n{}", out.status, out.stderr);
    }
}
