//! Hostile layers: nothing is written outside the root, and the ignored `kaniko/` and
//! `workspace/` directories stay byte-for-byte untouched, whatever path the layer takes.

mod common;

use common::{Fixture, Tar};
use rootfs::{clean_root, extract_layer};
use std::fs;
use std::path::PathBuf;
use tar::EntryType;

/// Extracts `tar` (errors allowed: rejecting is fine) and checks the protected trees.
fn assert_contained(f: &Fixture, tar: Vec<u8>) -> Result<rootfs::ExtractStats, rootfs::Error> {
    let before = f.protected();
    let siblings: Vec<_> = fs::read_dir(f.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let r = extract_layer(&tar[..], &f.root, &f.ignore, None);
    assert_eq!(f.protected(), before, "ignored or outside paths changed");
    let after: Vec<_> = fs::read_dir(f.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(siblings, after, "something appeared next to the root");
    r
}

#[test]
fn dotdot_and_absolute_names_stay_inside() {
    let f = Fixture::new();
    let mut t = Tar::new();
    t.file("../../outside/keep", b"pwned")
        .file("../outside/new", b"pwned")
        .file("/abs", b"abs")
        .file("a/../../../../etc-x", b"x");
    assert_contained(&f, t.bytes()).unwrap();
    assert_eq!(fs::read(f.root.join("outside/keep")).unwrap(), b"pwned");
    assert_eq!(fs::read(f.root.join("abs")).unwrap(), b"abs");
    assert_eq!(fs::read(f.root.join("etc-x")).unwrap(), b"x");
}

#[test]
fn symlink_to_kaniko_then_entry_through_it_is_skipped() {
    let f = Fixture::new();
    let mut t = Tar::new();
    t.symlink("evil", "/kaniko")
        .file("evil/executor", b"pwned")
        .symlink("ws", "../workspace")
        .file("ws/ctx.txt", b"pwned")
        .dir("ws/sub/", 0o777)
        .symlink("out", "../../outside")
        .file("out/keep", b"pwned");
    let stats = assert_contained(&f, t.bytes()).unwrap();
    assert_eq!(stats.skipped, 3);
    // `out` resolves inside the root (`..` stops at the root): the file lands in /outside.
    assert_eq!(fs::read(f.root.join("outside/keep")).unwrap(), b"pwned");
}

#[test]
fn climbing_symlink_chains_are_contained() {
    let f = Fixture::new();
    let mut t = Tar::new();
    t.dir("a/b/c/", 0o755)
        .symlink("a/b/c/up", "../../../..")
        .symlink("a/up2", "b/c/up/..")
        .file("a/b/c/up/outside/keep", b"pwned")
        .file("a/up2/up/kaniko/executor", b"pwned")
        .file("a/b/c/up/landed", b"in root");
    assert_contained(&f, t.bytes()).unwrap();
    assert_eq!(fs::read(f.root.join("landed")).unwrap(), b"in root");
    assert_eq!(fs::read(f.root.join("outside/keep")).unwrap(), b"pwned");
}

#[test]
fn hardlinks_to_ignored_or_outside_files_are_not_made() {
    let f = Fixture::new();
    let mut t = Tar::new();
    t.hardlink("h1", "kaniko/executor")
        .symlink("k", "/kaniko")
        .hardlink("h2", "k/executor")
        .hardlink("h3", "../outside/keep");
    // h3 names /outside/keep inside the root, which does not exist: an error is fine.
    let _ = assert_contained(&f, t.bytes());
    assert!(!f.root.join("h1").exists());
    assert!(!f.root.join("h2").exists());
    assert!(fs::symlink_metadata(f.root.join("h3")).is_err());
}

#[test]
fn whiteouts_for_ignored_paths_are_ignored() {
    let f = Fixture::new();
    let mut t = Tar::new();
    t.file(".wh.kaniko", b"")
        .file("workspace/.wh.ctx.txt", b"")
        .file("workspace/.wh..wh..opq", b"")
        .symlink("w", "/workspace")
        .file("w/.wh.sub", b"")
        .file(".wh...", b"")
        .file(".wh..", b"")
        .file("../.wh.outside", b"");
    assert_contained(&f, t.bytes()).unwrap();
    assert!(f.root.exists());
}

#[test]
fn whiteout_of_an_ancestor_spares_ignored_children() {
    let f = Fixture::new();
    let mut ignore = f.ignore.clone();
    ignore.add(PathBuf::from("/var/run"));
    fs::create_dir_all(f.root.join("var/run")).unwrap();
    fs::write(f.root.join("var/run/secret"), b"s").unwrap();
    fs::write(f.root.join("var/log"), b"l").unwrap();
    let mut t = Tar::new();
    t.file(".wh.var", b"")
        .file("kaniko", b"file replacing ignored dir");
    extract_layer(&t.bytes()[..], &f.root, &ignore, None).unwrap();
    assert_eq!(fs::read(f.root.join("var/run/secret")).unwrap(), b"s");
    assert!(!f.root.join("var/log").exists());
    assert!(f.root.join("kaniko").is_dir());
    // A file entry replacing a directory above an ignored path is skipped.
    let mut t = Tar::new();
    t.file("var", b"x");
    extract_layer(&t.bytes()[..], &f.root, &ignore, None).unwrap();
    assert!(f.root.join("var/run/secret").exists());
}

#[test]
fn opaque_through_symlink_to_host_dir_does_not_escape() {
    let f = Fixture::new();
    // A symlink inside the root whose target is an absolute host path: as a chroot would,
    // it is taken relative to the root, so the host directory is never emptied.
    let host_dir = f.outside.to_str().unwrap().to_string();
    let mut t = Tar::new();
    t.symlink("escape", &host_dir)
        .file("escape/.wh..wh..opq", b"")
        .file("escape/.wh.keep", b"")
        .raw("escape/dropped", EntryType::Regular, 0o644, "", b"in root");
    assert_contained(&f, t.bytes()).unwrap();
    let inside = f
        .root
        .join(host_dir.trim_start_matches('/'))
        .join("dropped");
    assert_eq!(fs::read(inside).unwrap(), b"in root");
}

#[test]
fn clean_root_keeps_ignored_paths_only() {
    let f = Fixture::new();
    fs::create_dir_all(f.root.join("usr/bin")).unwrap();
    fs::write(f.root.join("usr/bin/sh"), b"sh").unwrap();
    std::os::unix::fs::symlink(&f.outside, f.root.join("var")).unwrap();
    let mut ignore = f.ignore.clone();
    ignore.add(PathBuf::from("/var/run"));
    let before = f.protected();
    clean_root(&f.root, &ignore).unwrap();
    assert_eq!(f.protected(), before);
    let mut left: Vec<_> = fs::read_dir(&f.root)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    left.sort();
    assert_eq!(left, ["kaniko", "workspace"]);
}

#[test]
fn a_pax_member_declaring_gigabytes_is_refused_unread() {
    // 8 GiB of "extended header" announced in 512 bytes: the reader must fail on the
    // header, not try to hold the member in memory.
    let f = Fixture::new();
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(EntryType::XHeader);
    h.set_path("PaxHeaders/x").unwrap();
    h.set_size(8 << 30);
    h.set_cksum();
    let mut t = h.as_bytes().to_vec();
    t.extend_from_slice(&[b'9'; 1 << 16]);
    let err = assert_contained(&f, t).unwrap_err();
    assert!(err.to_string().contains("at most 1048576"), "{err}");
}
