//! Mount targets in the root. A target is resolved inside the root (symlinks followed) when
//! its mount is put in place, after the mounts above it: what it holds then is moved aside,
//! and the parents it lacks are made (and removed after the command if still empty, as
//! BuildKit's mount stub cleaner does, so a mount leaves nothing in the image, not even its
//! directory). The directory where the first change happens gets its times back when its
//! entries are as before, and the snapshot table takes it and a target moved aside and back
//! as they are now: a RUN that only read its mounts adds no layer. A target may not be, hold
//! or be made inside an ignored path (the executor's directory, the context, a mount).

use super::MountError;
use crate::root::BuildRoot;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Where a mount goes.
pub struct Point {
    /// The resolved container path.
    pub resolved: PathBuf,
    /// Its host path.
    pub host: PathBuf,
    /// Whether the root had something there (then moved aside for the command).
    pub existed: bool,
    /// Host paths of the missing parents to make, innermost first.
    pub made: Vec<PathBuf>,
    /// The existing directory the first change happens in, as it was.
    pub anchor: Option<Anchor>,
}

/// A directory's entries, times and owner before a mount changed them.
pub struct Anchor {
    path: PathBuf,
    names: Vec<std::ffi::OsString>,
    meta: fs::Metadata,
}

impl Anchor {
    fn read(root: &BuildRoot, path: PathBuf) -> Option<Anchor> {
        let host = root.host(&path);
        Some(Anchor {
            names: names(&host)?,
            meta: fs::symlink_metadata(&host).ok()?,
            path,
        })
    }

    /// Gives the directory its times back when only the mount's entries came and went, and
    /// records it in the snapshot table as it is now.
    pub fn restore(&self, root: &mut BuildRoot) {
        let host = root.host(&self.path);
        let Ok(now) = fs::symlink_metadata(&host) else {
            return;
        };
        let same_owner = (now.mode(), now.uid(), now.gid())
            == (self.meta.mode(), self.meta.uid(), self.meta.gid());
        if !same_owner || names(&host).as_ref() != Some(&self.names) {
            return;
        }
        let t = |s, ns| nix::sys::time::TimeSpec::new(s, ns);
        let restored = nix::sys::stat::utimensat(
            None,
            &host,
            &t(self.meta.atime(), self.meta.atime_nsec()),
            &t(self.meta.mtime(), self.meta.mtime_nsec()),
            nix::sys::stat::UtimensatFlags::NoFollowSymlink,
        );
        if restored.is_ok() {
            let dir = root.dir().to_path_buf();
            root.snapshotter().table_mut().record(&dir, &self.path);
        }
    }
}

fn names(host: &Path) -> Option<Vec<std::ffi::OsString>> {
    let mut v: Vec<_> = fs::read_dir(host)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    v.sort();
    Some(v)
}

/// The point for `target` (an absolute container path) as the root is now.
pub fn resolve(root: &BuildRoot, target: &str) -> Result<Point, MountError> {
    let resolved = root.resolve(target, true)?;
    let ignore = root.ignore();
    if ignore.is_ignored(&resolved) || ignore.has_ignored_below(&resolved) {
        return Err(MountError::Covers(target.into(), resolved));
    }
    let host = root.host(&resolved);
    let existed = fs::symlink_metadata(&host).is_ok();
    let mut made = Vec::new();
    let mut changed = resolved.clone();
    while let Some(dir) = changed.parent().map(Path::to_path_buf) {
        if dir.parent().is_none() || fs::symlink_metadata(root.host(&dir)).is_ok() {
            break;
        }
        if ignore.is_ignored(&dir) {
            return Err(MountError::Ignored(target.into(), dir));
        }
        made.push(root.host(&dir));
        changed = dir;
    }
    let anchor = changed
        .parent()
        .and_then(|a| Anchor::read(root, a.to_path_buf()));
    Ok(Point {
        resolved,
        host,
        existed,
        made,
        anchor,
    })
}

/// Whether every directory between `root` and `path`'s parent is a real directory (no
/// symlink a command put there): only then is `path` the one the mount was placed at.
pub fn still_below(root: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(root) else {
        return false;
    };
    let mut p = root.to_path_buf();
    let mut comps: Vec<_> = rel.components().collect();
    comps.pop();
    for c in comps {
        p.push(c);
        match fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => {}
            _ => return false,
        }
    }
    true
}
