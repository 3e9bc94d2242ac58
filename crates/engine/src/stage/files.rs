//! What later stages need from earlier ones, kept outside the root (under the work
//! directory in kaniko's dir) between stages: a finished stage's whole root, moved there by
//! rename (instant on one filesystem, copied otherwise), for `COPY --from=<stage>` and
//! `FROM <stage>`; and images named by `COPY --from=<image>`, extracted there (never over
//! the root). With a layer cache a stage may end with some (or none) of its layers on disk:
//! the rest are unpacked into its directory when a later stage first copies from it.
//! Everything is removed when the build ends.

use crate::built::Layer;
use crate::context::BuildContext;
use crate::key::CacheKey;
use crate::root::BuildRoot;
use crate::source::ImageSource;
use crate::{BuildError, BuildOptions};
use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tracing::info;

/// A finished stage's files: its directory holds the first `on_disk` of its layers.
#[derive(Clone)]
struct Kept {
    dir: PathBuf,
    on_disk: usize,
    layers: Vec<Layer>,
}

pub struct StageFiles {
    dir: PathBuf,
    stashed: Mutex<HashMap<usize, Kept>>,
    /// The last cache key of each finished stage.
    keys: Mutex<HashMap<usize, CacheKey>>,
    /// Images `COPY --from` read, by platform and name.
    images: tokio::sync::Mutex<HashMap<String, PathBuf>>,
    cleaners: Mutex<Vec<std::thread::JoinHandle<()>>>,
    /// Stashes made so far: each gets a directory of its own.
    stashes: std::sync::atomic::AtomicUsize,
}

impl StageFiles {
    pub fn new(work_dir: &Path) -> StageFiles {
        StageFiles {
            dir: work_dir.join("stages"),
            stashed: Mutex::new(HashMap::new()),
            keys: Mutex::new(HashMap::new()),
            images: tokio::sync::Mutex::new(HashMap::new()),
            cleaners: Mutex::new(Vec::new()),
            stashes: Default::default(),
        }
    }

    /// Records the last cache key of finished stage `idx`.
    pub fn set_key(&self, idx: usize, key: CacheKey) {
        if let Ok(mut k) = self.keys.lock() {
            k.insert(idx, key);
        }
    }

    /// The last cache key of finished stage `i`.
    pub fn stage_key(&self, i: usize) -> Option<CacheKey> {
        self.keys.lock().ok().and_then(|k| k.get(&i).cloned())
    }

    /// The tree `COPY --from=<stage>` reads: finished stage `i`'s files, its layers not on
    /// disk unpacked first.
    pub async fn stage_tree(
        &self,
        i: usize,
        source: &dyn ImageSource,
        opts: &BuildOptions,
    ) -> Result<BuildContext, BuildError> {
        let kept = self.stashed.lock().ok().and_then(|s| s.get(&i).cloned());
        let kept = kept.ok_or_else(|| {
            BuildError::Other(format!("internal: the files of stage {i} were not kept"))
        })?;
        if kept.on_disk < kept.layers.len() {
            info!("Extracting the layers of stage {i} for COPY --from");
            let mut root = BuildRoot::new(kept.dir.clone(), Default::default(), opts.snapshot_mode);
            let pending = &kept.layers[kept.on_disk..];
            crate::unpack::unpack(source, pending, &mut root, opts.unpack).await?;
            if let Ok(mut s) = self.stashed.lock() {
                if let Some(k) = s.get_mut(&i) {
                    k.on_disk = k.layers.len();
                }
            }
        }
        Ok(BuildContext::tree(&kept.dir))
    }

    /// The tree `COPY --from=<image>` reads: the image's files, extracted once.
    pub async fn image_tree(
        &self,
        from: &str,
        source: &dyn ImageSource,
        opts: &BuildOptions,
    ) -> Result<BuildContext, BuildError> {
        let mut images = self.images.lock().await;
        let name = format!("{}|{from}", opts.platform);
        if let Some(d) = images.get(&name) {
            return Ok(BuildContext::tree(d));
        }
        let d = self.extract_image(from, source, opts, images.len()).await?;
        images.insert(name, d.clone());
        Ok(BuildContext::tree(&d))
    }

