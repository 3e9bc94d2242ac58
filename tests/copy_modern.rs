//! Dockerfile 1.7 COPY/ADD in the pod sandbox against the real registry: `--parents` (the
//! source path kept, or from a `/./` pivot), `--exclude` (.dockerignore patterns below each
//! source, `!` exceptions), `--link` (the destination as on an empty base: no base symlink
//! followed, a file replaces a directory), `ADD --checksum` right and wrong, and the clear
//! failures: ADD of a git repository, COPY of a URL, a checksum on a local file.

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;
use testkit::registry::Registry;

fn args(dest: &str) -> Vec<&str> {
    vec![
        "--context",
        "/workspace",
        "--insecure",
        "--insecure-pull",
        "--destination",
        dest,
    ]
}

fn sh(reg: &Registry, tag: &str, script: &str) -> String {
    run_image(reg, tag, Some(&["sh".into(), "-c".into(), script.into()]))
}

/// Builds `df` (with `files` in the context) to `test/<tag>` and expects success.
fn build(reg: &Registry, tag: &str, df: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let mut all = vec![("Dockerfile", df)];
    all.extend_from_slice(files);
    let ctx = context(&all);
    let dest = format!("{}/test/{tag}", reg.addr);
    let (_, out) = run(ctx.path(), &args(&dest));
    assert_eq!(out.status, 0, "{}", out.stderr);
    ctx
}

/// Builds `df` and expects one error line holding `want`, and nothing pushed.
fn fails(reg: &Registry, df: &str, want: &str) {
    let ctx = context(&[("Dockerfile", df), ("local.txt", "x\n")]);
    let dest = format!("{}/test/failing:1", reg.addr);
    let (_, out) = run(ctx.path(), &args(&dest));
    assert_ne!(out.status, 0, "{df}");
    assert!(out.stderr.contains(want), "want {want:?}:\n{}", out.stderr);
    assert!(!exists(reg, "test/failing:1"));
}

#[test]
fn parents_keep_the_source_path_or_the_part_after_a_pivot() {
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {r}/library/busybox:latest\n\
         COPY ./x/a.txt ./y/a.txt /flat/\n\
         COPY --parents ./x/a.txt ./y/a.txt /parents/\n\
         COPY --parents x/./deep/*.txt /pivot/\n\
         COPY --parents src/lib /tree\n\
         COPY --parents **/a.txt /glob/\n",
        r = reg.addr
    );
    let ctx = context(&[
        ("Dockerfile", &df),
        ("x/a.txt", "xa\n"),
        ("y/a.txt", "ya\n"),
        ("x/deep/b.txt", "b\n"),
        ("x/deep/c.md", "c\n"),
        ("src/lib/m.rs", "m\n"),
    ]);
    std::fs::set_permissions(
        ctx.path().join("src"),
        std::fs::Permissions::from_mode(0o750),
    )
    .unwrap();
    let dest = format!("{}/test/parents:1", reg.addr);
    let (_, out) = run(ctx.path(), &args(&dest));
    assert_eq!(out.status, 0, "{}", out.stderr);
    let report = sh(
        &reg,
        "test/parents:1",
        "cd / && find flat parents pivot tree glob -type f | sort | xargs cat; stat -c %a /tree/src",
    );
    let files = "flat/a.txt glob/x/a.txt glob/y/a.txt parents/x/a.txt parents/y/a.txt \
                 pivot/deep/b.txt tree/src/lib/m.rs";
    let listing = sh(
        &reg,
        "test/parents:1",
        "cd / && find flat parents pivot tree glob -type f | sort | xargs echo",
    );
    assert_eq!(listing.trim(), files);
    assert_eq!(report, "ya\nxa\nya\nxa\nya\nb\nm\n750\n");
}

