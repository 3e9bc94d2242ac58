//! The snapshot table: what every path of the root looked like at the last snapshot, kept
//! per directory (each directory's children sorted by name), so that a walk compares a
//! directory's listing with the one before without hashing full paths.

use crate::resolve::host_path;
use std::collections::{HashMap, HashSet};
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

    /// Records many container paths at once (a whole layer's): grouped by directory and
    /// merged into each listing in one pass, so a directory of many entries costs no more
    /// than its size.
    pub fn record_all<'a>(&mut self, root: &Path, paths: impl IntoIterator<Item = &'a PathBuf>) {
        let mut found: HashMap<&Path, Vec<Child>> = HashMap::new();
        let mut missing = Vec::new();
        for p in paths {
            let Some((parent, name)) = split(p) else {
                continue;
            };
            match std::fs::symlink_metadata(host_path(root, p)) {
                Ok(m) => found
                    .entry(parent)
                    .or_default()
                    .push(Child::new(name, Meta::of(&m))),
                Err(_) => missing.push(p.clone()),
            }
        }
        self.remove_trees(&missing);
        for (dir, mut children) in found {
            children.sort_unstable_by(|a, b| a.name.cmp(&b.name));
            children.dedup_by(|a, b| a.name == b.name);
            self.merge(dir.to_path_buf(), children);
        }
    }

    /// Merges a directory's sorted listing into what the table has for it: its names get
    /// the listing's metadata, names the listing lacks stay.
    pub(crate) fn merge(&mut self, dir: PathBuf, children: Vec<Child>) {
        let list = self.dirs.entry(dir).or_default();
        if list.is_empty() {
            *list = children;
            return;
        }
        let old = std::mem::take(list);
        let mut merged = Vec::with_capacity(old.len() + children.len());
        let (mut a, mut b) = (old.into_iter().peekable(), children.into_iter().peekable());
        loop {
            let take_new = match (a.peek(), b.peek()) {
                (Some(o), Some(n)) => match o.name.cmp(&n.name) {
                    std::cmp::Ordering::Less => false,
                    std::cmp::Ordering::Equal => {
                        a.next();
                        true
                    }
                    std::cmp::Ordering::Greater => true,
                },
                (Some(_), None) => false,
                (None, Some(_)) => true,
                (None, None) => break,
            };
            merged.extend(if take_new { b.next() } else { a.next() });
        }
        *list = merged;
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
        let set: HashSet<&Path> = roots.iter().map(PathBuf::as_path).collect();
        self.dirs
            .retain(|d, _| !d.ancestors().any(|a| set.contains(a)));
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn names(t: &FileTable) -> Vec<String> {
        let mut v: Vec<String> = t.paths().iter().map(|p| p.display().to_string()).collect();
        v.sort();
        v
    }

    #[test]
    fn record_all_merges_by_directory_and_forgets_what_is_gone() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        fs::create_dir_all(r.join("a/sub")).unwrap();
        for f in ["a/x", "a/y", "a/sub/z", "b"] {
            fs::write(r.join(f), f).unwrap();
        }
        let mut t = FileTable::default();
        let all: Vec<PathBuf> = ["/a", "/a/y", "/a/x", "/a/sub", "/a/sub/z", "/b"]
            .iter()
            .map(PathBuf::from)
            .collect();
        t.record_all(r, all.iter().rev());
        assert_eq!(
            names(&t),
            ["/a", "/a/sub", "/a/sub/z", "/a/x", "/a/y", "/b"]
        );
        // A later layer: a new name merged in order, an old one kept, a tree gone.
        fs::write(r.join("a/w"), "w").unwrap();
        fs::remove_dir_all(r.join("a/sub")).unwrap();
        let later = [PathBuf::from("/a/w"), PathBuf::from("/a/sub")];
        t.record_all(r, later.iter());
        assert_eq!(names(&t), ["/a", "/a/w", "/a/x", "/a/y", "/b"]);
        let listed: Vec<&OsStr> = t.dirs[Path::new("/a")].iter().map(|c| &*c.name).collect();
        assert_eq!(listed, ["w", "x", "y"], "kept sorted");
        t.remove_trees(&[PathBuf::from("/a")]);
        assert_eq!(names(&t), ["/b"]);
        assert!(t.contains(Path::new("/b")) && !t.contains(Path::new("/a/x")));
    }
}
