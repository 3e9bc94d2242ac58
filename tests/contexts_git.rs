//! `git://` contexts against git's own `http-backend` behind lighttpd on loopback: the
//! remote HEAD, a branch, a tag, a commit (alone and after a ref), `--git branch=`, a
//! submodule under `recurse-submodules=true`, basic auth (user and password, token, URL
//! user:token) and TLS; missing refs and repositories and refused credentials fail with
//! one line, and no credential reaches the log at trace level.

mod common;
mod remote;

use common::*;
use remote::*;
use testkit::registry::Registry;
use testkit::servers::git::WorkRepo;
use testkit::servers::http::{Config, HttpServer};

/// Commits of the served repository `app.git`.
struct History {
    /// On main, tagged v1: hello.txt says "one".
    c1: String,
    /// main's tip: "two". Branch `feature` is one commit past it: "feature".
    c2: String,
}

fn publish(srv: &HttpServer, reg: &Registry) -> History {
    let repo = WorkRepo::init().unwrap();
    let write = |hello: &str| {
        for (p, c) in context_files(reg, hello) {
            repo.write(&[(p.as_str(), c.as_str())]).unwrap();
        }
    };
    write("one");
    let c1 = repo.commit("one").unwrap();
    repo.git(&["tag", "v1"]).unwrap();
    write("two");
    let c2 = repo.commit("two").unwrap();
    repo.git(&["checkout", "-q", "-b", "feature"]).unwrap();
    write("feature");
    repo.commit("feature").unwrap();
    repo.git(&["checkout", "-q", "main"]).unwrap();
    repo.publish(&srv.repos, "app.git").unwrap();
    History { c1, c2 }
}

const HTTP: [(&str, &str); 1] = [("GIT_PULL_METHOD", "http")];

#[test]
fn head_branch_tag_and_commits() {
    let reg = registry_with_busybox();
    let srv = HttpServer::start(Config::default()).unwrap();
    let h = publish(&srv, &reg);
    let base = format!("git://{}/git/app.git", srv.addr);
    let cases = [
        (base.clone(), vec![], "two"),
        (format!("{base}#refs/heads/feature"), vec![], "feature"),
        (format!("{base}#refs/tags/v1"), vec![], "one"),
        (format!("{base}#v1"), vec![], "one"),
        (format!("{base}#{}", h.c1), vec![], "one"),
        (format!("{base}#refs/heads/main#{}", h.c1), vec![], "one"),
        (base.clone(), vec!["--git", "branch=feature"], "feature"),
        (
            base.clone(),
            vec!["--git=branch=v1,single-branch=true"],
            "one",
        ),
    ];
    for (i, (url, extra, hello)) in cases.iter().enumerate() {
        let tag = format!("git:{i}");
        let (_sb, out) = build(&reg, url, &HTTP, extra, &tag);
        assert!(
            out.status == 0,
            "{url} {extra:?}:\n{}\n{}",
            out.stderr,
            srv.log()
        );
        assert_built(&reg, &out, &tag, hello, &[]);
    }
    assert_ne!(h.c1, h.c2);
}

#[test]
fn missing_refs_and_repositories() {
    let reg = registry_with_busybox();
    let srv = HttpServer::start(Config::default()).unwrap();
    publish(&srv, &reg);
    let base = format!("git://{}/git/app.git", srv.addr);
    let (_sb, out) = build(
        &reg,
        &format!("{base}#refs/heads/nope"),
        &HTTP,
        &[],
        "gitbad:1",
    );
    assert_fails(
        &reg,
        &out,
        "gitbad:1",
        &["git://", "no such ref refs/heads/nope"],
        &[],
    );
    let (_sb, out) = build(&reg, &base, &HTTP, &["--git=branch=nope"], "gitbad:2");
    assert_fails(&reg, &out, "gitbad:2", &["invalid branch: nope"], &[]);
    let missing = format!("git://{}/git/missing.git", srv.addr);
    let (_sb, out) = build(&reg, &missing, &HTTP, &[], "gitbad:3");
    assert_fails(
        &reg,
        &out,
        "gitbad:3",
        &["missing.git", "no such repository"],
        &[],
    );
    let closed = format!(
        "git://127.0.0.1:{}/git/app.git",
        testkit::registry::free_port().unwrap()
    );
    let (_sb, out) = build(&reg, &closed, &HTTP, &[], "gitbad:4");
    assert_fails(&reg, &out, "gitbad:4", &["cannot reach"], &[]);
}