    async fn extract_image(
        &self,
        name: &str,
        source: &dyn ImageSource,
        opts: &BuildOptions,
        n: usize,
    ) -> Result<PathBuf, BuildError> {
        let img = source.resolve(name, &opts.platform).await?;
        let dir = self.dir.join(format!("image-{n}"));
        fs::create_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
        let mut root = BuildRoot::new(dir.clone(), Default::default(), opts.snapshot_mode);
        info!("Extracting {} for COPY --from", img.name);
        crate::unpack::unpack(source, &img.layers, &mut root, opts.unpack).await?;
        Ok(dir)
    }

    /// Moves the root's files (all but ignored paths) out to be read by later stages: the
    /// root holds the first `on_disk` of the stage's `layers` (`None`: none of its files).
    pub fn stash(
        &self,
        idx: usize,
        root: &mut BuildRoot,
        on_disk: Option<usize>,
        layers: Vec<Layer>,
    ) -> Result<(), BuildError> {
        let n = self
            .stashes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dest = self.dir.join(format!("{idx}.{n}"));
        info!("Storing the files of stage {idx} for later stages");
        fs::create_dir_all(&dest).map_err(|e| io_error(&dest, e))?;
        if on_disk.is_some() {
            move_tree(root, Path::new("/"), &dest).map_err(|e| io_error(root.dir(), e))?;
            root.clear()?;
        }
        let kept = Kept {
            dir: dest,
            on_disk: on_disk.unwrap_or(0),
            layers,
        };
        if let Ok(mut s) = self.stashed.lock() {
            s.insert(idx, kept);
        }
        Ok(())
    }

    /// Moves a stashed stage's files back into the (cleared) root; returns how many of its
    /// layers they hold, `None` when there was nothing on disk to bring back.
    pub fn restore(&self, idx: usize, root: &mut BuildRoot) -> Result<Option<usize>, BuildError> {
        let Some(kept) = self.stashed.lock().ok().and_then(|mut s| s.remove(&idx)) else {
            return Ok(None);
        };
        let dir = kept.dir;
        let on_disk = (kept.on_disk > 0).then_some(kept.on_disk);
        if on_disk.is_some() {
            restore_tree(&dir, root.dir()).map_err(|e| io_error(&dir, e))?;
        }
        let _ = fs::remove_dir_all(&dir);
        Ok(on_disk)
    }

    /// Drops what stage `idx` left here, removing it on a thread of its own.
    pub fn forget(&self, idx: usize) {
        let Some(Kept { dir, .. }) = self.stashed.lock().ok().and_then(|mut s| s.remove(&idx))
        else {
            return;
        };
        let handle = std::thread::spawn(move || {
            let _ = fs::remove_dir_all(&dir);
        });
        if let Ok(mut c) = self.cleaners.lock() {
            c.push(handle);
        }
    }

    /// Drops what every stage but those in `keep` left here.
    pub fn forget_except(&self, keep: &std::collections::BTreeSet<usize>) {
        let left: Vec<usize> = self
            .stashed
            .lock()
            .map(|s| s.keys().copied().filter(|i| !keep.contains(i)).collect())
            .unwrap_or_default();
        for i in left {
            self.forget(i);
        }
    }

    /// Starts removing everything left; the removals go on in the background until the
    /// returned [`Cleanup`] is waited for (after the push: a 1 GB stage takes seconds).
    pub fn finish(&self) -> Cleanup {
        self.forget_except(&Default::default());
        let handles = self.cleaners.lock().map(|mut c| std::mem::take(&mut *c));
        Cleanup {
            handles: handles.unwrap_or_default(),
            dir: self.dir.clone(),
        }
    }
}

/// Removals of what the stages left outside the root, still running. Dropping it waits
/// for them too, so no caller can leave the stage files behind.
#[must_use = "the removals run until this is waited for or dropped"]
pub struct Cleanup {
    handles: Vec<std::thread::JoinHandle<()>>,
    dir: PathBuf,
}

