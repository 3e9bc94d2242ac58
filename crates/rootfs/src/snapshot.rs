//! Snapshots: one metadata walk (`walk.rs`: parallel, each entry stat'ed relative to its
//! directory) compared directory by directory against the previous walk's table. A file
//! counts as changed when its inode, size, mtime, ctime, mode or owner differ (`redo` mode:
//! not ctime; `time` mode: mtime only); contents are never read to decide.

use crate::resolve::{host_path, resolve_in_root};
use crate::table::{split, Child, FileTable, Meta};
use crate::walk::walk;
use crate::{Error, IgnoreList};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SnapshotMode {
    #[default]
    Full,
    Redo,
    Time,
}

impl SnapshotMode {
    /// Whether an entry counts as changed from `old` to `new`.
    fn differs(self, old: &Meta, new: &Meta) -> bool {
        match self {
            SnapshotMode::Time => old.mtime != new.mtime,
            SnapshotMode::Redo => {
                old.mtime != new.mtime
                    || old.size != new.size
                    || old.mode != new.mode
                    || old.uid != new.uid
                    || old.gid != new.gid
                    || old.ino != new.ino
            }
            SnapshotMode::Full => old != new,
        }
    }
}

/// What a snapshot found: container paths to add to a layer, and deleted ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub entries: Vec<PathBuf>,
    pub deleted: Vec<PathBuf>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.deleted.is_empty()
    }
}

pub struct Snapshotter {
    root: PathBuf,
    ignore: IgnoreList,
    mode: SnapshotMode,
    table: FileTable,
}

impl Snapshotter {
    pub fn new(root: PathBuf, ignore: IgnoreList, mode: SnapshotMode) -> Self {
        Snapshotter {
            root,
            ignore,
            mode,
            table: FileTable::default(),
        }
    }

    pub fn table_mut(&mut self) -> &mut FileTable {
        &mut self.table
    }

    /// The baseline: the whole filesystem as it is now.
    pub fn init_from_walk(&mut self) -> Result<(), Error> {
        self.table.dirs = walk(&self.root, &self.ignore, Path::new("/"))?
            .into_iter()
            .collect();
        Ok(())
    }

    /// Everything added, changed or deleted since the last snapshot.
    pub fn take_full(&mut self) -> Result<Changes, Error> {
        let now: HashMap<PathBuf, Vec<Child>> = walk(&self.root, &self.ignore, Path::new("/"))?
            .into_iter()
            .collect();
        let mut changes = Changes::default();
        for (dir, children) in &now {
            let before = self.table.dirs.get(dir).map_or(&[][..], Vec::as_slice);
            compare(dir, before, children, self.mode, &mut changes);
        }
        // A deleted path below a directory that is gone (or is no longer a directory) needs
        // no whiteout of its own: only names missing from a directory that is still there.
        changes.entries.sort();
        changes.deleted.sort();
        self.table.dirs = now;
        Ok(changes)
    }

    /// The given container paths (recursively), for COPY/ADD: no full walk. Each is where a
    /// write landed: its parents are resolved inside the root, its last component is taken
    /// as it is (a symlink written here is packed as a link, its target is not). Parent
    /// directories are recorded too (the layer carries them).
    pub fn take_paths(&mut self, paths: &[PathBuf]) -> Result<Changes, Error> {
        let mut entries = BTreeSet::new();
        for p in paths {
            let start = resolve_in_root(&self.root, p, false)
                .map_err(Error::io("resolving", p.as_path()))?;
            if self.ignore.is_ignored(&start) || entries.contains(&start) {
                continue;
            }
            let Ok(m) = std::fs::symlink_metadata(host_path(&self.root, &start)) else {
                continue;
            };
            let meta = Meta::of(&m);
            if let Some((parent, name)) = split(&start) {
                self.table.put(parent, name, meta);
                entries.insert(start.clone());
            }
            if meta.is_dir() {
                for (dir, children) in walk(&self.root, &self.ignore, &start)? {
                    for c in &children {
                        entries.insert(dir.join(&*c.name));
                    }
                    self.table.merge(dir, children);
                }
            }
            for a in start.ancestors().skip(1) {
                if a != Path::new("/") {
                    self.table.record(&self.root, a);
                }
            }
        }
        Ok(Changes {
            entries: entries.into_iter().collect(),
            deleted: Vec::new(),
        })
    }
}

/// Compares one directory's listing now with the one before (both sorted by name): new or
/// changed names are entries, missing names deletions.
fn compare(dir: &Path, before: &[Child], now: &[Child], mode: SnapshotMode, out: &mut Changes) {
    let (mut i, mut j) = (0, 0);
    while i < before.len() || j < now.len() {
        let order = match (before.get(i), now.get(j)) {
            (Some(b), Some(n)) => b.name.cmp(&n.name),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => {
                out.deleted.push(dir.join(&*before[i].name));
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.entries.push(dir.join(&*now[j].name));
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                if mode.differs(&before[i].meta, &now[j].meta) {
                    out.entries.push(dir.join(&*now[j].name));
                }
                i += 1;
                j += 1;
            }
        }
    }
}
