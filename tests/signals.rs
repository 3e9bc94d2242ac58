//! Process life: SIGTERM during a long RUN ends the executor within seconds with nothing
//! pushed and its work directory gone; a RUN that leaves background children does not hang
//! the build.

mod common;
use common::*;
use std::time::{Duration, Instant};

#[test]
fn sigterm_during_a_run_stops_the_build() {
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {}/library/busybox:latest\nRUN sleep 1000 & touch /workspace/started; sleep 1000\n",
        reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let mut sb = testkit::sandbox::Sandbox::new(&executor()).unwrap();
    sb.context(ctx.path());
    let running = sb
        .spawn(&[
            "--context",
            "/workspace",
            "--dockerfile",
            "Dockerfile",
            "--insecure",
            "--insecure-pull",
            "--destination",
            &format!("{}/test/term:1", reg.addr),
        ])
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ctx.path().join("started").exists() {
        assert!(Instant::now() < deadline, "the RUN never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let sent = Instant::now();
    running.signal(nix::sys::signal::Signal::SIGTERM).unwrap();
    let out = running.wait().unwrap();
    let took = sent.elapsed();
    assert!(
        took < Duration::from_secs(10),
        "took {took:?} to stop:\n{}",
        out.stderr
    );
    assert_eq!(out.status, 128 + 15, "{}", out.stderr);
    assert!(out.stderr.contains("received SIGTERM"), "{}", out.stderr);
    assert!(!exists(&reg, "test/term:1"));
    let leftovers: Vec<_> = std::fs::read_dir(sb.root().join("kaniko"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("build-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "work directory left behind: {leftovers:?}"
    );
}

#[test]
fn background_children_of_a_run_do_not_hang_the_build() {
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {}/library/busybox:latest\nRUN sleep 600 & echo started\nRUN echo next > /next\n",
        reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let start = Instant::now();
    build_ok(
        ctx.path(),
        &["--destination", &format!("{}/test/bg:1", reg.addr)],
    );
    assert!(start.elapsed() < Duration::from_secs(120));
    assert_eq!(
        run_image(&reg, "test/bg:1", Some(&["cat".into(), "/next".into()])),
        "next\n"
    );
}
