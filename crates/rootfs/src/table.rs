//! The snapshot table: what every path of the root looked like at the last snapshot, kept
//! per directory (each directory's children sorted by name), so that a walk compares a
//! directory's listing with the one before without hashing full paths.

use crate::resolve::host_path;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The metadata a snapshot compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Meta {
    pub ino: u64,
    pub size: u64,
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

impl Meta {
    pub fn of(m: &std::fs::Metadata) -> Meta {
        Meta {
            ino: m.ino(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
            mode: m.mode(),
            uid: m.uid(),
            gid: m.gid(),
        }
    }

    pub fn is_dir(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFDIR
    }
}

/// One entry of a directory.
#[derive(Clone, Debug)]
pub(crate) struct Child {
    pub name: Box<OsStr>,
    pub meta: Meta,
}

impl Child {
    pub fn new(name: &OsStr, meta: Meta) -> Child {
        Child {
            name: name.into(),
            meta,
        }
    }
}

/// Container directory → its children at the last snapshot, sorted by name. The root
/// itself is never an entry (it is never layer content).
#[derive(Clone, Debug, Default)]
pub struct FileTable {
    pub(crate) dirs: HashMap<PathBuf, Vec<Child>>,
}

impl FileTable {
    /// Records the current metadata of a container path (forgets it, and what was below
    /// it, when it is gone).
    pub fn record(&mut self, root: &Path, p: &Path) {
        let Some((parent, name)) = split(p) else {
            return; // the root itself is never layer content
        };
        match std::fs::symlink_metadata(host_path(root, p)) {
            Ok(m) => self.put(parent, name, Meta::of(&m)),
            Err(_) => self.remove_tree(p),
        }
    }

    /// Sets the entry `parent/name`.
    pub(crate) fn put(&mut self, parent: &Path, name: &OsStr, meta: Meta) {
        let list = self.dirs.entry(parent.to_path_buf()).or_default();
        match list.binary_search_by(|c| (*c.name).cmp(name)) {
            Ok(i) => list[i].meta = meta,
            Err(i) => list.insert(i, Child::new(name, meta)),
        }
    }

    /// The recorded metadata of a container path.
    pub(crate) fn get(&self, p: &Path) -> Option<&Meta> {
        let (parent, name) = split(p)?;
        let list = self.dirs.get(parent)?;
        let i = list.binary_search_by(|c| (*c.name).cmp(name)).ok()?;
        Some(&list[i].meta)
    }

    /// Forgets a path and everything below it.
    pub fn remove_tree(&mut self, p: &Path) {
        self.remove_trees(std::slice::from_ref(&p.to_path_buf()));
    }

    /// Forgets several paths and everything below them.
    pub fn remove_trees(&mut self, roots: &[PathBuf]) {
        if roots.is_empty() {
            return;
        }
        for r in roots {
            let Some((parent, name)) = split(r) else {
                self.dirs.clear();
                return;
            };
            if let Some(list) = self.dirs.get_mut(parent) {
                if let Ok(i) = list.binary_search_by(|c| (*c.name).cmp(name)) {
                    list.remove(i);
                }
            }
        }
        self.dirs
            .retain(|d, _| !roots.iter().any(|r| d.starts_with(r)));
    }

    /// Every container path the table knows, in no particular order.
    pub fn paths(&self) -> Vec<PathBuf> {
        self.dirs
            .iter()
            .flat_map(|(d, list)| list.iter().map(move |c| d.join(&*c.name)))
            .collect()
    }

    /// Whether the table knows the container path.
    pub fn contains(&self, p: &Path) -> bool {
        self.get(p).is_some()
    }

    pub fn len(&self) -> usize {
        self.dirs.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.dirs.values().all(Vec::is_empty)
    }
}

/// A container path's parent and last name (`None` for the root).
pub(crate) fn split(p: &Path) -> Option<(&Path, &OsStr)> {
    Some((p.parent()?, p.file_name()?))
}
