//! `RUN --mount=type=bind|tmpfs|ssh` and `RUN --network=none` in the pod sandbox (a default
//! container's privileges: no CAP_SYS_ADMIN) against the real registry: binds from an
//! earlier stage, an image and the context (a write is thrown away and the source never
//! changes; `.dockerignore`d files invisible), a cache seeded from a stage, a private empty
//! tmpfs, an SSH agent socket forwarded (or a clear failure without one), a target whose
//! previous content comes back, and a loopback server on the host that a default RUN
//! reaches and a `--network=none` RUN does not.

mod common;
use common::*;
use std::io::Write;
use testkit::sandbox::Sandbox;

fn args<'a>(dest: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--context", "/workspace", "--insecure", "--insecure-pull"];
    args.extend_from_slice(&["--destination", dest]);
    args.extend_from_slice(extra);
    args
}

fn cat(reg: &testkit::registry::Registry, tag: &str, script: &str) -> String {
    run_image(reg, tag, Some(&["sh".into(), "-c".into(), script.into()]))
}

/// Whether the image `tag` has `path` in its root file system.
fn image_has(reg: &testkit::registry::Registry, tag: &str, path: &str) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let bundle = testkit::images::unpack(&reg.addr, tag, dir.path()).unwrap();
    let p = bundle.join("rootfs").join(path.trim_start_matches('/'));
    p.symlink_metadata().is_ok()
}

#[test]
fn binds_from_a_stage_an_image_and_the_context_never_change_their_source() {
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {r}/library/busybox:latest AS tools\n\
         RUN mkdir /out && echo 'echo from-stage' > /out/tool.sh\n\
         FROM {r}/library/busybox:latest\n\
         RUN --mount=type=bind,from=tools,source=/out,target=/mnt/tools sh /mnt/tools/tool.sh > /stage.txt\n\
         RUN --mount=type=bind,from={r}/library/busybox:latest,source=/bin/busybox,target=/opt/busybox /opt/busybox echo from-image > /image.txt\n\
         RUN --mount=type=bind,target=/ctx cat /ctx/data.txt > /ctx.txt \\\n\
         \x20 && echo x > /ctx/data.txt && cat /ctx/data.txt > /ro.txt \\\n\
         \x20 && (test -e /ctx/hidden.txt && echo visible || echo hidden) > /ignored.txt\n\
         RUN --mount=type=bind,source=sub,target=/ctx,rw echo changed > /ctx/f && cat /ctx/f > /rw.txt\n\
         RUN cat /ctx/f 2>/dev/null || echo gone > /after.txt\n\
         RUN --mount=type=cache,id=seeded,target=/s,from=tools,source=/out cat /s/tool.sh > /seeded.txt\n",
        r = reg.addr
    );
    let ctx = context(&[
        ("Dockerfile", &df),
        ("data.txt", "context data\n"),
        ("hidden.txt", "nope\n"),
        (".dockerignore", "hidden.txt\n"),
        ("sub/f", "original\n"),
    ]);
    let dest = format!("{}/test/bind:1", reg.addr);
    let (_, out) = run(ctx.path(), &args(&dest, &[]));
    assert_eq!(out.status, 0, "{}", out.stderr);
    let report = cat(
        &reg,
        "test/bind:1",
        "cat /stage.txt /image.txt /ctx.txt /ro.txt /ignored.txt /rw.txt /after.txt /seeded.txt",
    );
    assert_eq!(
        report,
        "from-stage\nfrom-image\ncontext data\nx\nhidden\nchanged\ngone\necho from-stage\n"
    );
    assert_eq!(
        std::fs::read_to_string(ctx.path().join("sub/f")).unwrap(),
        "original\n"
    );
    assert_eq!(
        std::fs::read_to_string(ctx.path().join("data.txt")).unwrap(),
        "context data\n"
    );
    for made in ["/mnt", "/opt", "/ctx"] {
        assert!(
            !image_has(&reg, "test/bind:1", made),
            "{made} stayed in the image"
        );
    }
}

