//! Unpacking layers: every entry type, metadata, whiteouts, opaque directories, replacements,
//! and the snapshot table the unpack records.

mod common;

use common::{Fixture, Tar};
use rootfs::{extract_layer, IgnoreList, SnapshotMode, Snapshotter};
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use tar::EntryType;

fn extract(root: &Path, tar: Vec<u8>) -> rootfs::ExtractStats {
    extract_layer(&tar[..], root, &IgnoreList::default(), None).unwrap()
}

#[test]
fn every_entry_type_with_metadata() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    let mut t = Tar::new();
    t.dir("etc/", 0o755)
        .file_owned(
            "etc/passwd",
            b"root:x:0:0",
            0o4751,
            1000,
            2000,
            1_500_000_000,
        )
        .symlink("etc/link", "passwd")
        .hardlink("etc/hard", "etc/passwd")
        .device("dev/null", EntryType::Char, 1, 3)
        .device("dev/fifo", EntryType::Fifo, 0, 0)
        .file_with_xattr("etc/cap", b"x", "user.test", b"v1")
        .dir("opt/", 0o700);
    let stats = extract(root, t.bytes());
    assert_eq!(stats.entries, 8);
    assert_eq!(stats.skipped, 0);

    let m = fs::metadata(root.join("etc/passwd")).unwrap();
    assert_eq!(fs::read(root.join("etc/passwd")).unwrap(), b"root:x:0:0");
    assert_eq!(m.mode() & 0o7777, 0o4751, "setuid survives chown");
    assert_eq!((m.uid(), m.gid()), (1000, 2000));
    assert_eq!(m.mtime(), 1_500_000_000);
    assert_eq!(m.nlink(), 2);
    assert_eq!(
        fs::read_link(root.join("etc/link")).unwrap(),
        Path::new("passwd")
    );
    let hard = fs::metadata(root.join("etc/hard")).unwrap();
    assert_eq!(hard.ino(), m.ino());
    let null = fs::symlink_metadata(root.join("dev/null")).unwrap();
    assert!(null.file_type().is_char_device());
    assert_eq!(null.rdev(), nix::sys::stat::makedev(1, 3));
    assert!(fs::symlink_metadata(root.join("dev/fifo"))
        .unwrap()
        .file_type()
        .is_fifo());
    assert_eq!(
        fs::metadata(root.join("opt")).unwrap().mode() & 0o7777,
        0o700
    );
    assert_eq!(
        fs::metadata(root.join("etc")).unwrap().mtime(),
        1_600_000_000,
        "dir mtime set last"
    );
    // user xattrs depend on the filesystem; when supported they must be there.
    if let Ok(v) = xattr_get(&root.join("etc/cap"), "user.test") {
        assert_eq!(v, b"v1");
    }
}

fn xattr_get(p: &Path, name: &str) -> std::io::Result<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let cp = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    let cn = std::ffi::CString::new(name).unwrap();
    let mut buf = vec![0u8; 256];
    // SAFETY: valid strings and buffer.
    let n =
        unsafe { libc::lgetxattr(cp.as_ptr(), cn.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    buf.truncate(n as usize);
    Ok(buf)
}

#[test]
fn whiteouts_and_opaque_directories() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    let mut base = Tar::new();
    base.file("a/one", b"1")
        .file("a/two", b"2")
        .file("b/keep", b"k")
        .file("b/gone/deep", b"d")
        .file("c/old", b"o");
    extract(root, base.bytes());

    let mut upper = Tar::new();
    upper
        .file("a/.wh.one", b"")
        .file("b/.wh.gone", b"")
        .dir("c/", 0o755)
        .file("c/.wh..wh..opq", b"")
        .file("c/new", b"n")
        .file(".wh.nothing-here", b"");
    let stats = extract(root, upper.bytes());
    assert_eq!(stats.whiteouts, 4);
    assert!(!root.join("a/one").exists());
    assert!(root.join("a/two").exists());
    assert!(!root.join("b/gone").exists());
    assert!(root.join("b/keep").exists());
    assert!(!root.join("c/old").exists());
    assert_eq!(fs::read(root.join("c/new")).unwrap(), b"n");
    assert!(!root.join(".wh.nothing-here").exists());
}

