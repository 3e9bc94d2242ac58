//! `COPY --link`: BuildKit copies onto an empty base and merges that layer over the image,
//! so the copy reads nothing of what is below it. Two things follow, which the root is made
//! to show before the copy: the destination path is directories only (a symlink or file of
//! the base on the way is replaced by a directory, never followed), and a file copied to a
//! path the base has as a directory replaces that directory (whether the destination is a
//! directory comes from the instruction and the first source alone: a trailing slash, or a
//! directory copied first).

use super::spec::{CopyError, CopySpec, Item};
use crate::root::BuildRoot;
use std::fs;
use std::path::PathBuf;

/// Prepares `dest_dir` (a cleaned absolute container path) for the `--link` copy `spec`;
/// `into_dir` when the destination is written as a directory. Returns the directories made.
pub fn prepare(
    root: &BuildRoot,
    spec: &CopySpec<'_>,
    dest_dir: &str,
    into_dir: bool,
) -> Result<Vec<PathBuf>, CopyError> {
    // Without a trailing slash the first source decides what the destination is.
    let file = spec.items.first().is_some_and(|i| is_file(i, spec));
    let owner = spec.owner;
    let comps: Vec<&str> = dest_dir.split('/').filter(|c| !c.is_empty()).collect();
    let mut made = Vec::new();
    let mut current = String::new();
    for (i, c) in comps.iter().enumerate() {
        current.push('/');
        current.push_str(c);
        let last = i + 1 == comps.len();
        let resolved = root.writable(&current)?;
        let host = root.host(&resolved);
        let Ok(m) = fs::symlink_metadata(&host) else {
            continue; // missing: the copy makes it
        };
        let io = |e| CopyError::Io(current.clone(), current.clone(), e);
        if last && !into_dir {
            // Kept only where the copy onto an empty base would merge: a directory over a
            // directory (a file would replace what is there, a directory a non-directory).
            if file || !m.is_dir() {
                rootfs::remove_any(&host).map_err(|e| io(std::io::Error::other(e)))?;
            }
            continue;
        }
        if !m.is_dir() {
            rootfs::remove_any(&host).map_err(|e| io(std::io::Error::other(e)))?;
            made.extend(root.mkdir_all(&current, owner)?);
        }
    }
    Ok(made)
}

/// Whether the item is copied as one file (not a directory, nor an archive ADD unpacks).
fn is_file(item: &Item<'_>, spec: &CopySpec<'_>) -> bool {
    match item {
        Item::File { .. } => true,
        Item::Parents { .. } => false,
        Item::Path(tree, rel) => tree.host_path(rel, true).is_ok_and(|h| {
            h.is_file() && !(spec.extract_archives && super::archive::is_archive(&h))
        }),
    }
}
