//! The private Docker daemon: it pulls from the loopback registry, runs a container with
//! Docker's default capabilities and seccomp profile (what a default Pod gets), builds with
//! BuildKit, and leaves no process, cgroup or file behind.

use std::path::Path;
use testkit::docker::Docker;
use testkit::registry::{Auth, Registry};

/// CAP_SYS_ADMIN's bit in /proc/PID/status's capability masks.
const CAP_SYS_ADMIN: u64 = 1 << 21;

#[test]
fn runs_with_default_capabilities_builds_and_leaves_nothing_behind() {
    let reg = Registry::start(Auth::None, false).unwrap();
    testkit::images::push_busybox(&reg.addr, "library/busybox:latest").unwrap();
    let image = format!("{}/library/busybox:latest", reg.addr);
    let docker = Docker::start().unwrap();
    let socket = docker.socket();
    docker.docker_ok(&["pull", "-q", &image]).unwrap();
    let script = "grep -E '^(CapEff|Seccomp):' /proc/self/status; unshare -m true 2>/dev/null && echo unshared; true";
    let out = docker
        .docker(
            &[
                "run",
                "--rm",
                "--network",
                "host",
                &image,
                "sh",
                "-c",
                script,
            ],
            None,
            testkit::docker::DOCKER_TIMEOUT,
        )
        .unwrap();
    assert_eq!(out.status, 0, "{out:?}");
    let eff = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
        .unwrap();
    assert_eq!(eff & CAP_SYS_ADMIN, 0, "{out:?}");
    assert!(out.stdout.contains("Seccomp:\t2"), "{out:?}");
    assert!(!out.stdout.contains("unshared"), "{out:?}");

    let ctx = tempfile::tempdir().unwrap();
    let df = format!("FROM {image}\nRUN echo built > /built\n");
    std::fs::write(ctx.path().join("Dockerfile"), df).unwrap();
    let built = docker
        .buildkit_build(ctx.path(), &["-t", "probe:1"])
        .unwrap();
    assert_eq!(built.status, 0, "{built:?}");
    let out = docker
        .docker_ok(&[
            "run",
            "--rm",
            "--network",
            "host",
            "probe:1",
            "cat",
            "/built",
        ])
        .unwrap();
    assert_eq!(out, "built\n");

    let root = socket.parent().unwrap().display().to_string();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(&root), "{mounts}");
    drop(docker);
    assert!(!Path::new(&root).exists(), "{root} left behind");
}
