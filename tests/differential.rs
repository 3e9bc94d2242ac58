//! The differential conformance suite (issue 19): every case of testdata/conformance is
//! built by BuildKit (the private dockerd's v0.8, `docker build` then `docker save`) and by
//! the executor (in the pod-like sandbox, `--tar-path`), and the two images' file trees and
//! configs are compared (`differential_kit::compare` says what counts and what is noise).
//! A case with an `expect` file is checked against current BuildKit's answer instead.
//! A case that differs fails the test unless README.md lists it, with its reason, between
//! `<!-- conformance:differences -->` markers; a listed case that builds alike fails it
//! too, so README says exactly what the suite shows. `CONFORMANCE_CASES=a,b` runs some.

mod common;
mod differential_kit;

use differential_kit::{build, case, compare, expect, readme};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// What one case showed: its differences (empty when alike) and how long it took.
struct Outcome {
    diffs: Vec<String>,
    secs: f64,
}

fn http_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.map(|e| e.unwrap().path())
        .map(|p| {
            let name = format!("/{}", p.file_name().unwrap().to_string_lossy());
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

/// BuildKit's result against ours, for a case compared with the daemon.
fn versus(case: &case::Case, theirs: build::Built, ours: build::Built, before: u64) -> Vec<String> {
    match (theirs, ours, &case.fails) {
        (Err(_), Err(_), Some(_)) => Vec::new(),
        (Ok(_), _, Some(_)) => vec!["BuildKit built it; the case says both fail".into()],
        (_, Ok(_), Some(_)) => vec!["ours built it; the case says both fail".into()],
        (Ok(t), Ok(o), None) => compare::compare(&t, &o, before),
        (Err(t), Ok(_), None) => vec![format!("BuildKit failed:\n{t}")],
        (Ok(_), Err(o), None) => vec![format!("ours failed:\n{o}")],
        (Err(t), Err(o), None) => vec![format!("both failed:\n{t}\n---\n{o}")],
    }
}

/// Ours against the expected-output file.
fn versus_source(text: &str, ours: build::Built) -> Vec<String> {
    if !expect::has_source(text) {
        return vec!["the expect file names no `# source:`".into()];
    }
    match (ours, expect::must_fail(text)) {
        (Err(_), true) => Vec::new(),
        (Ok(_), true) => vec!["ours built it; current BuildKit fails".into()],
        (Err(o), false) => vec![format!("ours failed:\n{o}")],
        (Ok(img), false) => expect::check(text, &img),
    }
}

#[test]
fn buildkit_and_the_executor_build_every_case_alike() {
    let only: Option<Vec<String>> = std::env::var("CONFORMANCE_CASES")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.split(',').map(|c| c.trim().to_string()).collect());
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = top.join("testdata/conformance");
    let cases = case::load_all(&root, only.as_deref());
    let readme_text = std::fs::read_to_string(top.join("README.md")).unwrap();
    let differences = readme::list(&readme_text, "differences");
    let source_only = readme::list(&readme_text, "source-only");

    let started = Instant::now();
    let reg = common::registry_with_busybox();
    let base = format!("{}/library/busybox:latest", reg.addr);
    let files = http_files(&root.join("_http"));
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), &b[..])).collect();
    let http = testkit::files::FileServer::start(&refs).unwrap();
    let http_url = format!("http://{}", http.addr);
    let docker = cases
        .iter()
        .any(|c| c.expect.is_none())
        .then(|| testkit::docker::Docker::start().unwrap());
    let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    eprintln!("set-up: {:.1}s", started.elapsed().as_secs_f64());

    let mut outcomes: BTreeMap<String, Outcome> = BTreeMap::new();
    for case in &cases {
        let t0 = Instant::now();
        let work = tempfile::tempdir().unwrap();
        let ctx = work.path().join("context");
        std::fs::create_dir(&ctx).unwrap();
        let diffs = match case.prepare(&ctx, &base, &http_url) {
            Err(e) => vec![e],
            Ok(()) => {
                let ours = build::ours(&common::executor(), case, &ctx, &reg.addr);
                match (&case.expect, &docker) {
                    (Some(text), _) => versus_source(text, ours),
                    (None, Some(d)) => {
                        let theirs = build::buildkit(d, case, &ctx, work.path());
                        versus(case, theirs, ours, before)
                    }
                    (None, None) => unreachable!("a daemon runs when a case needs one"),
                }
            }
        };
        let secs = t0.elapsed().as_secs_f64();
        let verdict = if diffs.is_empty() { "alike" } else { "DIFFERS" };
        eprintln!("{:<40} {verdict:<8} {secs:.1}s", case.name);
        for d in diffs.iter().take(12) {
            eprintln!("    {}", d.replace('\n', "\n    "));
        }
        outcomes.insert(case.name.clone(), Outcome { diffs, secs });
    }
    let total: f64 = outcomes.values().map(|o| o.secs).sum();
    eprintln!(
        "{} cases in {total:.1}s of builds, {:.1}s in all",
        outcomes.len(),
        started.elapsed().as_secs_f64()
    );

    let mut problems = Vec::new();
    for case in &cases {
        let o = &outcomes[&case.name];
        let listed = differences.contains_key(&case.name);
        match (o.diffs.is_empty(), listed) {
            (false, false) => problems.push(format!(
                "{}: differs, and README's differences do not list it:\n    {}",
                case.name,
                o.diffs.join("\n    ")
            )),
            (true, true) => problems.push(format!(
                "{}: README lists it as a difference, but it builds alike: take it off the list",
                case.name
            )),
            _ => {}
        }
        if case.expect.is_some() != source_only.contains_key(&case.name) {
            problems.push(format!(
                "{}: has an expect file: {}, listed in README's source-only cases: {}",
                case.name,
                case.expect.is_some(),
                source_only.contains_key(&case.name)
            ));
        }
    }
    if only.is_none() {
        for name in differences.keys().chain(source_only.keys()) {
            if !outcomes.contains_key(name) {
                problems.push(format!("README lists {name}, which is no case"));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
