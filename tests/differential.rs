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
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// What one case showed: its differences (empty when alike), and how long each builder
/// took on it.
struct Outcome {
    diffs: Vec<String>,
    ours_secs: f64,
    buildkit_secs: f64,
}

/// What every case is built with.
struct Setting<'a> {
    registry: &'a str,
    base: String,
    http_url: String,
    docker: Option<testkit::docker::Docker>,
    /// A Unix time no build of this run wrote (see `compare`).
    before: u64,
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

/// How many BuildKit builds run at once (beside one executor build).
const BUILDKIT_THREADS: usize = 2;

/// A builder's result and how long it took.
fn timed(f: impl FnOnce() -> build::Built) -> (build::Built, f64) {
    let t0 = Instant::now();
    let r = f();
    (r, t0.elapsed().as_secs_f64())
}

/// Builds every case with both builders, BuildKit on a thread of its own beside the
/// executor (the daemon and the sandbox each spend most of a tiny build waiting).
fn run_cases(cases: &[case::Case], set: &Setting<'_>) -> BTreeMap<String, Outcome> {
    let work: Vec<tempfile::TempDir> = cases.iter().map(|_| tempfile::tempdir().unwrap()).collect();
    let prepared: Vec<Result<PathBuf, String>> = cases
        .iter()
        .zip(&work)
        .map(|(c, w)| {
            let ctx = w.path().join("context");
            std::fs::create_dir(&ctx).map_err(|e| e.to_string())?;
            c.prepare(&ctx, &set.base, &set.http_url).map(|()| ctx)
        })
        .collect();
    let jobs: Vec<(&case::Case, &PathBuf, &Path)> = cases
        .iter()
        .zip(&prepared)
        .zip(&work)
        .filter_map(|((c, p), w)| p.as_ref().ok().map(|ctx| (c, ctx, w.path())))
        .collect();
    // The daemon takes builds at once: two BuildKit threads, every other case each.
    let daemon_jobs: Vec<_> = jobs.iter().filter(|(c, _, _)| c.expect.is_none()).collect();
    let (theirs, ours) = std::thread::scope(|s| {
        let workers: Vec<_> = (0..BUILDKIT_THREADS)
            .map(|k| {
                let mine: Vec<_> = daemon_jobs
                    .iter()
                    .skip(k)
                    .step_by(BUILDKIT_THREADS)
                    .collect();
                s.spawn(move || {
                    let d = set
                        .docker
                        .as_ref()
                        .expect("a daemon runs when a case needs one");
                    mine.into_iter()
                        .map(|(c, ctx, w)| {
                            (c.name.clone(), timed(|| build::buildkit(d, c, ctx, w)))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let executor = common::executor();
        let ours: BTreeMap<String, _> = jobs
            .iter()
            .map(|(c, ctx, _)| {
                (
                    c.name.clone(),
                    timed(|| build::ours(&executor, c, ctx, set.registry)),
                )
            })
            .collect();
        let theirs: BTreeMap<String, _> = workers
            .into_iter()
            .flat_map(|w| w.join().expect("a BuildKit thread"))
            .collect();
        (theirs, ours)
    });
    let (mut theirs, mut ours) = (theirs, ours);
    let mut outcomes = BTreeMap::new();
    for (c, p) in cases.iter().zip(prepared) {
        let (o, ours_secs) = ours.remove(&c.name).unwrap_or((Err(String::new()), 0.0));
        let (diffs, buildkit_secs) = match (p, &c.expect, theirs.remove(&c.name)) {
            (Err(e), _, _) => (vec![e], 0.0),
            (Ok(_), Some(text), _) => (versus_source(text, o), 0.0),
            (Ok(_), None, Some((t, secs))) => (versus(c, t, o, set.before), secs),
            (Ok(_), None, None) => (vec!["BuildKit did not build it".into()], 0.0),
        };
        outcomes.insert(
            c.name.clone(),
            Outcome {
                diffs,
                ours_secs,
                buildkit_secs,
            },
        );
    }
    outcomes
}

/// What is wrong between the outcomes and README's lists (empty when all is well).
fn verdict(
    cases: &[case::Case],
    outcomes: &BTreeMap<String, Outcome>,
    readme_text: &str,
    all: bool,
) -> Vec<String> {
    let differences = readme::list(readme_text, "differences");
    let source_only = readme::list(readme_text, "source-only");
    let mut problems = Vec::new();
    for case in cases {
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
    for (name, why) in differences.iter().chain(source_only.iter()) {
        if all && !outcomes.contains_key(name) {
            problems.push(format!("README lists {name}, which is no case"));
        }
        if why.len() < 20 {
            problems.push(format!("README's entry for {name} gives no reason"));
        }
    }
    problems
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

    let started = Instant::now();
    let reg = common::registry_with_busybox();
    let files = http_files(&root.join("_http"));
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), &b[..])).collect();
    let http = testkit::files::FileServer::start(&refs).unwrap();
    let set = Setting {
        registry: &reg.addr,
        base: format!("{}/library/busybox:latest", reg.addr),
        http_url: format!("http://{}", http.addr),
        docker: cases
            .iter()
            .any(|c| c.expect.is_none())
            .then(|| testkit::docker::Docker::start().unwrap()),
        before: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    };
    eprintln!("set-up: {:.1}s", started.elapsed().as_secs_f64());
    let outcomes = run_cases(&cases, &set);
    for (name, o) in &outcomes {
        let v = if o.diffs.is_empty() {
            "alike"
        } else {
            "DIFFERS"
        };
        eprintln!(
            "{name:<40} {v:<8} ours {:.1}s, BuildKit {:.1}s",
            o.ours_secs, o.buildkit_secs
        );
        for d in o.diffs.iter().take(12) {
            eprintln!("    {}", d.replace('\n', "\n    "));
        }
    }
    eprintln!(
        "{} cases ({} against the daemon) in {:.1}s",
        outcomes.len(),
        cases.iter().filter(|c| c.expect.is_none()).count(),
        started.elapsed().as_secs_f64()
    );
    let problems = verdict(&cases, &outcomes, &readme_text, only.is_none());
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
