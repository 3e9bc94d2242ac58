//! The change-detection corpus: every kind of change a RUN can make (`corpus/cases.rs`),
//! each applied to the same base tree after a baseline, then snapshotted. The snapshotter
//! must report what each change necessarily implies (`must`, plus the exact deletions) and
//! exactly what the obvious full walk reports (`corpus/reference.rs`, written apart from the
//! crate), in every snapshot mode, from a baseline taken by a walk and from one recorded
//! path by path (as unpacking records a layer, with a file the table never heard of).

mod common;
mod corpus;

use common::Fixture;
use corpus::cases::{base, Case, CASES};
use corpus::reference;
use rootfs::{Changes, SnapshotMode, Snapshotter};
use std::path::{Path, PathBuf};

/// How the baseline table was made.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Baseline {
    Walk,
    /// Path by path, as extraction records a layer; `/etc/unrecorded` is left out.
    Recorded,
}

const UNRECORDED: &str = "/etc/unrecorded";

/// What a case gave: the snapshotter's first snapshot after the change and a second one
/// (nothing changed in between), the reference's answer, and the entries of the first that
/// are not directories now.
struct Outcome {
    first: Changes,
    second: Changes,
    reference: Changes,
    files: Vec<PathBuf>,
}

fn run(case: &Case, mode: SnapshotMode, how: Baseline) -> Outcome {
    let f = Fixture::new();
    base(&f);
    let mut before = reference::walk(&f.root, &f.ignore);
    let mut s = Snapshotter::new(f.root.clone(), f.ignore.clone(), mode);
    match how {
        Baseline::Walk => s.init_from_walk().unwrap(),
        Baseline::Recorded => {
            before.remove(Path::new(UNRECORDED));
            for p in before.keys() {
                s.table_mut().record(&f.root, p);
            }
        }
    }
    (case.change)(&f.root);
    let first = s.take_full().unwrap();
    let now = reference::walk(&f.root, &f.ignore);
    let second = s.take_full().unwrap();
    let files = first
        .entries
        .iter()
        .filter(|p| !reference::stat(&f.root, p).is_some_and(|m| m.is_dir()))
        .cloned()
        .collect();
    Outcome {
        first,
        second,
        reference: reference::changes(&before, &now, mode),
        files,
    }
}

fn paths(v: &[&str]) -> Vec<PathBuf> {
    v.iter().map(PathBuf::from).collect()
}

#[test]
fn every_kind_of_change_is_seen() {
    for how in [Baseline::Walk, Baseline::Recorded] {
        for case in CASES {
            let o = run(case, SnapshotMode::Full, how);
            let name = format!("{} ({how:?})", case.name);
            let mut must = paths(case.must);
            if how == Baseline::Recorded {
                must.push(UNRECORDED.into());
            }
            let missing: Vec<_> = must
                .iter()
                .filter(|p| !o.first.entries.contains(p))
                .collect();
            assert!(
                missing.is_empty(),
                "{name}: missing {missing:?} in {:?}",
                o.first
            );
            assert_eq!(o.first.deleted, paths(case.deleted), "{name}");
            // Beyond what the change implies, only directories whose times it changed.
            let stray: Vec<_> = o.files.iter().filter(|p| !must.contains(p)).collect();
            assert!(stray.is_empty(), "{name}: unexpected {stray:?}");
            assert!(o.second.is_empty(), "{name}: again {:?}", o.second);
        }
    }
}

#[test]
fn the_snapshotter_sees_exactly_what_the_reference_walk_sees() {
    for mode in [SnapshotMode::Full, SnapshotMode::Redo, SnapshotMode::Time] {
        for how in [Baseline::Walk, Baseline::Recorded] {
            for case in CASES {
                let o = run(case, mode, how);
                assert_eq!(o.first, o.reference, "{} ({mode:?}, {how:?})", case.name);
                assert!(o.second.is_empty(), "{} ({mode:?}, {how:?})", case.name);
            }
        }
    }
}
