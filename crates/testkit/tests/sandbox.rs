//! The pod-like sandbox, exercised with busybox-static standing in for the executor: it is
//! copied to /kaniko/executor and reached through applet-named symlinks to it.

use std::path::Path;
use std::time::{Duration, Instant};
use testkit::sandbox::{Output, Sandbox};

/// A sandbox whose /kaniko/executor is busybox, with /bin/sh, /bin/ls, … linked to it.
fn busybox_sandbox() -> Sandbox {
    let sb = Sandbox::new(Path::new("/bin/busybox")).unwrap();
    std::fs::create_dir_all(sb.root().join("bin")).unwrap();
    for applet in ["sh", "ls", "cat", "echo", "touch", "sleep", "pwd", "grep"] {
        std::os::unix::fs::symlink("/kaniko/executor", sb.root().join("bin").join(applet)).unwrap();
    }
    sb
}

fn sh(sb: &Sandbox, script: &str) -> Output {
    let out = sb.run_program("/bin/sh", &["-c", script], None).unwrap();
    assert_eq!(
        out.status, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    out
}

#[test]
fn executor_is_pid_1_chrooted_with_the_context_at_workspace() {
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(ctx.path().join("Dockerfile"), "FROM scratch\n").unwrap();
    std::fs::write(ctx.path().join("a.txt"), "a").unwrap();
    let mut sb = busybox_sandbox();
    sb.context(ctx.path());
    let out = sh(
        &sb,
        "cat /proc/self/mountinfo; echo pid=$$; echo pwd=$(pwd); ls /workspace; \
         [ -e /work ] && echo work=present || echo work=absent; \
         [ -e /.dockerenv ] && echo marker=yes; [ -x /kaniko/executor ] && echo exe=yes",
    );
    let o = &out.stdout;
    assert!(o.contains("pid=1\n"), "{o}");
    assert!(o.contains("pwd=/workspace\n"), "{o}");
    assert!(o.contains("\nDockerfile\na.txt\n"), "{o}");
    assert!(o.contains("work=absent\n"), "{o}");
    assert!(o.contains("marker=yes\n") && o.contains("exe=yes\n"), "{o}");
    let mount_points: Vec<&str> = o.lines().filter_map(|l| l.split(' ').nth(4)).collect();
    for m in ["/workspace", "/proc", "/dev", "/dev/null", "/sys"] {
        assert!(
            mount_points.contains(&m),
            "{m} not mounted: {mount_points:?}"
        );
    }
    // The host's mounts outside the root are not visible inside.
    assert!(!mount_points.iter().any(|m| m.starts_with("/work/")), "{o}");
}

#[test]
fn environment_is_kanikos_plus_the_callers() {
    let mut sb = busybox_sandbox();
    sb.env("EXTRA", "yes").env("HOME", "/home/override");
    let out = sh(
        &sb,
        "echo $PATH; echo $HOME; echo $USER; echo $SSL_CERT_DIR; echo $DOCKER_CONFIG; \
         echo $EXTRA; echo ${CARGO:-unset}",
    );
    assert_eq!(
        out.stdout,
        "/usr/local/bin:/kaniko:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin\n\
         /home/override\nroot\n/kaniko/ssl/certs\n/kaniko/.docker/\nyes\nunset\n"
    );
}

#[test]
fn writes_under_root_land_in_the_sandbox_root() {
    let mut sb = busybox_sandbox();
    sb.docker_config(r#"{"auths":{}}"#)
        .file("/kaniko/ssl/certs/ca.crt", b"PEM");
    let name = format!("testkit-sandbox-probe-{}", std::process::id());
    let out = sh(
        &sb,
        &format!(
            "echo made > /{name}; echo etc > /etc/probe; cat /kaniko/.docker/config.json; \
             cat /kaniko/ssl/certs/ca.crt"
        ),
    );
    assert_eq!(out.stdout, "{\"auths\":{}}PEM");
    assert_eq!(
        std::fs::read_to_string(sb.root().join(&name)).unwrap(),
        "made\n"
    );
    assert_eq!(
        std::fs::read_to_string(sb.root().join("etc/probe")).unwrap(),
        "etc\n"
    );
    assert!(!Path::new("/").join(&name).exists());
    assert!(!Path::new("/etc/probe").exists());
}

#[test]
fn dev_is_minimal_and_sys_read_only() {
    let sb = busybox_sandbox();
    let out = sh(
        &sb,
        "ls /dev; echo x > /dev/null && echo null=ok; \
         touch /sys/probe 2>/dev/null && echo sys=rw || echo sys=ro",
    );
    let o = &out.stdout;
    assert!(o.contains("null=ok\n") && o.contains("sys=ro\n"), "{o}");
    let listed: Vec<&str> = o.lines().take_while(|l| !l.contains('=')).collect();
    let allowed = [
        "fd", "full", "null", "random", "shm", "stderr", "stdin", "stdout", "tty", "urandom",
        "zero",
    ];
    assert_eq!(listed, allowed, "{o}");
}

#[test]
fn without_marker_and_exit_status_and_stdin() {
    let mut sb = busybox_sandbox();
    sb.without_container_marker();
    let out = sb
        .run_program(
            "/bin/sh",
            &["-c", "[ -e /.dockerenv ] || cat; exit 7"],
            Some(b"piped"),
        )
        .unwrap();
    assert_eq!(
        (out.status, out.stdout.as_str()),
        (7, "piped"),
        "{}",
        out.stderr
    );
    // `run` is the executor itself: busybox named "executor" is no applet.
    let out = sb.run(&["--help"]).unwrap();
    assert_eq!(out.status, 127, "{}", out.stderr);
    assert!(out.stderr.contains("applet not found"), "{}", out.stderr);
}

#[test]
fn a_run_past_its_timeout_is_killed() {
    let mut sb = busybox_sandbox();
    sb.timeout(Duration::from_millis(500));
    let start = Instant::now();
    let err = sb
        .run_program("/bin/sh", &["-c", "sleep 30"], None)
        .unwrap_err();
    assert!(err.to_string().contains("killed"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_bad_file_is_reported_by_run() {
    let mut sb = busybox_sandbox();
    sb.file("/../escape", b"x");
    assert!(sb.run_program("/bin/sh", &["-c", "true"], None).is_err());
}

#[test]
fn drop_removes_foreign_files_without_following_links() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("keep"), "keep").unwrap();
    let sb = busybox_sandbox();
    let root = sb.root().to_path_buf();
    std::os::unix::fs::symlink(outside.path(), root.join("link-out")).unwrap();
    sh(
        &sb,
        "mkdir -p /locked/sub && echo x > /locked/sub/f && chown -R 1234:1234 /locked \
         && chmod 000 /locked/sub && chmod 500 /locked && ln -s / /locked/rootlink",
    );
    drop(sb);
    assert!(!root.exists());
    assert_eq!(
        std::fs::read_to_string(outside.path().join("keep")).unwrap(),
        "keep"
    );
}

/// Docker's default capability set as /proc/PID/status prints it (`docker run` here gives
/// CapEff 00000000a80425fb).
const DOCKER_CAPS: u64 = 0xa804_25fb;

#[test]
fn the_root_is_a_mount_point_binds_show_host_directories_and_privileges_are_a_pods() {
    let vol = tempfile::tempdir().unwrap();
    std::fs::write(vol.path().join("kept"), "from the host").unwrap();
    let mut sb = busybox_sandbox();
    for applet in ["unshare", "mount", "nsenter"] {
        std::os::unix::fs::symlink("/kaniko/executor", sb.root().join("bin").join(applet)).unwrap();
    }
    sb.bind(vol.path(), "/kaniko/caches");
    let out = sh(
        &sb,
        "cat /kaniko/caches/kept; echo; touch /kaniko/caches/new; grep '^Cap' /proc/self/status; \
         grep Seccomp: /proc/self/status; cat /proc/self/mountinfo; \
         unshare -U true 2>/dev/null && echo userns=yes || echo userns=no; \
         unshare -m true 2>/dev/null && echo mountns=yes || echo mountns=no; \
         mount -t tmpfs tmpfs /tmp 2>/dev/null && echo mount=yes || echo mount=no",
    );
    assert!(out.stdout.starts_with("from the host\n"), "{}", out.stdout);
    assert!(
        vol.path().join("new").exists(),
        "writes reach the host directory"
    );
    let mask = |name: &str| {
        let line = out.stdout.lines().find(|l| l.starts_with(name)).unwrap();
        u64::from_str_radix(line.split_whitespace().nth(1).unwrap(), 16).unwrap()
    };
    for set in ["CapEff:", "CapPrm:", "CapBnd:"] {
        assert_eq!(mask(set), DOCKER_CAPS, "{set} {}", out.stdout);
    }
    assert_eq!(mask("CapInh:"), 0);
    assert!(out.stdout.contains("Seccomp:\t2"), "{}", out.stdout);
    for refused in ["userns=no", "mountns=no", "mount=no"] {
        assert!(out.stdout.contains(refused), "{}", out.stdout);
    }
    let mount_points: Vec<&str> = out
        .stdout
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .collect();
    assert!(
        mount_points.contains(&"/") && mount_points.contains(&"/kaniko/caches"),
        "{mount_points:?}"
    );
}

#[test]
fn the_file_server_counts_downloads() {
    let server = testkit::files::FileServer::start(&[("/f", b"body")]).unwrap();
    let get = |path: &str| {
        use std::io::{Read, Write};
        let mut c = std::net::TcpStream::connect(&server.addr).unwrap();
        write!(c, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut s = String::new();
        c.read_to_string(&mut s).unwrap();
        s
    };
    assert!(get("/f").ends_with("\r\n\r\nbody"));
    assert!(get("/nope").starts_with("HTTP/1.1 404"));
    assert_eq!((server.hits("/f"), server.hits("/nope")), (1, 0));
}
