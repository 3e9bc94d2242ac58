//! Empty words and stray words, as kaniko's cobra/pflag command line treats them.

use super::tests::{build, error_of};
use super::*;

#[test]
fn empty_words_are_dropped_wherever_they_are() {
    // A Tekton Task's empty EXTRA_ARGS, first, between flags, last, repeated.
    let o = build(&[
        "",
        "--destination=r.io/a:1",
        "",
        "",
        "--cache",
        "",
        "--no-push=false",
        "",
    ]);
    assert_eq!(o.destinations, vec!["r.io/a:1"]);
    assert!(o.cache.enabled);
    // Before a subcommand, and inside the warmer's and login's words.
    assert!(matches!(
        parse_with_env(args_of(&["", "version", ""]), &|_| None),
        Ok(Invocation::Version)
    ));
    match parse_with_env(args_of(&["warmer", "", "--image=busybox", ""]), &|_| None) {
        Ok(Invocation::Warmer(w)) => assert_eq!(w.images, vec!["busybox"]),
        other => panic!("{other:?}"),
    }
    match parse_with_env(
        vec![
            "/kaniko/warmer".into(),
            "".into(),
            "-i".into(),
            "busybox".into(),
        ],
        &|_| None,
    ) {
        Ok(Invocation::Warmer(w)) => assert_eq!(w.images, vec!["busybox"]),
        other => panic!("{other:?}"),
    }
    match parse_with_env(
        args_of(&["login", "", "r.io", "", "-u", "me", "-p", "pw"]),
        &|_| None,
    ) {
        Ok(Invocation::Login(l)) => assert_eq!(l.registry, "r.io"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_empty_value_of_a_flag_stays_a_value() {
    // `--target ''` is the target '' (kaniko: a value), not a dropped word; likewise -c ''.
    let o = build(&[
        "--no-push",
        "--target",
        "",
        "--custom-platform",
        "linux/amd64",
    ]);
    assert_eq!(o.target, None);
    assert!(error_of(&["--no-push", "-c", ""]).contains("--context"));
    // A boolean never takes the next word: the empty word after it is dropped.
    assert!(build(&["--no-push", "", "--cache", ""]).no_push);
}

#[test]
fn stray_words_fail_with_kaniko_s_message() {
    for (a, word) in [
        (&["--cache", "true", "--no-push"][..], "true"),
        (&["--no-push", "", "extra"][..], "extra"),
        (&["extra", "version"][..], "extra"),
    ] {
        let e = parse_with_env(args_of(a), &|_| None).unwrap_err();
        assert!(matches!(e, CliError::UnknownCommand(..)), "{a:?}: {e:?}");
        assert_eq!(
            e.to_string(),
            format!("unknown command {word:?} for \"executor\"")
        );
        assert!(e.use_stderr());
    }
}

fn args_of(a: &[&str]) -> Vec<std::ffi::OsString> {
    std::iter::once("executor")
        .chain(a.iter().copied())
        .map(Into::into)
        .collect()
}
