//! Git contexts are fetched one commit deep: for the remote HEAD, a branch and a commit
//! asked for by id, the clone has a `.git/shallow` file and a history of one commit, checked
//! with the git command line against git's http-backend behind lighttpd.

use std::process::Command;
use testkit::servers::git::WorkRepo;
use testkit::servers::http::{Config, HttpServer};

fn history_len(dir: &std::path::Path) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-list", "--count", "HEAD"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn clones_are_one_commit_deep() {
    let srv = HttpServer::start(Config::default()).unwrap();
    let repo = WorkRepo::init().unwrap();
    let mut commits = Vec::new();
    for i in 0..3 {
        repo.write(&[("n.txt", &i.to_string())]).unwrap();
        commits.push(repo.commit(&format!("c{i}")).unwrap());
    }
    repo.publish(&srv.repos, "app.git").unwrap();
    let opts = contextsrc::Options {
        env: contextsrc::Env::from_pairs([("GIT_PULL_METHOD".into(), "http".into())]),
        ..Default::default()
    };
    let base = format!("{}/git/app.git", srv.addr);
    for (fragment, want) in [
        ("", "2"),
        ("#refs/heads/main", "2"),
        (&*format!("#{}", commits[1]), "1"),
    ] {
        let dest = tempfile::tempdir().unwrap();
        let url = contextsrc::GitUrl::parse(&format!("{base}{fragment}"));
        contextsrc::fetch(&contextsrc::Source::Git(url), &opts, dest.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(dest.path().join("n.txt")).unwrap(),
            want
        );
        assert!(
            dest.path().join(".git/shallow").is_file(),
            "{fragment}: not shallow"
        );
        assert_eq!(history_len(dest.path()), "1", "{fragment}");
    }
    // A commit the server does not have: after the by-id fetch fails, the whole ref is
    // fetched and the commit looked up in it.
    let missing = "0123456789abcdef0123456789abcdef01234567";
    let dest = tempfile::tempdir().unwrap();
    let url = contextsrc::GitUrl::parse(&format!("{base}#refs/heads/main#{missing}"));
    let err = contextsrc::fetch(&contextsrc::Source::Git(url), &opts, dest.path()).unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("no such commit {missing}")),
        "{err}"
    );
}

fn http_opts(extra: &[(&str, &str)]) -> contextsrc::Options {
    let mut vars = vec![("GIT_PULL_METHOD".to_string(), "http".to_string())];
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    contextsrc::Options {
        env: contextsrc::Env::from_pairs(vars),
        ..Default::default()
    }
}

#[test]
fn a_server_that_never_answers_ends_in_the_git_timeout() {
    // Accepts connections and reads nothing, answers nothing.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming() {
            held.push(c);
        }
    });
    let dest = tempfile::tempdir().unwrap();
    let url = contextsrc::GitUrl::parse(&format!("{addr}/stuck.git"));
    let opts = http_opts(&[("KANIKO_GIT_TIMEOUT", "2")]);
    let start = std::time::Instant::now();
    let err = contextsrc::fetch(&contextsrc::Source::Git(url), &opts, dest.path()).unwrap_err();
    assert!(
        start.elapsed() < std::time::Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
    assert!(err.to_string().contains("KANIKO_GIT_TIMEOUT"), "{err}");
}

#[test]
fn a_repository_past_the_size_bound_is_refused() {
    let srv = HttpServer::start(Config::default()).unwrap();
    let repo = WorkRepo::init().unwrap();
    // Random bytes: the pack cannot compress them below the bound.
    let mut noise = vec![0u8; 4 << 20];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for b in noise.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    std::fs::write(repo.path().join("noise.bin"), &noise).unwrap();
    repo.commit("noise").unwrap();
    repo.publish(&srv.repos, "big.git").unwrap();
    let url = format!("{}/git/big.git", srv.addr);
    let fetch = |extra: &[(&str, &str)]| {
        let dest = tempfile::tempdir().unwrap();
        let src = contextsrc::Source::Git(contextsrc::GitUrl::parse(&url));
        contextsrc::fetch(&src, &http_opts(extra), dest.path())
    };
    let err = fetch(&[("KANIKO_GIT_MAX_SIZE", "1048576")]).unwrap_err();
    assert!(
        err.to_string()
            .contains("grew past 1048576 bytes (KANIKO_GIT_MAX_SIZE)"),
        "{err}"
    );
    fetch(&[]).unwrap();
}
