//! Snapshots: additions, content changes caught by ctime alone, chmod, deletions as
//! whiteouts, ignored paths, modes, and targeted snapshots of copied paths.

mod common;

use common::Fixture;
use rootfs::{SnapshotMode, Snapshotter};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

fn paths(v: &[&str]) -> Vec<PathBuf> {
    v.iter().map(PathBuf::from).collect()
}

fn setup(mode: SnapshotMode) -> (Fixture, Snapshotter) {
    let f = Fixture::new();
    fs::create_dir_all(f.root.join("etc/conf.d")).unwrap();
    fs::write(f.root.join("etc/hosts"), b"1.2.3.4").unwrap();
    fs::write(f.root.join("etc/conf.d/a"), b"a").unwrap();
    fs::write(f.root.join("etc/conf.d/b"), b"b").unwrap();
    fs::create_dir_all(f.root.join("opt/tree/sub")).unwrap();
    fs::write(f.root.join("opt/tree/sub/f"), b"f").unwrap();
    let mut s = Snapshotter::new(f.root.clone(), f.ignore.clone(), mode);
    s.init_from_walk().unwrap();
    (f, s)
}

#[test]
fn nothing_changed_is_empty() {
    let (_f, mut s) = setup(SnapshotMode::Full);
    assert!(s.take_full().unwrap().is_empty());
}

#[test]
fn added_file_and_its_parent() {
    let (f, mut s) = setup(SnapshotMode::Full);
    fs::create_dir_all(f.root.join("new/dir")).unwrap();
    fs::write(f.root.join("new/dir/file"), b"x").unwrap();
    let c = s.take_full().unwrap();
    assert_eq!(c.entries, paths(&["/new", "/new/dir", "/new/dir/file"]));
    assert!(c.deleted.is_empty());
    assert!(s.take_full().unwrap().is_empty(), "the table moved on");
}

#[test]
fn same_size_same_mtime_new_content_is_caught_by_ctime() {
    let (f, mut s) = setup(SnapshotMode::Full);
    let p = f.root.join("etc/hosts");
    let old = fs::metadata(&p).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    fs::write(&p, b"5.6.7.8").unwrap();
    fs::File::options()
        .write(true)
        .open(&p)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let c = s.take_full().unwrap();
    assert_eq!(c.entries, paths(&["/etc/hosts"]));
}

#[test]
fn time_mode_only_sees_mtime() {
    let (f, mut s) = setup(SnapshotMode::Time);
    let p = f.root.join("etc/hosts");
    let old = fs::metadata(&p).unwrap().modified().unwrap();
    fs::write(&p, b"5.6.7.8").unwrap();
    fs::File::options()
        .write(true)
        .open(&p)
        .unwrap()
        .set_modified(old)
        .unwrap();
    assert!(s.take_full().unwrap().is_empty());
    std::thread::sleep(std::time::Duration::from_millis(20));
    fs::write(&p, b"again").unwrap();
    assert_eq!(s.take_full().unwrap().entries, paths(&["/etc/hosts"]));
}

#[test]
fn chmod_and_chown_are_changes() {
    let (f, mut s) = setup(SnapshotMode::Redo);
    fs::set_permissions(
        f.root.join("etc/conf.d/a"),
        fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    std::os::unix::fs::chown(f.root.join("etc/conf.d/b"), Some(123), Some(456)).unwrap();
    let c = s.take_full().unwrap();
    assert_eq!(c.entries, paths(&["/etc/conf.d/a", "/etc/conf.d/b"]));
}

#[test]
fn deletions_become_topmost_whiteouts() {
    let (f, mut s) = setup(SnapshotMode::Full);
    fs::remove_file(f.root.join("etc/conf.d/a")).unwrap();
    fs::remove_dir_all(f.root.join("opt/tree")).unwrap();
    let c = s.take_full().unwrap();
    assert_eq!(c.deleted, paths(&["/etc/conf.d/a", "/opt/tree"]));
    assert_eq!(
        c.entries,
        paths(&["/etc/conf.d", "/opt"]),
        "parents whose mtime changed"
    );
}

#[test]
fn directory_replaced_by_a_file_needs_no_child_whiteouts() {
    let (f, mut s) = setup(SnapshotMode::Full);
    fs::remove_dir_all(f.root.join("opt/tree")).unwrap();
    fs::write(f.root.join("opt/tree"), b"file now").unwrap();
    let c = s.take_full().unwrap();
    assert!(c.deleted.is_empty(), "{:?}", c.deleted);
    assert!(c.entries.contains(&PathBuf::from("/opt/tree")));
}

#[test]
fn ignored_paths_never_appear() {
    let (f, mut s) = setup(SnapshotMode::Full);
    fs::write(f.root.join("kaniko/new"), b"x").unwrap();
    fs::write(f.root.join("workspace/ctx.txt"), b"changed").unwrap();
    fs::remove_file(f.root.join("workspace/sub/deep")).unwrap();
    let c = s.take_full().unwrap();
    assert!(c.is_empty(), "{c:?}");
    fs::write(f.root.join("workspace/more"), b"x").unwrap();
    let c = s.take_paths(&paths(&["/workspace/more"])).unwrap();
    assert!(c.is_empty());
}

#[test]
fn take_paths_is_recursive_and_takes_links_as_links() {
    let (f, mut s) = setup(SnapshotMode::Full);
    fs::create_dir_all(f.root.join("app/lib")).unwrap();
    fs::write(f.root.join("app/lib/x"), b"x").unwrap();
    fs::write(f.root.join("app/main"), b"m").unwrap();
    std::os::unix::fs::symlink("/app", f.root.join("applink")).unwrap();
    // Something else changed too, but only the copied paths are taken.
    fs::write(f.root.join("etc/other"), b"o").unwrap();
    let c = s.take_paths(&paths(&["/applink/lib"])).unwrap();
    assert_eq!(c.entries, paths(&["/app/lib", "/app/lib/x"]));
    // A link written here is taken as the link: its target is not packed again.
    let c = s.take_paths(&paths(&["/applink"])).unwrap();
    assert_eq!(c.entries, paths(&["/applink"]));
    // The taken paths (and their parents) are in the table now.
    let c = s.take_full().unwrap();
    assert_eq!(c.entries, paths(&["/app/main", "/etc", "/etc/other"]));
}
