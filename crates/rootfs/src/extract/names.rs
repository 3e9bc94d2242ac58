//! Tar entry names as container paths.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

pub(super) fn lossy(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).into_owned()
}

/// A tar name placed under `dir`, cleaned lexically first so it stays below it.
pub(super) fn confined(dir: &Path, raw: &[u8]) -> PathBuf {
    let mut rel: Vec<&OsStr> = Vec::new();
    for c in Path::new(OsStr::from_bytes(raw)).components() {
        match c {
            Component::Normal(n) => rel.push(n),
            Component::ParentDir => {
                rel.pop();
            }
            _ => {}
        }
    }
    let mut out = clean(dir.as_os_str().as_bytes());
    out.extend(rel);
    out
}

/// A tar name as a container-absolute path (`./a/b/` → `/a/b`); `..` is kept for the
/// resolver, which never climbs above the root.
pub(super) fn clean(raw: &[u8]) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in Path::new(OsStr::from_bytes(raw)).components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => out.push(".."),
            _ => {}
        }
    }
    out
}
