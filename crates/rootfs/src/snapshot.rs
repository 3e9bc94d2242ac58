//! Snapshots: one metadata walk compared against the previous walk's table. A file counts
//! as changed when its inode, size, mtime, ctime, mode or owner differ (`time` mode: mtime
//! only); contents are never read to decide.

use crate::resolve::{host_path, resolve_in_root};
use crate::{Error, IgnoreList};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SnapshotMode {
    #[default]
    Full,
    Redo,
    Time,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Meta {
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    mode: u32,
    uid: u32,
    gid: u32,
}

impl Meta {
    fn of(m: &std::fs::Metadata) -> Meta {
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

    fn is_dir(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFDIR
    }

    fn differs(&self, other: &Meta, mode: SnapshotMode) -> bool {
        match mode {
            SnapshotMode::Time => self.mtime != other.mtime,
            SnapshotMode::Redo => {
                self.mtime != other.mtime
                    || self.size != other.size
                    || self.mode != other.mode
                    || self.uid != other.uid
                    || self.gid != other.gid
                    || self.ino != other.ino
            }
            SnapshotMode::Full => self != other,
        }
    }
}

/// Container path → metadata of the last snapshot.
#[derive(Clone, Debug, Default)]
pub struct FileTable {
    files: HashMap<PathBuf, Meta>,
}

impl FileTable {
    /// Records the current metadata of a container path (forgets it when it is gone).
    pub fn record(&mut self, root: &Path, p: &Path) {
        if p == Path::new("/") {
            return; // the root itself is never layer content
        }
        match std::fs::symlink_metadata(host_path(root, p)) {
            Ok(m) => {
                self.files.insert(p.to_path_buf(), Meta::of(&m));
            }
            Err(_) => {
                self.files.remove(p);
            }
        }
    }

    /// Forgets a path and everything below it.
    pub fn remove_tree(&mut self, p: &Path) {
        self.remove_trees(std::slice::from_ref(&p.to_path_buf()));
    }

    /// Forgets several paths and everything below them, in one pass over the table.
    pub fn remove_trees(&mut self, roots: &[PathBuf]) {
        if roots.is_empty() {
            return;
        }
        let set: HashSet<&Path> = roots.iter().map(PathBuf::as_path).collect();
        self.files
            .retain(|k, _| !k.ancestors().any(|a| set.contains(a)));
    }

    /// Every container path the table knows, in no particular order.
    pub fn paths(&self) -> impl Iterator<Item = &PathBuf> {
        self.files.keys()
    }

    /// Whether the table knows the container path.
    pub fn contains(&self, p: &Path) -> bool {
        self.files.contains_key(p)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
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
        self.table.files = self.walk(Path::new("/"))?;
        Ok(())
    }

    fn walk(&self, start: &Path) -> Result<HashMap<PathBuf, Meta>, Error> {
        let mut out = HashMap::new();
        let host_start = host_path(&self.root, start);
        let walker = walkdir::WalkDir::new(&host_start)
            .follow_links(false)
            .follow_root_links(false)
            .into_iter();
        let root = &self.root;
        let ignore = &self.ignore;
        for e in walker.filter_entry(|e| !ignore.is_ignored(&container(root, e.path()))) {
            let e = match e {
                Ok(e) => e,
                Err(err)
                    if err
                        .io_error()
                        .is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound) =>
                {
                    continue
                }
                Err(err) => {
                    return Err(Error::Io {
                        op: "walking",
                        path: host_start.clone(),
                        source: err.into(),
                    })
                }
            };
            let c = container(root, e.path());
            if c == Path::new("/") {
                continue;
            }
            if let Ok(m) = e.metadata() {
                out.insert(c, Meta::of(&m));
            }
        }
        Ok(out)
    }

    /// Everything added, changed or deleted since the last snapshot.
    pub fn take_full(&mut self) -> Result<Changes, Error> {
        let now = self.walk(Path::new("/"))?;
        let mut entries: Vec<PathBuf> = now
            .iter()
            .filter(|(p, m)| {
                self.table
                    .files
                    .get(*p)
                    .is_none_or(|old| old.differs(m, self.mode))
            })
            .map(|(p, _)| p.clone())
            .collect();
        entries.sort();
        let gone: BTreeSet<&PathBuf> = self
            .table
            .files
            .keys()
            .filter(|p| !now.contains_key(*p))
            .collect();
        // Only the topmost deleted path needs a whiteout, and none is needed below a path
        // that is now a file or a link (the new entry hides the old tree).
        let deleted: Vec<PathBuf> = gone
            .iter()
            .filter(|p| {
                !p.ancestors().skip(1).any(|a| {
                    gone.contains(&a.to_path_buf()) || now.get(a).is_some_and(|m| !m.is_dir())
                })
            })
            .map(|p| (*p).clone())
            .collect();
        self.table.files = now;
        Ok(Changes { entries, deleted })
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
            for (c, m) in self.walk(&start)? {
                self.table.files.insert(c.clone(), m);
                entries.insert(c);
            }
            if let Ok(m) = std::fs::symlink_metadata(host_path(&self.root, &start)) {
                self.table.files.insert(start.clone(), Meta::of(&m));
                entries.insert(start.clone());
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

fn container(root: &Path, host: &Path) -> PathBuf {
    match host.strip_prefix(root) {
        Ok(rel) => Path::new("/").join(rel),
        Err(_) => host.to_path_buf(),
    }
}
