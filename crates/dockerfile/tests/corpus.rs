//! The conformance corpus in testdata/dockerfile: every `*.cases` file holds cases of the
//! form
//!
//! ```text
//! ### case: name
//! ### args: K=V K2=V2          (optional build args)
//! ### target: stage            (optional)
//! <Dockerfile>
//! ### expect
//! <the --dryrun plan, or `error: line N: message`>
//! ```
//!
//! and `expand.cases` holds expansion cases, one per line: `word ⇥ expected` (or
//! `word ⇥ !error text`), against a fixed environment. A word written `words:w` is split
//! into words (shown joined by `|`, as EXPOSE splits), `heredoc:w` is expanded as a COPY
//! heredoc body (quotes are text). `UPDATE_EXPECT=1` rewrites the
//! expectations from the current output (review every change by hand).

use dockerfile::{expand_heredoc, expand_word, expand_words, BuildArgs, PlatformArgs};
use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/dockerfile")
}

fn platform() -> PlatformArgs {
    PlatformArgs {
        target_os: "linux".into(),
        target_arch: "amd64".into(),
        target_variant: String::new(),
        build_os: "linux".into(),
        build_arch: "amd64".into(),
        build_variant: String::new(),
    }
}

struct Case {
    name: String,
    args: Vec<(String, String)>,
    target: Option<String>,
    dockerfile: String,
    expect: String,
}

fn parse_cases(text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    for chunk in text.split("### case: ").skip(1) {
        let (name, rest) = chunk.split_once('\n').unwrap_or((chunk, ""));
        let (body, expect) = rest.split_once("### expect\n").unwrap_or((rest, ""));
        let mut args = Vec::new();
        let mut target = None;
        let mut lines: Vec<&str> = Vec::new();
        for l in body.split_inclusive('\n') {
            if let Some(a) = l.strip_prefix("### args: ") {
                args = a
                    .split_whitespace()
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
            } else if let Some(t) = l.strip_prefix("### target: ") {
                target = Some(t.trim().to_string());
            } else {
                lines.push(l);
            }
        }
        cases.push(Case {
            name: name.trim().into(),
            args,
            target,
            dockerfile: lines.concat(),
            expect: expect.trim_end().to_string(),
        });
    }
    cases
}

fn outcome(c: &Case) -> String {
    let result = dockerfile::parse(&c.dockerfile).and_then(|df| {
        dockerfile::plan(
            &df,
            &BuildArgs::new(c.args.clone()),
            &platform(),
            c.target.as_deref(),
        )
    });
    match result {
        Ok(lines) => lines.join("\n"),
        Err(e) => format!("error: line {}: {}", e.line, e.message),
    }
}

#[test]
fn dockerfile_cases() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut total = 0;
    let mut failures = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "cases")
                && p.file_name().is_some_and(|n| n != "expand.cases")
        })
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let cases = parse_cases(&text);
        let mut rewritten = text.clone();
        for c in &cases {
            total += 1;
            let got = outcome(c);
            if got != c.expect {
                if update {
                    let old = format!("### expect\n{}", c.expect);
                    let at = rewritten.find(&format!("### case: {}\n", c.name)).unwrap();
                    let pos = at + rewritten[at..].find(&old).unwrap();
                    let new = format!(
                        "### expect\n{got}{}",
                        if c.expect.is_empty() { "\n" } else { "" }
                    );
                    rewritten.replace_range(pos..pos + old.len(), &new);
                } else {
                    failures.push(format!(
                        "{}: {}\n--- want\n{}\n--- got\n{}",
                        file.display(),
                        c.name,
                        c.expect,
                        got
                    ));
                }
            }
        }
        if update && rewritten != text {
            std::fs::write(&file, rewritten).unwrap();
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} cases differ:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    eprintln!("{total} Dockerfile cases");
}

fn env(k: &str) -> Option<String> {
    match k {
        "A" => Some("hello".into()),
        "EMPTY" => Some(String::new()),
        "PATHV" => Some("/usr/local/bin/tool.tar.gz".into()),
        "SPACED" => Some("a b  c".into()),
        "Q" => Some("it's \"quoted\"".into()),
        _ => None,
    }
}

#[test]
fn expansion_cases() {
    let text = std::fs::read_to_string(corpus_dir().join("expand.cases")).unwrap();
    let mut failures = Vec::new();
    let mut total = 0;
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (word, want) = line
            .split_once('\t')
            .unwrap_or_else(|| panic!("no tab in {line:?}"));
        total += 1;
        let result = if let Some(w) = word.strip_prefix("words:") {
            expand_words(w, '\\', &env).map(|ws| ws.join("|"))
        } else if let Some(w) = word.strip_prefix("heredoc:") {
            expand_heredoc(w, &env)
        } else {
            expand_word(word, '\\', &env)
        };
        let got = match result {
            Ok(v) => v,
            Err(e) => format!("!{e}"),
        };
        let ok = match want.strip_prefix('!') {
            Some(err) => got.starts_with('!') && got.contains(err),
            None => got == want,
        };
        if !ok {
            failures.push(format!("{word:?}: want {want:?}, got {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} expansion cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{total} expansion cases");
}