#[test]
fn exclude_patterns_apply_below_each_source() {
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {r}/library/busybox:latest\n\
         COPY --exclude=*/*.png --exclude=*.md . /all/\n\
         COPY --exclude=*.txt dir* /flat/\n\
         COPY --exclude=**/*.png --exclude=!keep/important.png . /neg/\n\
         COPY --parents --exclude=dir2 ./dir* /p/\n",
        r = reg.addr
    );
    build(
        &reg,
        "exclude:1",
        &df,
        &[
            ("dir1/a.png", "a"),
            ("dir1/b.txt", "b"),
            ("dir2/c.txt", "c"),
            ("dir2/d.jpeg", "d"),
            ("top.md", "t"),
            ("keep/important.png", "i"),
            ("keep/other.png", "o"),
        ],
    );
    let listing = sh(
        &reg,
        "test/exclude:1",
        "cd / && for d in all flat neg p; do echo $d: $(cd $d && find . -type f | sort); done",
    );
    assert_eq!(
        listing,
        "all: ./Dockerfile ./dir1/b.txt ./dir2/c.txt ./dir2/d.jpeg\n\
         flat: ./a.png ./d.jpeg\n\
         neg: ./Dockerfile ./dir1/b.txt ./dir2/c.txt ./dir2/d.jpeg ./keep/important.png ./top.md\n\
         p: ./dir1/a.png ./dir1/b.txt\n"
    );
}

#[test]
fn link_copies_as_onto_an_empty_base() {
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {r}/library/busybox:latest\n\
         RUN mkdir -p /opt/real /existing && ln -s /opt/real /app && echo old > /existing/f\n\
         COPY --link conf.txt /app/\n\
         COPY --link one.txt /existing\n\
         COPY --link --parents cfg/./a/b.txt /etc/deep/\n",
        r = reg.addr
    );
    build(
        &reg,
        "link:1",
        &df,
        &[
            ("conf.txt", "conf\n"),
            ("one.txt", "one\n"),
            ("cfg/a/b.txt", "b\n"),
        ],
    );
    let report = sh(
        &reg,
        "test/link:1",
        "test -d /app -a ! -L /app && cat /app/conf.txt; ls /opt/real | wc -l; cat /existing /etc/deep/a/b.txt",
    );
    assert_eq!(report, "conf\n0\none\nb\n");
}

#[test]
fn add_checksum_is_verified() {
    let reg = registry_with_busybox();
    let body = b"payload of the download\n";
    let server = testkit::files::FileServer::start(&[("/pkg.tar.gz", body)]).unwrap();
    let good = ::image::Digest::sha256(body).to_string();
    let bad = ::image::Digest::sha256(b"something else").to_string();
    let url = server.url("/pkg.tar.gz");
    let df = format!(
        "FROM {r}/library/busybox:latest\nADD --checksum={good} {url} /dl/\n",
        r = reg.addr
    );
    build(&reg, "checksum:1", &df, &[]);
    assert_eq!(
        sh(&reg, "test/checksum:1", "cat /dl/pkg.tar.gz"),
        String::from_utf8_lossy(body)
    );
    // The mtime is the response's Last-Modified (testkit::files::LAST_MODIFIED).
    assert_eq!(
        sh(&reg, "test/checksum:1", "stat -c %Y /dl/pkg.tar.gz"),
        "981173106\n"
    );
    let df = format!(
        "FROM {r}/library/busybox:latest\nADD --checksum={bad} {url} /dl/\n",
        r = reg.addr
    );
    fails(&reg, &df, &format!("checksum mismatch for {url}"));
    let df = format!(
        "FROM {r}/library/busybox:latest\nADD --checksum={good} local.txt /dl/\n",
        r = reg.addr
    );
    fails(&reg, &df, "checksum requires HTTP(S) or Git sources");
}

#[test]
fn git_and_url_sources_fail_clearly() {
    let reg = registry_with_busybox();
    let base = format!("FROM {}/library/busybox:latest\n", reg.addr);
    // (An https git remote is cloned: tests/contexts_git.rs.) SSH and the git protocol:
    fails(
        &reg,
        &format!("{base}ADD git@example.com:org/repo.git#v1 /src\n"),
        "Dockerfile line 2: ADD git@example.com:org/repo.git#v1 /src: ADD git@example.com:org/repo.git#v1: only http(s) git remotes are supported",
    );
    fails(
        &reg,
        &format!("{base}ADD git://example.com/org/repo.git /src\n"),
        "only http(s) git remotes are supported",
    );
    fails(
        &reg,
        &format!("{base}COPY https://example.com/org/repo.git /src\n"),
        "source can't be a git ref for COPY",
    );
    fails(
        &reg,
        &format!("{base}COPY https://example.com/file.txt /f\n"),
        "source can't be a URL for COPY",
    );
}
