//! `--context` directory forms as kaniko resolves them: `dir:///abs` and `/abs` as written,
//! `dir://rel` and `rel` from the working directory, cleaned like Go's `filepath.Abs`.

use super::tests::build;
use super::values::absolute;
use super::ContextSource;
use std::path::{Path, PathBuf};

#[test]
fn absolute_directories_are_kept_as_written() {
    for (flag, want) in [
        ("dir:///workspace", "/workspace"),
        ("dir:///workspace/", "/workspace/"),
        ("/workspace/", "/workspace/"),
        ("dir:///a/../b", "/a/../b"),
    ] {
        assert_eq!(
            build(&["--context", flag]).context,
            ContextSource::Dir(PathBuf::from(want)),
            "{flag}"
        );
    }
}

#[test]
fn relative_directories_are_taken_from_the_working_directory() {
    let cwd = std::env::current_dir().unwrap();
    for (flag, rel) in [
        ("dir://workspace", "workspace"),
        (".", ""),
        ("dir://./ctx/", "ctx"),
        ("rel/dir", "rel/dir"),
        ("dir://a/../b", "b"),
    ] {
        let got = build(&[&format!("--context={flag}")]).context;
        assert_eq!(
            got,
            ContextSource::Dir(absolute(Path::new(rel), &cwd)),
            "{flag}"
        );
        let ContextSource::Dir(p) = got else {
            unreachable!()
        };
        assert!(p.is_absolute(), "{flag}: {}", p.display());
    }
}

#[test]
fn filepath_abs_rules() {
    let cwd = Path::new("/workspace");
    for (p, want) in [
        ("workspace", "/workspace/workspace"),
        ("./a/./b/", "/workspace/a/b"),
        ("../..", "/"),
        ("a/../../x", "/x"),
        ("", "/workspace"),
        ("/abs/../y", "/y"),
    ] {
        assert_eq!(absolute(Path::new(p), cwd), Path::new(want), "{p}");
    }
}
