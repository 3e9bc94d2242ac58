//! The reference the snapshotter is judged by: the obvious full walk, written here apart from
//! the crate. Every path of the root (ignored ones left out) with its inode, size, mtime,
//! ctime, mode and owner; a path is changed when the snapshot mode's fields differ, deleted
//! when it is gone and no directory above it is gone or has become something else.

use rootfs::{Changes, IgnoreList, SnapshotMode};
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meta {
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    mode: u32,
    uid: u32,
    gid: u32,
}

impl Meta {
    fn differs(&self, o: &Meta, mode: SnapshotMode) -> bool {
        match mode {
            SnapshotMode::Time => self.mtime != o.mtime,
            SnapshotMode::Redo => {
                (
                    self.mtime, self.size, self.mode, self.uid, self.gid, self.ino,
                ) != (o.mtime, o.size, o.mode, o.uid, o.gid, o.ino)
            }
            SnapshotMode::Full => self != o,
        }
    }

    pub fn is_dir(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFDIR
    }
}

pub type Tree = BTreeMap<PathBuf, Meta>;

/// The container path `p` of `root` as it is now (`None` when gone).
pub fn stat(root: &Path, p: &Path) -> Option<Meta> {
    let m = std::fs::symlink_metadata(root.join(p.strip_prefix("/").ok()?)).ok()?;
    Some(Meta {
        ino: m.ino(),
        size: m.size(),
        mtime: (m.mtime(), m.mtime_nsec()),
        ctime: (m.ctime(), m.ctime_nsec()),
        mode: m.mode(),
        uid: m.uid(),
        gid: m.gid(),
    })
}

/// Every path of the root but the root itself and the ignored ones.
pub fn walk(root: &Path, ignore: &IgnoreList) -> Tree {
    let mut out = Tree::new();
    let container = |h: &Path| Path::new("/").join(h.strip_prefix(root).unwrap());
    let it = walkdir::WalkDir::new(root).min_depth(1).into_iter();
    for e in it.filter_entry(|e| !ignore.is_ignored(&container(e.path()))) {
        let c = container(e.unwrap().path());
        if let Some(m) = stat(root, &c) {
            out.insert(c, m);
        }
    }
    out
}

/// What changed from `before` to `now`.
pub fn changes(before: &Tree, now: &Tree, mode: SnapshotMode) -> Changes {
    let entries = now
        .iter()
        .filter(|(p, m)| before.get(*p).is_none_or(|b| b.differs(m, mode)))
        .map(|(p, _)| p.clone())
        .collect();
    let gone: BTreeSet<&PathBuf> = before.keys().filter(|p| !now.contains_key(*p)).collect();
    let deleted = gone
        .iter()
        .filter(|p| {
            !p.ancestors()
                .skip(1)
                .any(|a| gone.contains(&a.to_path_buf()) || now.get(a).is_some_and(|m| !m.is_dir()))
        })
        .map(|p| (*p).clone())
        .collect();
    Changes { entries, deleted }
}
