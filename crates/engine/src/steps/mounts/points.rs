//! Mount points. A target the root does not have is made for the mount by the RUN child
//! (directories, and an empty file for a file mount) and removed after the command if it
//! is still empty, together with the parents made for it: BuildKit's mount stub cleaner
//! does the same, so a mount leaves nothing in the image, not even its directory. The
//! directory they were made in gets its times back when its entries are as before, and the
//! snapshot table takes its new ctime: a RUN that only read its mounts adds no layer. A
//! mount point may not be made inside an ignored path (the executor's directory, the
//! context).

use super::MountError;
use crate::root::RootFs;
use crate::steps::ns::{ChildSetup, Op};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

/// Where a mount goes and what the child makes for it.
pub struct MountPoint {
    /// The host path the child mounts on.
    pub host: PathBuf,
    /// Components of the resolved target, for ordering parents before children.
    pub depth: usize,
    /// Mkdir/Touch operations, outermost first.
    pub ops: Vec<(Op, String)>,
    /// Container paths made for the mount, innermost first.
    pub made: Vec<PathBuf>,
    /// The existing directory they are made in, as it was.
    pub anchor: Option<Anchor>,
}

/// A directory's entries, times and owner before mount points were made in it.
pub struct Anchor {
    path: PathBuf,
    names: Vec<std::ffi::OsString>,
    meta: fs::Metadata,
}

impl Anchor {
    fn read(root: &RootFs, path: PathBuf) -> Option<Anchor> {
        let host = root.host(&path);
        Some(Anchor {
            names: names(&host)?,
            meta: fs::symlink_metadata(&host).ok()?,
            path,
        })
    }

    /// Gives the directory its times back when only mount points came and went, and
    /// records it in the snapshot table as it is now.
    pub fn restore(&self, root: &mut RootFs) {
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

fn names(host: &std::path::Path) -> Option<Vec<std::ffi::OsString>> {
    let mut v: Vec<_> = fs::read_dir(host)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    v.sort();
    Some(v)
}

/// The mount point for `target` (an absolute container path; symlinks followed inside the
/// root), a file when `file`.
pub fn plan(root: &RootFs, target: &str, file: bool) -> Result<MountPoint, MountError> {
    let resolved = root.resolve(target, true)?;
    let mut made = Vec::new();
    let mut p = resolved.clone();
    while p.parent().is_some() && fs::symlink_metadata(root.host(&p)).is_err() {
        if root.ignore().is_ignored(&p) {
            return Err(MountError::Ignored(target.into(), p));
        }
        made.push(p.clone());
        p = p.parent().map(PathBuf::from).unwrap_or_default();
    }
    let mut ops = Vec::new();
    for m in made.iter().rev() {
        let host = ChildSetup::c(&root.host(m)).map_err(|e| MountError::io(target, e))?;
        let what = format!("creating the mount point {}", m.display());
        let op = if file && *m == resolved {
            Op::Touch(host)
        } else {
            Op::Mkdir(host)
        };
        ops.push((op, what));
    }
    let anchor = if made.is_empty() {
        None
    } else {
        Anchor::read(root, p)
    };
    Ok(MountPoint {
        host: root.host(&resolved),
        depth: resolved.components().count(),
        ops,
        made,
        anchor,
    })
}

/// Removes what was made for mounts and is still empty (an empty directory, an empty
/// file), innermost first, skipping any path the command replaced by a symlink.
pub fn remove_made(root: &RootFs, made: &[PathBuf]) {
    for p in made {
        let same = root
            .resolve(&p.to_string_lossy(), false)
            .is_ok_and(|r| r == *p);
        if !same || root.ignore().is_ignored(p) {
            continue;
        }
        let host = root.host(p);
        let Ok(m) = fs::symlink_metadata(&host) else {
            continue;
        };
        let _ = if m.is_dir() {
            fs::remove_dir(&host) // fails unless empty
        } else if m.is_file() && m.size() == 0 {
            fs::remove_file(&host)
        } else {
            Ok(())
        };
    }
}
