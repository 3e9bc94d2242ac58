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