#[test]
fn a_tmpfs_is_empty_and_private_and_a_target_gets_its_content_back() {
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {r}/library/busybox:latest\n\
         RUN mkdir /scratch && echo kept > /scratch/below\n\
         RUN --mount=type=tmpfs,target=/scratch,size=1m \\\n\
         \x20 (test -e /scratch/below && echo shows-below || echo empty) > /seen.txt \\\n\
         \x20 && echo temp > /scratch/temp && stat -c %a /scratch >> /seen.txt\n\
         RUN --mount=type=tmpfs,target=/tmp/work/t ls /tmp/work/t\n\
         RUN --mount=type=cache,target=/scratch --mount=type=tmpfs,target=/scratch/inner cat /scratch/below 2>/dev/null; true\n",
        r = reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let dest = format!("{}/test/tmpfs:1", reg.addr);
    let (_, out) = run(ctx.path(), &args(&dest, &[]));
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(
        cat(&reg, "test/tmpfs:1", "cat /seen.txt; ls /scratch; ls /tmp"),
        "empty\n1777\nbelow\n"
    );
    // RUNs that only used their mounts add no layer: the directories made for a mount
    // point are gone, an existing target has its content back, and the directories
    // around them are as they were.
    let empty = "No files were changed, appending empty layer to config.";
    assert_eq!(out.stderr.matches(empty).count(), 2, "{}", out.stderr);
}

/// A loopback TCP server on the host that answers `pong` to every connection.
fn pong_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let mut conn = conn;
            let _ = conn.write_all(b"pong\n");
        }
    });
    port
}

#[test]
fn network_none_cuts_the_run_off_every_inet_socket() {
    let reg = registry_with_busybox();
    let port = pong_server();
    let df = format!(
        "FROM {r}/library/busybox:latest\n\
         RUN nc 127.0.0.1 {port} </dev/null > /default.txt\n\
         RUN --network=none (nc -w 2 127.0.0.1 {port} </dev/null || echo unreachable) > /none.txt \\\n\
         \x20 && (nc -l -p 0 -w 1 2>/dev/null || echo no-listener) >> /none.txt\n\
         RUN --network=host nc 127.0.0.1 {port} </dev/null > /host.txt\n",
        r = reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let dest = format!("{}/test/net:1", reg.addr);
    let (_, out) = run(ctx.path(), &args(&dest, &[]));
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(
        cat(&reg, "test/net:1", "cat /default.txt /none.txt /host.txt"),
        "pong\nunreachable\nno-listener\npong\n"
    );
}

#[test]
fn ssh_mounts_forward_the_agent_socket_or_fail_clearly() {
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {r}/library/busybox:latest\n\
         RUN --mount=type=ssh,required=true test -S \"$SSH_AUTH_SOCK\" && echo \"$SSH_AUTH_SOCK\" > /ssh.txt\n",
        r = reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    // Without an agent: one clear line, nothing pushed.
    let dest = format!("{}/test/ssh:1", reg.addr);
    let (_, out) = run(ctx.path(), &args(&dest, &[]));
    assert_ne!(out.status, 0);
    assert!(
        out.stderr
            .contains("no SSH agent for ssh mount \"default\""),
        "{}",
        out.stderr
    );
    assert!(!exists(&reg, "test/ssh:1"));
    // With an agent socket (here a plain listener on a volume the pod mounts).
    let agent = tempfile::tempdir().unwrap();
    let _listener =
        std::os::unix::net::UnixListener::bind(agent.path().join("agent.sock")).unwrap();
    let mut sb = Sandbox::new(&executor()).unwrap();
    sb.context(ctx.path())
        .bind(agent.path(), "/run/agent")
        .env("SSH_AUTH_SOCK", "/run/agent/agent.sock");
    let out = sb.run(&args(&dest, &[])).unwrap();
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(
        cat(&reg, "test/ssh:1", "cat /ssh.txt"),
        "/run/buildkit/ssh_agent.0\n"
    );
    assert!(!image_has(&reg, "test/ssh:1", "/run"));
}

#[test]
fn mounts_and_network_none_need_no_mount_point_at_the_root() {
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {r}/library/busybox:latest\n\
         RUN --mount=type=cache,target=/c --mount=type=tmpfs,target=/t --network=none \\\n\
         \x20 echo x > /c/x && echo y > /t/y && awk '$5 == \"/\"' /proc/self/mountinfo | wc -l > /root-mounts\n",
        r = reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let dest = format!("{}/test/plain:1", reg.addr);
    let mut sb = Sandbox::new(&executor()).unwrap();
    sb.context(ctx.path()).plain_root();
    let out = sb.run(&args(&dest, &[])).unwrap();
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(cat(&reg, "test/plain:1", "cat /root-mounts"), "0\n");
}