#[test]
fn basic_auth_token_and_url_credentials() {
    let reg = registry_with_busybox();
    let user = Config {
        basic_auth: Some(("ci-user".into(), "pa55-w0rd-x".into())),
        tls: false,
    };
    let srv = HttpServer::start(user).unwrap();
    publish(&srv, &reg);
    let url = format!("git://{}/git/app.git", srv.addr);
    let secrets = ["pa55-w0rd-x"];
    let env = [
        ("GIT_PULL_METHOD", "http"),
        ("GIT_USERNAME", "ci-user"),
        ("GIT_PASSWORD", "pa55-w0rd-x"),
    ];
    let (_sb, out) = build(&reg, &url, &env, &[], "gitauth:1");
    assert_built(&reg, &out, "gitauth:1", "two", &secrets);
    let in_url = format!("git://ci-user:pa55-w0rd-x@{}/git/app.git", srv.addr);
    let (_sb, out) = build(&reg, &in_url, &HTTP, &[], "gitauth:2");
    assert_built(&reg, &out, "gitauth:2", "two", &secrets);
    let wrong = [
        ("GIT_PULL_METHOD", "http"),
        ("GIT_USERNAME", "ci-user"),
        ("GIT_PASSWORD", "wr0ng-pa55"),
    ];
    let (_sb, out) = build(&reg, &url, &wrong, &[], "gitauth:3");
    assert_fails(
        &reg,
        &out,
        "gitauth:3",
        &["access denied", "refused the credentials"],
        &["wr0ng-pa55"],
    );
    let (_sb, out) = build(&reg, &url, &HTTP, &[], "gitauth:4");
    assert_fails(
        &reg,
        &out,
        "gitauth:4",
        &["access denied", "GIT_TOKEN"],
        &[],
    );

    // A token travels as the user name with an empty password.
    let token = Config {
        basic_auth: Some(("t0ken-abc123".into(), String::new())),
        tls: false,
    };
    let srv = HttpServer::start(token).unwrap();
    publish(&srv, &reg);
    let url = format!("git://{}/git/app.git", srv.addr);
    let env = [("GIT_PULL_METHOD", "http"), ("GIT_TOKEN", "t0ken-abc123")];
    let (_sb, out) = build(&reg, &url, &env, &[], "gitauth:5");
    assert_built(&reg, &out, "gitauth:5", "two", &["t0ken-abc123"]);
}

#[test]
fn tls_needs_trust_or_insecure_skip_tls() {
    let reg = registry_with_busybox();
    let srv = HttpServer::start(Config {
        basic_auth: None,
        tls: true,
    })
    .unwrap();
    publish(&srv, &reg);
    let url = format!("git://{}/git/app.git#refs/heads/feature", srv.addr);
    let (_sb, out) = build(
        &reg,
        &url,
        &[],
        &["--git=insecure-skip-tls=true"],
        "gittls:1",
    );
    assert_built(&reg, &out, "gittls:1", "feature", &[]);
    let (_sb, out) = build(&reg, &url, &[], &[], "gittls:2");
    assert_fails(&reg, &out, "gittls:2", &["TLS", "insecure-skip-tls"], &[]);
}

#[test]
fn submodules_are_checked_out_on_request() {
    let reg = registry_with_busybox();
    let srv = HttpServer::start(Config::default()).unwrap();
    let lib = WorkRepo::init().unwrap();
    lib.write(&[("lib.txt", "from the submodule\n")]).unwrap();
    let lib_commit = lib.commit("lib").unwrap();
    lib.write(&[("lib.txt", "a later lib commit\n")]).unwrap();
    lib.commit("later").unwrap();
    lib.publish(&srv.repos, "lib.git").unwrap();
    let app = WorkRepo::init().unwrap();
    let dockerfile = format!(
        "FROM {}/library/busybox:latest\nCOPY vendor/lib/lib.txt /hello.txt\nCMD [\"cat\", \"/hello.txt\"]\n",
        reg.addr
    );
    app.write(&[("Dockerfile", &dockerfile)]).unwrap();
    app.commit("app").unwrap();
    app.add_submodule("vendor/lib", "../lib.git", &lib_commit)
        .unwrap();
    app.publish(&srv.repos, "app.git").unwrap();
    let url = format!("git://{}/git/app.git", srv.addr);
    let (_sb, out) = build(
        &reg,
        &url,
        &HTTP,
        &["--git=recurse-submodules=true"],
        "gitsub:1",
    );
    assert_built(&reg, &out, "gitsub:1", "from the submodule", &[]);
    // Without the option the submodule stays an empty directory.
    let (_sb, out) = build(&reg, &url, &HTTP, &[], "gitsub:2");
    assert_fails(&reg, &out, "gitsub:2", &["lib.txt"], &[]);
}

