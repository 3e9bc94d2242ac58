//! Removes a sandbox root the executor may have filled with files of other owners and
//! unwritable modes, never following a symlink out of it, and never while anything is still
//! mounted under it (then it is left in place rather than risk what the mount shows).

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Mount points at or under `root`, from /proc/self/mountinfo.
pub(super) fn mounts_under(root: &Path) -> io::Result<Vec<PathBuf>> {
    let info = std::fs::read_to_string("/proc/self/mountinfo")?;
    Ok(info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|m| PathBuf::from(unescape(m)))
        .filter(|m| m.starts_with(root))
        .collect())
}

/// Undoes mountinfo's octal escapes (`\040` for a space, …).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let oct = b.get(i + 1..i + 4).and_then(|d| {
            std::str::from_utf8(d)
                .ok()
                .and_then(|d| u8::from_str_radix(d, 8).ok())
        });
        match (b[i], oct) {
            (b'\\', Some(c)) => {
                out.push(c);
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Gives the owner full access to every directory under `dir` (symlinks are not followed:
/// only real directories are changed and entered).
fn open_up(dir: &Path) -> io::Result<()> {
    let mode = dir.symlink_metadata()?.permissions().mode();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode | 0o700))?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            open_up(&entry.path())?;
        }
    }
    Ok(())
}

/// Removes `root` and everything in it, unless something is mounted under it.
pub(super) fn remove_root(root: &Path) -> io::Result<()> {
    let mounts = mounts_under(root)?;
    if !mounts.is_empty() {
        return Err(io::Error::other(format!(
            "still mounted, left in place: {mounts:?}"
        )));
    }
    // Best effort: removal below reports what still fails.
    let _ = open_up(root);
    // std's remove_dir_all unlinks symlinks and never follows them.
    std::fs::remove_dir_all(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_mountinfo_paths() {
        assert_eq!(unescape(r"/tmp/a\040b"), "/tmp/a b");
        assert_eq!(unescape(r"/x\\y"), r"/x\\y");
        assert_eq!(unescape("/plain"), "/plain");
    }

    #[test]
    fn removes_locked_dirs_without_following_links() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("keep"), "x").unwrap();
        let root = tempfile::tempdir().unwrap().keep();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/b/f"), "y").unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("a/out")).unwrap();
        std::fs::set_permissions(root.join("a/b"), std::fs::Permissions::from_mode(0o000)).unwrap();
        std::fs::set_permissions(root.join("a"), std::fs::Permissions::from_mode(0o500)).unwrap();
        remove_root(&root).unwrap();
        assert!(!root.exists());
        assert!(outside.path().join("keep").exists());
    }

    #[test]
    fn finds_mounts_under_a_path() {
        // The host's own root always has mounts at or under it.
        assert!(!mounts_under(Path::new("/")).unwrap().is_empty());
        assert!(mounts_under(Path::new("/nonexistent-testkit-dir"))
            .unwrap()
            .is_empty());
    }
}
