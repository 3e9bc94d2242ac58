//! No URL's user, password or token reaches a log line, at any verbosity, nor the image's
//! history: `ADD` of a URL with
//! `user:password@` and token-like query parameters, `ADD` of a git URL with credentials,
//! and a git context with `user:token@`, all at `--verbosity=trace` (`crates/redact`).

mod common;
mod remote;

use common::*;
use remote::{assert_no_secret, build, context_files};
use testkit::servers::git::WorkRepo;
use testkit::servers::http::{Config, HttpServer};

fn server(user: &str, password: &str) -> HttpServer {
    HttpServer::start(Config {
        basic_auth: Some((user.into(), password.into())),
        tls: false,
    })
    .unwrap()
}

#[test]
fn no_url_credential_in_any_log_line() {
    let reg = registry_with_busybox();
    let files = server("dl-user", "dl-pa55-word");
    files.put_file("a.txt", b"payload\n").unwrap();
    let git = server("git-user", "git-t0ken-xyz");
    let repo = WorkRepo::init().unwrap();
    for (p, c) in context_files(&reg, "from git") {
        repo.write(&[(p.as_str(), c.as_str())]).unwrap();
    }
    repo.commit("one").unwrap();
    repo.publish(&git.repos, "app.git").unwrap();
    let secrets = [
        "dl-pa55-word",
        "q-t0ken-1",
        "sig-v4-abc",
        "git-t0ken-xyz",
        "az-sig-9",
    ];

    let df = format!(
        "FROM {r}/library/busybox:latest\n\
         ADD http://dl-user:dl-pa55-word@{f}/files/a.txt?token=q-t0ken-1&X-Amz-Signature=sig-v4-abc&v=1 /a.txt\n\
         ADD http://git-user:git-t0ken-xyz@{g}/git/app.git /app\n\
         RUN cat /a.txt /app/hello.txt\n",
        r = reg.addr,
        f = files.addr,
        g = git.addr,
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let dest = format!("{}/test/redacted:1", reg.addr);
    let (_sb, out) = run(
        ctx.path(),
        &[
            "--context",
            "/workspace",
            "--destination",
            &dest,
            "--insecure",
            "--verbosity=trace",
        ],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stdout.contains("payload"), "{}", out.stdout);
    assert_no_secret(&out, &secrets);
    // Nor the pushed image's history (its created_by keeps the instruction, redacted).
    let config = testkit::images::inspect_raw(&reg.addr, "test/redacted:1", true).unwrap();
    let history = config["history"].to_string();
    assert!(history.contains("/files/a.txt?token=***"), "{history}");
    for s in secrets {
        assert!(!history.contains(s), "{s} in the history: {history}");
    }

    // A failing download's error line: the URL, redacted.
    let df = format!(
        "FROM {r}/library/busybox:latest\nADD http://dl-user:dl-pa55-word@{f}/files/missing?sig=az-sig-9 /m\n",
        r = reg.addr,
        f = files.addr,
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let (_sb, out) = run(
        ctx.path(),
        &["--context", "/workspace", "--no-push", "--verbosity=trace"],
    );
    assert_ne!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("/files/missing?sig=***"),
        "{}",
        out.stderr
    );
    assert_no_secret(&out, &secrets);

    // A git context with user:token@ in its URL.
    let url = format!("git://git-user:git-t0ken-xyz@{}/git/app.git", git.addr);
    let (_sb, out) = build(
        &reg,
        &url,
        &[("GIT_PULL_METHOD", "http")],
        &["--no-push"],
        "x",
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_no_secret(&out, &secrets);
}
