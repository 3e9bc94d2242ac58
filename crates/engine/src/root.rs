//! The root filesystem a stage runs in, as a value: its directory, the ignore list and the
//! snapshot table. Every write an instruction makes (RUN's working directory, COPY, ADD,
//! WORKDIR, layer extraction) goes through it, and every path is resolved inside the root
//! the way a chroot would see it: symlinks followed with absolute targets taken relative to
//! the root, `..` stopping at it. A write that resolves into an ignored path (the
//! executor's own directory, a mounted volume, the context) is refused.

use rootfs::{Changes, IgnoreList, SnapshotMode, Snapshotter};
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum RootError {
    #[error("{path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("{path} resolves to {resolved}, a path the build must not write (the executor's own directory, a mount or an ignored path)")]
    Ignored { path: String, resolved: PathBuf },
}

fn io_err(path: impl std::fmt::Display) -> impl FnOnce(io::Error) -> RootError {
    let path = path.to_string();
    move |source| RootError::Io { path, source }
}

/// The root filesystem of a build (the `rootfs` crate holds its mechanics; `image`'s
/// `RootFs` is the config's list of diff_ids).
pub struct BuildRoot {
    dir: PathBuf,
    ignore: IgnoreList,
    /// The snapshot table's one owner; lent to a blocking thread only by
    /// [`BuildRoot::with_snapshotter`].
    snap: Snapshotter,
}

impl BuildRoot {
    pub fn new(dir: PathBuf, ignore: IgnoreList, mode: SnapshotMode) -> BuildRoot {
        let snap = Snapshotter::new(dir.clone(), ignore.clone(), mode);
        BuildRoot { dir, ignore, snap }
    }

