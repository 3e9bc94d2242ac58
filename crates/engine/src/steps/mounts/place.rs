//! Putting a RUN's mounts in place before the command and taking them away after it, with
//! no mount at all: parents before children, each target's previous content moved aside
//! (into the work directory, or beside the target when that is another file system), then
//! its content put there ([`fill`]), each step recorded in the [`Journal`] first. Taking
//! them away ([`Placed::finish`], or dropping [`Placed`] when the build is cancelled)
//! undoes them children first, before the snapshot walk: nothing a mount showed reaches a
//! layer.

use super::journal::{Journal, Record};
use super::points::{self, Point};
use super::{Content, MountError, Planned, Prepared};
use crate::root::BuildRoot;
use crate::SecretValue;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use tracing::warn;

/// The mounts of the RUN in progress.
#[derive(Default)]
pub struct Placed {
    journal: Option<Journal>,
    mounts: Vec<(Planned, Point)>,
    finished: bool,
}

impl Prepared {
    /// Puts every mount in place in `root`, recording each step in a journal under `work`.
    pub fn place(&mut self, root: &BuildRoot, work: &Path) -> Result<Placed, MountError> {
        let mut planned = std::mem::take(&mut self.planned);
        if planned.is_empty() {
            return Ok(Placed::default());
        }
        planned.sort_by_key(|p| p.target.split('/').filter(|c| !c.is_empty()).count());
        let journal =
            Journal::create(work).map_err(|e| MountError::io("the mounts' journal", e))?;
        let mut placed = Placed {
            journal: Some(journal),
            mounts: Vec::new(),
            finished: false,
        };
        for p in planned {
            placed.put(root, p)?; // on failure, dropping `placed` undoes what was done
        }
        Ok(placed)
    }
}

impl Placed {
    fn put(&mut self, root: &BuildRoot, p: Planned) -> Result<(), MountError> {
        let point = points::resolve(root, &p.target)?;
        let Some(journal) = self.journal.as_mut() else {
            return Ok(());
        };
        let io = |e| MountError::io(&p.target, e);
        let n = journal.next_index();
        let moved_cache = match &p.content {
            // Moved only when no other mount of this RUN shows the same cache.
            Content::Cache {
                dir,
                readonly: false,
            } if std::sync::Arc::strong_count(dir) == 1
                && same_device(&dir.path, point.host.parent().unwrap_or(root.dir())) =>
            {
                Some(dir.path.clone())
            }
            _ => None,
        };
        let shm = match &p.content {
            Content::Secret { .. } => shm_dir(root).map(|d| d.join(secret_name())),
            _ => None,
        };
        journal
            .push(Record {
                root: root.dir().to_path_buf(),
                target: point.host.clone(),
                existed: point.existed,
                aside: point.existed.then(|| journal.aside(n)),
                cache: moved_cache,
                shm,
                made: point.made.clone(),
            })
            .map_err(io)?;
        for dir in point.made.iter().rev() {
            fs::create_dir(dir)
                .and_then(|()| fs::set_permissions(dir, fs::Permissions::from_mode(0o755)))
                .map_err(io)?;
        }
        if point.existed {
            move_aside(journal, n, &point.host).map_err(io)?;
        }
        let host = point.host.clone();
        self.mounts.push((p, point));
        let (p, _) = &self.mounts[n];
        fill(root, journal, n, &p.target, &p.content, &host)
    }

    /// Takes every mount away (children first), gives the directories they changed their
    /// times back and records them in the snapshot table as they are now.
    pub fn finish(mut self, root: &mut BuildRoot) -> Result<(), MountError> {
        self.finished = true;
        let undone = match self.journal.as_mut() {
            Some(j) => j.undo_all(),
            None => Ok(()),
        };
        if let Err(target) = undone {
            return Err(MountError::Replaced(target.display().to_string()));
        }
        let dir = root.dir().to_path_buf();
        for (_, point) in self.mounts.iter().rev() {
            if point.existed {
                root.snapshotter().table_mut().record(&dir, &point.resolved);
            }
            if let Some(a) = &point.anchor {
                a.restore(root);
            }
        }
        Ok(())
    }
}

impl Drop for Placed {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        if let Some(Err(t)) = self.journal.as_mut().map(Journal::undo_all) {
            warn!(
                "RUN --mount at {}: left in place (a directory above it was replaced)",
                t.display()
            );
        }
    }
}