/// `ADD <git URL> <dest>` clones through the same git code: a ref and a subfolder, `.git`
/// dropped unless `--keep-git-dir`.
#[test]
fn add_of_a_git_repository() {
    let reg = registry_with_busybox();
    let srv = HttpServer::start(Config::default()).unwrap();
    let repo = WorkRepo::init().unwrap();
    repo.write(&[("top.txt", "top"), ("sub/inner.txt", "inner-v1")])
        .unwrap();
    repo.commit("one").unwrap();
    repo.git(&["tag", "v1"]).unwrap();
    repo.write(&[("sub/inner.txt", "inner-v2")]).unwrap();
    repo.commit("two").unwrap();
    repo.publish(&srv.repos, "lib.git").unwrap();
    let url = format!("http://{}/git/lib.git", srv.addr);
    let df = format!(
        "FROM {}/library/busybox:latest\nADD {url} /whole\nADD {url}#v1:sub /old\nADD --keep-git-dir=true {url} /withgit\nRUN cat /whole/top.txt /whole/sub/inner.txt /old/inner.txt > /report && ls -a /whole /withgit >> /report\n",
        reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    build_ok(
        ctx.path(),
        &["--destination", &format!("{}/test/addgit:1", reg.addr)],
    );
    let report = run_image(
        &reg,
        "test/addgit:1",
        Some(&["cat".into(), "/report".into()]),
    );
    assert!(report.starts_with("topinner-v2inner-v1"), "{report}");
    let (whole, withgit) = report.split_once("/withgit:").unwrap();
    assert!(!whole.contains(".git"), "{report}");
    assert!(withgit.contains(".git"), "{report}");
}

/// `GIT_TOKEN` goes only to the git context's own origin, or to one
/// `KANIKO_GIT_CREDENTIAL_HOSTS` names (plain http only when named as such), and never
/// after a redirect to another host.
#[test]
fn git_credentials_stay_with_their_origin() {
    let reg = registry_with_busybox();
    let token = Config {
        basic_auth: Some(("t0ken-origin-b".into(), String::new())),
        tls: false,
    };
    let b = HttpServer::start(token).unwrap();
    publish(&b, &reg);
    let secrets = ["t0ken-origin-b"];

    // ADD of a repository on another host, over http: no token unless that origin is named.
    let df = format!(
        "FROM {}/library/busybox:latest\nADD http://{}/git/app.git /app\n",
        reg.addr, b.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let add = |extra_env: &[(&str, &str)]| {
        let mut sb = testkit::sandbox::Sandbox::new(&executor()).unwrap();
        sb.context(ctx.path()).env("GIT_TOKEN", "t0ken-origin-b");
        for (k, v) in extra_env {
            sb.env(k, v);
        }
        build_in(&sb, &["--no-push", "--verbosity=trace"])
    };
    let out = add(&[]);
    assert_ne!(
        out.status, 0,
        "the token went to another host:\n{}",
        out.stderr
    );
    assert!(out.stderr.contains("access denied"), "{}", out.stderr);
    assert_no_secret(&out, &secrets);
    let named = format!("http://{}", b.addr);
    let out = add(&[("KANIKO_GIT_CREDENTIAL_HOSTS", &named)]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_no_secret(&out, &secrets);

    // A context whose server redirects to another host: the token is not sent there.
    let proxy = testkit::proxy::FaultProxy::start(&b.addr).unwrap();
    proxy.add(testkit::proxy::Rule::new(
        None,
        "/git/",
        1000,
        testkit::proxy::Fault::Redirect(format!("http://{}", b.addr)),
    ));
    let url = format!("git://{}/git/app.git", proxy.addr);
    let env = [("GIT_PULL_METHOD", "http"), ("GIT_TOKEN", "t0ken-origin-b")];
    let (_sb, out) = build(&reg, &url, &env, &[], "gitredirect:1");
    assert_fails(&reg, &out, "gitredirect:1", &["access denied"], &secrets);
}