    /// The root directory on the host.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn ignore(&self) -> &IgnoreList {
        &self.ignore
    }

    pub fn snapshotter(&mut self) -> &mut Snapshotter {
        &mut self.snap
    }

    /// The directory, the ignore list and the snapshotter at once (an unpack records what
    /// it writes under the directory in the table).
    pub fn parts_mut(&mut self) -> (&Path, &IgnoreList, &mut Snapshotter) {
        (&self.dir, &self.ignore, &mut self.snap)
    }

    /// Runs `f` with the snapshotter on a blocking thread (a walk or a layer write takes
    /// long) and keeps it after; if the thread panicked, the table starts over empty.
    pub async fn with_snapshotter<T: Send + 'static>(
        &mut self,
        f: impl FnOnce(&mut Snapshotter) -> T + Send + 'static,
    ) -> Result<T, tokio::task::JoinError> {
        let fresh = Snapshotter::new(self.dir.clone(), self.ignore.clone(), SnapshotMode::Full);
        let mut snap = std::mem::replace(&mut self.snap, fresh);
        let (snap, out) = tokio::task::spawn_blocking(move || {
            let out = f(&mut snap);
            (snap, out)
        })
        .await?;
        self.snap = snap;
        Ok(out)
    }

    /// The container path `p` (absolute; relative ones are taken from `/`) resolved inside
    /// the root, following symlinks in every component, and in the last when `follow_last`.
    pub fn resolve(&self, p: &str, follow_last: bool) -> Result<PathBuf, RootError> {
        let abs = Path::new("/").join(std::ffi::OsStr::from_bytes(p.as_bytes()));
        rootfs::resolve_in_root(&self.dir, &abs, follow_last).map_err(io_err(p))
    }

    /// The host path of a resolved container path.
    pub fn host(&self, resolved: &Path) -> PathBuf {
        rootfs::host_path(&self.dir, resolved)
    }

    /// The host path a read of `p` reaches (every symlink followed inside the root).
    pub fn host_for_read(&self, p: &str) -> Result<PathBuf, RootError> {
        Ok(self.host(&self.resolve(p, true)?))
    }

    /// Resolves `p` for writing its last component (not followed): the parent's symlinks
    /// are followed inside the root, and the result must not be ignored.
    pub fn writable(&self, p: &str) -> Result<PathBuf, RootError> {
        let resolved = self.resolve(p, false)?;
        if self.ignore.is_ignored(&resolved) || self.ignore.has_ignored_below(&resolved) {
            return Err(RootError::Ignored {
                path: p.to_string(),
                resolved,
            });
        }
        Ok(resolved)
    }

    /// Whether `p` resolves to an existing directory.
    pub fn is_dir(&self, p: &str) -> bool {
        self.host_for_read(p).is_ok_and(|h| h.is_dir())
    }

    /// Reads a file of the image (`/etc/passwd` ...); `None` when it does not exist.
    pub fn read_to_string(&self, p: &str) -> Option<String> {
        fs::read_to_string(self.host_for_read(p).ok()?).ok()
    }

    /// Creates directory `p` and its missing parents, each resolved inside the root: 0755,
    /// owned by `owner` (else root), as BuildKit creates them for COPY and WORKDIR. Returns
    /// the resolved paths created, outermost first.
    pub fn mkdir_all(&self, p: &str, owner: Option<(u32, u32)>) -> Result<Vec<PathBuf>, RootError> {
        let mut created = Vec::new();
        let mut current = String::new();
        let comps: Vec<&str> = p
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .collect();
        for c in &comps {
            current.push('/');
            current.push_str(c);
            if self.is_dir(&current) {
                continue;
            }
            // A dangling symlink is followed: its target (inside the root) is created.
            let resolved = self.resolve(&current, true)?;
            if self.ignore.is_ignored(&resolved) {
                return Err(RootError::Ignored {
                    path: current,
                    resolved,
                });
            }
            let host = self.host(&resolved);
            fs::create_dir(&host).map_err(io_err(&current))?;
            let (u, g) = owner.unwrap_or((0, 0));
            std::os::unix::fs::lchown(&host, Some(u), Some(g)).map_err(io_err(&current))?;
            fs::set_permissions(&host, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .map_err(io_err(&current))?;
            created.push(resolved);
        }
        Ok(created)
    }

    /// The baseline snapshot: every file as it is now.
    pub fn init_snapshot(&mut self) -> Result<(), rootfs::Error> {
        self.snap.init_from_walk()
    }

    /// Everything changed since the last snapshot, or only below `paths` when given.
    pub fn changes(&mut self, paths: Option<&[PathBuf]>) -> Result<Changes, rootfs::Error> {
        match paths {
            Some(p) => self.snap.take_paths(p),
            None => self.snap.take_full(),
        }
    }

    /// Deletes everything but the ignored paths (between stages, `--cleanup`).
    pub fn clear(&mut self) -> Result<(), rootfs::Error> {
        rootfs::clean_root(&self.dir, &self.ignore)?;
        *self.snap.table_mut() = Default::default();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn root() -> (tempfile::TempDir, BuildRoot) {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("kaniko")).unwrap();
        fs::create_dir_all(d.path().join("workspace")).unwrap();
        let ignore = IgnoreList::new(["/kaniko".into(), "/workspace".into()]);
        let r = BuildRoot::new(d.path().to_path_buf(), ignore, SnapshotMode::Full);
        (d, r)
    }

    #[test]
    fn writes_through_symlinks_stay_inside_and_spare_ignored_paths() {
        let (d, r) = root();
        symlink("/workspace", d.path().join("app")).unwrap();
        symlink("/kaniko", d.path().join("kk")).unwrap();
        symlink("../../../../etc", d.path().join("up")).unwrap();
        assert!(matches!(
            r.writable("/app/x"),
            Err(RootError::Ignored { .. })
        ));
        assert!(matches!(
            r.writable("/kk/executor"),
            Err(RootError::Ignored { .. })
        ));
        assert_eq!(r.writable("/up/x").unwrap(), Path::new("/etc/x"));
        // The link itself may be replaced: it is not followed.
        assert_eq!(r.writable("/app").unwrap(), Path::new("/app"));
        assert!(r.mkdir_all("/app/sub", None).is_err());
        let made = r.mkdir_all("/up/a/b", Some((5, 6))).unwrap();
        assert_eq!(
            made,
            vec![PathBuf::from("/etc"), "/etc/a".into(), "/etc/a/b".into()]
        );
        let m = fs::metadata(d.path().join("etc/a/b")).unwrap();
        assert_eq!(std::os::unix::fs::MetadataExt::uid(&m), 5);
        assert!(!d.path().parent().unwrap().join("etc/a").exists());
    }

    #[test]
    fn reads_resolve_inside() {
        let (d, r) = root();
        fs::create_dir_all(d.path().join("real")).unwrap();
        fs::write(d.path().join("real/passwd"), "x").unwrap();
        symlink("/real", d.path().join("etc")).unwrap();
        assert_eq!(r.read_to_string("/etc/passwd").as_deref(), Some("x"));
        assert!(r.is_dir("/etc"));
        assert_eq!(r.read_to_string("/nope"), None);
    }
}