/// Moves a target's previous content into the work directory, or beside it when the work
/// directory is on another file system.
fn move_aside(journal: &mut Journal, n: usize, host: &Path) -> io::Result<()> {
    let aside = journal.aside(n);
    match fs::rename(host, &aside) {
        Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
            let name = format!(".kaniko-aside-{}-{n}", std::process::id());
            let beside = host.with_file_name(name);
            journal.update(n, |r| r.aside = Some(beside.clone()))?;
            fs::rename(host, &beside)
        }
        other => other,
    }
}

/// Puts mount `n`'s content at `host` (its target, now free).
fn fill(
    root: &BuildRoot,
    journal: &mut Journal,
    n: usize,
    target: &str,
    content: &Content,
    host: &Path,
) -> Result<(), MountError> {
    let io = |e| MountError::io(target, e);
    let outside = |what, path: &Path| MountError::Outside {
        target: target.into(),
        what,
        path: path.to_path_buf(),
    };
    let link = |to: &Path, what| {
        let inside = inside_root(root, to).ok_or_else(|| outside(what, to))?;
        std::os::unix::fs::symlink(inside, host).map_err(io)
    };
    match content {
        Content::Cache {
            dir,
            readonly: false,
        } => {
            let moved = journal.record(n).is_some_and(|r| r.cache.is_some());
            if moved {
                match fs::rename(&dir.path, host) {
                    Ok(()) => return Ok(()),
                    Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
                        journal.update(n, |r| r.cache = None).map_err(io)?;
                    }
                    Err(e) => return Err(io(e)),
                }
            }
            link(&dir.path, "the cache directory")
        }
        Content::Cache {
            dir,
            readonly: true,
        } => crate::stage::files::copy_tree(&dir.path, host, &|_| true).map_err(io),
        Content::Copy { src, hidden } => {
            let visible = |rel: &Path| match hidden {
                Some(h) => {
                    let p = h.below.join(rel);
                    p.as_os_str().is_empty() || !h.tree.excluded(&p.to_string_lossy())
                }
                None => true,
            };
            crate::stage::files::copy_tree(src, host, &visible).map_err(io)
        }
        Content::Empty => fs::create_dir(host)
            .and_then(|()| fs::set_permissions(host, fs::Permissions::from_mode(0o1777)))
            .map_err(io),
        Content::Secret {
            value,
            mode,
            uid,
            gid,
        } => match journal.record(n).and_then(|r| r.shm.clone()) {
            Some(file) => {
                write_secret(&file, value, *mode, *uid, *gid).map_err(io)?;
                link(&file, "the secret's file")?;
                std::os::unix::fs::lchown(host, Some(*uid), Some(*gid)).map_err(io)
            }
            None => write_secret(host, value, *mode, *uid, *gid).map_err(io),
        },
        Content::Link(to) => link(to, "the SSH agent's socket"),
    }
}

/// A new file holding the secret, with its mode and owner (never through a symlink).
fn write_secret(path: &Path, value: &SecretValue, mode: u32, uid: u32, gid: u32) -> io::Result<()> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    f.write_all(value.expose())?;
    std::os::unix::fs::fchown(&f, Some(uid), Some(gid))?;
    f.set_permissions(fs::Permissions::from_mode(mode))
}

/// The root's /dev/shm when it is a tmpfs (Docker and Kubernetes give every container
/// one): secrets written there never reach a disk and die with the container.
fn shm_dir(root: &BuildRoot) -> Option<PathBuf> {
    let dir = root.dir().join("dev/shm");
    let m = fs::symlink_metadata(&dir).ok()?;
    let fs = nix::sys::statfs::statfs(&dir).ok()?;
    (m.is_dir() && fs.filesystem_type() == nix::sys::statfs::TMPFS_MAGIC).then_some(dir)
}

/// A name no one can guess in advance.
fn secret_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!(".kaniko-secret-{:016x}", h.finish())
}

/// The container path of a host path, when the root shows it.
fn inside_root(root: &BuildRoot, host: &Path) -> Option<PathBuf> {
    if root.dir() == Path::new("/") {
        return Some(host.to_path_buf());
    }
    let rel = host.strip_prefix(root.dir()).ok()?;
    Some(Path::new("/").join(rel))
}

/// Whether two existing paths are on the same device (a rename between them may work).
pub fn same_device(a: &Path, b: &Path) -> bool {
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev(),
        _ => false,
    }
}