impl Cleanup {
    /// Waits for every removal (blocking).
    pub fn wait(self) {
        drop(self);
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn io_error(p: &Path, e: io::Error) -> BuildError {
    BuildError::Other(format!("{}: {e}", p.display()))
}

/// Moves the children of container dir `dir` into host dir `dest`, sparing ignored paths:
/// a directory with an ignored path below is recreated and entered instead of moved.
fn move_tree(root: &BuildRoot, dir: &Path, dest: &Path) -> io::Result<()> {
    let host = root.host(dir);
    for e in fs::read_dir(&host)? {
        let e = e?;
        let child = dir.join(e.file_name());
        if root.ignore().is_ignored(&child) {
            continue;
        }
        let to = dest.join(e.file_name());
        let is_dir = e.file_type()?.is_dir();
        if is_dir && root.ignore().has_ignored_below(&child) {
            let m = e.metadata()?;
            fs::create_dir_all(&to)?;
            copy_metadata(&to, &m)?;
            move_tree(root, &child, &to)?;
        } else {
            move_entry(&e.path(), &to)?;
        }
    }
    Ok(())
}

/// Moves stashed files back: renamed where the root has nothing there, merged into a
/// directory the root kept (one with ignored paths below).
fn restore_tree(from: &Path, to: &Path) -> io::Result<()> {
    for e in fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        match fs::symlink_metadata(&target) {
            Ok(m) if m.is_dir() && e.file_type()?.is_dir() => restore_tree(&e.path(), &target)?,
            Ok(_) => {} // the root kept something here (an ignored path): it wins
            Err(_) => move_entry(&e.path(), &target)?,
        }
    }
    Ok(())
}

/// rename, or copy and remove across filesystems.
fn move_entry(from: &Path, to: &Path) -> io::Result<()> {
    match fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
            copy_tree(from, to, &|_| true)?;
            rootfs::remove_any(from)
                .map(|_| ())
                .map_err(io::Error::other)
        }
        Err(e) => Err(e),
    }
}

/// A copy keeping modes, owners and times (hard links become separate files) of what `keep`
/// accepts (given the path relative to `from`; a directory refused is not entered).
pub(crate) fn copy_tree(from: &Path, to: &Path, keep: &dyn Fn(&Path) -> bool) -> io::Result<()> {
    let walk = walkdir::WalkDir::new(from).follow_links(false).into_iter();
    let relative = |p: &Path| p.strip_prefix(from).unwrap_or(Path::new("")).to_path_buf();
    for entry in walk.filter_entry(|e| keep(&relative(e.path()))) {
        let entry = entry?;
        let rel = relative(entry.path());
        let dst = if rel.as_os_str().is_empty() {
            to.to_path_buf()
        } else {
            to.join(rel)
        };
        let m = entry.path().symlink_metadata()?;
        let ft = m.file_type();
        if ft.is_dir() {
            fs::create_dir_all(&dst)?;
        } else if ft.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(entry.path())?, &dst)?;
        } else if ft.is_file() {
            fs::copy(entry.path(), &dst)?;
        } else {
            continue;
        }
        copy_metadata(&dst, &m)?;
    }
    Ok(())
}

fn copy_metadata(dst: &Path, m: &fs::Metadata) -> io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    std::os::unix::fs::lchown(dst, Some(m.uid()), Some(m.gid()))?;
    if !m.file_type().is_symlink() {
        fs::set_permissions(dst, fs::Permissions::from_mode(m.mode() & 0o7777))?;
    }
    let t = |s, ns| nix::sys::time::TimeSpec::new(s, ns);
    nix::sys::stat::utimensat(
        None,
        dst,
        &t(m.atime(), m.atime_nsec()),
        &t(m.mtime(), m.mtime_nsec()),
        nix::sys::stat::UtimensatFlags::NoFollowSymlink,
    )
    .map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_cleanup_removes_the_stage_files() {
        let work = tempfile::tempdir().unwrap();
        let files = StageFiles::new(work.path());
        let left = work.path().join("stages/0/etc");
        fs::create_dir_all(&left).unwrap();
        fs::write(left.join("f"), "x").unwrap();
        drop(files.finish());
        assert!(!work.path().join("stages").exists());
    }
}