#[test]
fn whiteouts_spare_entries_of_the_same_layer() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    let mut base = Tar::new();
    base.file("c/lower", b"l");
    extract(root, base.bytes());
    // The opaque marker comes after this layer's own file (unusual order): it still only
    // hides the lower layer's content.
    let mut upper = Tar::new();
    upper
        .file("c/-early", b"e")
        .file("c/.wh..wh..opq", b"")
        .file("d/x", b"x")
        .file("d/.wh.x", b"");
    extract(root, upper.bytes());
    assert!(!root.join("c/lower").exists());
    assert_eq!(fs::read(root.join("c/-early")).unwrap(), b"e");
    assert_eq!(fs::read(root.join("d/x")).unwrap(), b"x");
}

#[test]
fn replaces_file_with_dir_and_back_and_keeps_existing_dirs() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    let mut base = Tar::new();
    base.file("x", b"file")
        .file("y/inner", b"i")
        .dir("z/", 0o755)
        .file("z/kept", b"k");
    extract(root, base.bytes());
    let mut upper = Tar::new();
    upper
        .dir("x/", 0o750)
        .file("x/child", b"c")
        .file("y", b"now a file")
        .dir("z/", 0o711);
    extract(root, upper.bytes());
    assert!(root.join("x").is_dir());
    assert_eq!(fs::metadata(root.join("x")).unwrap().mode() & 0o7777, 0o750);
    assert_eq!(fs::read(root.join("x/child")).unwrap(), b"c");
    assert_eq!(fs::read(root.join("y")).unwrap(), b"now a file");
    assert_eq!(
        fs::read(root.join("z/kept")).unwrap(),
        b"k",
        "existing dir kept"
    );
    assert_eq!(
        fs::metadata(root.join("z")).unwrap().mode() & 0o7777,
        0o711,
        "metadata updated"
    );
}

#[test]
fn legitimate_symlinks_climbing_above_their_depth_unpack() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    let mut t = Tar::new();
    t.file("lib/x/real.so", b"so")
        .dir("usr/lib/", 0o755)
        .symlink("usr/lib/x", "../../../lib/x")
        .file("usr/lib/x/added", b"through the link")
        .symlink("lib64", "/lib");
    extract(root, t.bytes());
    assert_eq!(
        fs::read(root.join("lib/x/added")).unwrap(),
        b"through the link"
    );
    assert_eq!(
        fs::read_link(root.join("usr/lib/x")).unwrap(),
        Path::new("../../../lib/x")
    );
    assert_eq!(
        fs::read_link(root.join("lib64")).unwrap(),
        Path::new("/lib")
    );
}

#[test]
fn table_from_unpack_matches_a_walk() {
    let f = Fixture::new();
    let mut snap = Snapshotter::new(f.root.clone(), f.ignore.clone(), SnapshotMode::Full);
    let mut base = Tar::new();
    base.dir("etc/", 0o755)
        .file("etc/a", b"a")
        .hardlink("etc/b", "etc/a")
        .file("implicit/dir/file", b"f")
        .file("gone/x", b"x");
    extract_layer(
        &base.bytes()[..],
        &f.root,
        &f.ignore,
        Some(snap.table_mut()),
    )
    .unwrap();
    let mut upper = Tar::new();
    upper.file(".wh.gone", b"").file("etc/c", b"c");
    extract_layer(
        &upper.bytes()[..],
        &f.root,
        &f.ignore,
        Some(snap.table_mut()),
    )
    .unwrap();
    // Nothing changed since the unpack: the recorded table is exact.
    let changes = snap.take_full().unwrap();
    assert!(changes.is_empty(), "{changes:?}");
    fs::write(f.root.join("etc/new"), b"n").unwrap();
    let changes = snap.take_full().unwrap();
    assert_eq!(
        changes.entries,
        vec![PathBuf::from("/etc"), PathBuf::from("/etc/new")]
    );
}

#[test]
fn reads_past_the_end_marker_to_the_end_of_the_stream() {
    let d = tempfile::tempdir().unwrap();
    let mut t = Tar::new();
    t.file("a", b"x");
    let mut bytes = t.bytes();
    bytes.extend_from_slice(&[7u8; 100_000]);
    let mut input = std::io::Cursor::new(bytes.clone());
    extract_layer(&mut input, d.path(), &IgnoreList::default(), None).unwrap();
    assert_eq!(input.position() as usize, bytes.len());
}
