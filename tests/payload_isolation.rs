//! What a RUN (the build's payload) can read of the executor beside it. The executor makes
//! itself non-dumpable before it reads any credential, so a process without CAP_SYS_PTRACE
//! (a RUN in a default container, even as root) can read none of its `/proc/<pid>/environ`,
//! `maps` or `mem`. The RUN finds the executor's pid itself and prints what it could read;
//! a token planted in the executor's environment must not appear.

mod common;
use common::image::{build_image, REPO};
use common::*;
use testkit::docker::Docker;
use testkit::sandbox::Sandbox;

const TOKEN: &str = "planted-git-token-5d1e0c";

/// A RUN that looks for the executor among the processes it sees and tries its files; it
/// prints `probe-<what>=read` or `probe-<what>=denied` (words its own text does not hold,
/// since the log repeats the command).
fn probe_dockerfile(base: &str) -> String {
    let script = r#"for p in /proc/[0-9]*; do
  [ "$(tr '\0' '\n' < $p/cmdline 2>/dev/null | head -n 1)" = /kaniko/executor ] || continue
  echo "probe-pid=${p#/proc/}"
  tr '\0' '\n' < $p/environ 2>/dev/null | grep GIT_TOKEN && r=read || r=denied
  echo "probe-environ=$r"
  head -c 1 $p/maps >/dev/null 2>&1 && r=read || r=denied
  echo "probe-maps=$r"
  readlink $p/fd/2 >/dev/null 2>&1 && r=read || r=denied
  echo "probe-fd=$r"
done"#;
    format!("FROM {base}\nRUN <<EOS\n{script}\nEOS\n")
}

/// Checks what the probe printed: the executor was found, nothing could be read.
fn assert_denied(log: &str) {
    assert!(
        log.contains("probe-pid="),
        "the RUN did not find the executor:\n{log}"
    );
    assert!(
        !log.contains(TOKEN),
        "the RUN read the executor's token:\n{log}"
    );
    for what in ["environ", "maps", "fd"] {
        let line = format!("probe-{what}=denied");
        assert!(log.contains(&line), "{line} missing:\n{log}");
    }
}

/// In the pod-like sandbox, which has Docker's default capabilities: no CAP_SYS_PTRACE,
/// CAP_SYS_ADMIN or CAP_PERFMON (each of them lets a process read a non-dumpable one's
/// files; the executor is pid 1 there).
#[test]
fn a_run_cannot_read_the_executor_in_the_sandbox() {
    let reg = registry_with_busybox();
    let df = probe_dockerfile(&format!("{}/library/busybox:latest", reg.addr));
    let ctx = context(&[("Dockerfile", &df)]);
    let mut sb = Sandbox::new(&executor()).unwrap();
    sb.context(ctx.path()).env("GIT_TOKEN", TOKEN);
    let out = build_in(&sb, &["--no-push"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_denied(&format!("{}{}", out.stdout, out.stderr));
}

/// The executor image under `docker run` with Docker's default capabilities (what a
/// default Pod gets).
#[test]
fn a_run_cannot_read_the_executor_under_docker_run() {
    let reg = registry_with_busybox();
    build_image(&reg, "test", &["prebuilt"]);
    let image = format!("{}/{}:test", reg.addr, REPO);
    let docker = Docker::start().unwrap();
    docker.docker_ok(&["pull", "-q", &image]).unwrap();
    let ctx = docker.scratch("ctx").unwrap();
    let df = probe_dockerfile(&format!("{}/library/busybox:latest", reg.addr));
    std::fs::write(ctx.join("Dockerfile"), df).unwrap();
    let volume = format!("{}:/workspace", ctx.display());
    let token = format!("GIT_TOKEN={TOKEN}");
    let out = docker
        .docker(
            &[
                "run",
                "--rm",
                "--network",
                "host",
                "-e",
                &token,
                "-v",
                &volume,
                &image,
                "--context",
                "dir:///workspace",
                "--no-push",
            ],
            None,
            testkit::docker::DOCKER_TIMEOUT,
        )
        .unwrap();
    assert_eq!(out.status, 0, "{out:?}");
    assert_denied(&format!("{}{}", out.stdout, out.stderr));
}
