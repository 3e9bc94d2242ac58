//! End-to-end builds: the executor in the pod sandbox builds from a busybox base in a real
//! registry, pushes, and the result is checked with skopeo, umoci and runc.

mod common;
use common::*;

const HELLO: &str = "FROM REG/library/busybox:latest
RUN echo hello > /hello.txt && mkdir -p /app
COPY Dockerfile /app/
CMD [\"cat\", \"/hello.txt\"]
";

#[test]
fn builds_pushes_and_runs() {
    let reg = registry_with_busybox();
    let ctx = context(&[("Dockerfile", &HELLO.replace("REG", &reg.addr))]);
    let dest = format!("{}/test/hello:1", reg.addr);
    let (sb, out) = build_ok(
        ctx.path(),
        &["--destination", &dest, "--digest-file", "/kaniko/digest"],
    );
    eprintln!("{}", out.stderr);
    for line in [
        "Retrieving image manifest",
        "Unpacking rootfs as cmd RUN echo hello",
        "Taking snapshot of full filesystem...",
        "Running: [/bin/sh -c echo hello > /hello.txt && mkdir -p /app]",
        "Taking snapshot of files...",
        "Pushing image to",
        "Pushed ",
    ] {
        assert!(
            out.stderr.contains(line),
            "log lacks {line:?}:\n{}",
            out.stderr
        );
    }
    let inspect = testkit::images::inspect(&reg.addr, "test/hello:1").unwrap();
    assert_eq!(inspect["Layers"].as_array().unwrap().len(), 3, "{inspect}");
    let digest = std::fs::read_to_string(sb.root().join("kaniko/digest")).unwrap();
    assert_eq!(digest, inspect["Digest"].as_str().unwrap());
    assert_eq!(run_image(&reg, "test/hello:1", None), "hello\n");
    // The executor binary in the sandbox is untouched.
    let host = std::fs::read(executor()).unwrap();
    assert!(std::fs::read(sb.root().join("kaniko/executor")).unwrap() == host);
}
