//! COPY and ADD's copy: sources from the context, an earlier stage or an image (directories
//! copied by content, a symlinked source followed inside its tree), Docker's destination
//! rules (trailing slash, existing directories, missing parents created), `--chown`,
//! `--chmod`, generated files, ADD's archive extraction, `--parents` (the source's path kept
//! below the destination, its directories copied with their metadata) and `--exclude`
//! (patterns matched below each source, or below the `--parents` base). Every destination
//! is resolved inside the root and may not land in an ignored path. The step around it
//! (which sources, which checks) is the `copy` module's root.

use super::chmod::Chmod;
use super::entry::DirTimes;
use super::entry::{copy_entry, remove_non_dir, set_times, times_of, write_file, Attrs};
use super::spec::{absolute_dest, io_err, CopyError, CopySpec, Item};
use crate::context::BuildContext;
use crate::root::BuildRoot;
use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Performs the copy into `root`; returns the container paths written (for the snapshot).
/// As in BuildKit, each item is copied in turn: without a trailing slash the destination
/// takes a file as itself unless it is a directory by then (so of several files the last
/// one stays, and a directory copied first makes the destination a directory).
pub fn copy(root: &BuildRoot, spec: &CopySpec<'_>) -> Result<Vec<PathBuf>, CopyError> {
    let dest = absolute_dest(spec.dest, spec.workdir);
    let dir_syntax = dest.ends_with('/') || spec.dest == "." || spec.dest.ends_with("/.");
    let dest_dir = format!("/{}", crate::context::glob::clean(&dest));
    let parents = spec.items.iter().any(|i| matches!(i, Item::Parents { .. }));
    let mut w = Writer {
        root,
        spec,
        written: Vec::new(),
        linked: Default::default(),
        dir_times: Vec::new(),
    };
    if spec.link {
        w.written.extend(super::link::prepare(
            root,
            spec,
            &dest_dir,
            dir_syntax || parents,
        )?);
    }
    for item in &spec.items {
        let into_dir = dir_syntax || parents || root.is_dir(&dest_dir);
        // Hard links are kept within one source (one match of a wildcard), as BuildKit
        // copies each with a copier of its own.
        w.linked.clear();
        match item {
            Item::Path(tree, rel) => w.path(tree, rel, &dest_dir, into_dir, None)?,
            Item::Parents { tree, base, rel } => w.with_parents(tree, base, rel, &dest_dir)?,
            Item::File {
                name,
                content,
                mode,
            } => {
                let target = if into_dir {
                    join(&dest_dir, name)
                } else {
                    w.as_file(&dest_dir)?
                };
                w.parents(&target)?;
                let host = w.target(&target)?;
                write_file(&host, content, *mode, &w.attrs()).map_err(io_err(name, &target))?;
            }
        }
    }
    // Directories get their source's times once everything is written into them.
    for (host, atime, mtime) in w.dir_times.iter().rev() {
        set_times(host, atime, mtime)
            .map_err(io_err(&host.to_string_lossy(), dest_dir.as_str()))?;
    }
    Ok(w.written)
}

fn join(dir: &str, name: &str) -> String {
    format!("{}/{name}", dir.trim_end_matches('/'))
}

struct Writer<'a> {
    root: &'a BuildRoot,
    spec: &'a CopySpec<'a>,
    written: Vec<PathBuf>,
    /// Files with more than one link already copied by this step, by (device, inode): a
    /// later name of the same file becomes a hard link to the first copy, as BuildKit keeps
    /// hard links within one copy.
    linked: std::collections::HashMap<(u64, u64), PathBuf>,
    /// Directories copied, with the times to give them at the end.
    dir_times: Vec<DirTimes>,
}

impl Writer<'_> {
    fn attrs(&self) -> Attrs<'_> {
        Attrs {
            owner: self.spec.owner,
            mode: self.spec.mode.as_ref(),
        }
    }

    /// Makes directory `dir` and its missing parents: owned as `--chown` says (else root),
    /// 0755 or an octal `--chmod`'s permission bits (fsutil's `MkdirAll` with the mode).
    fn mkdir_all(&mut self, dir: &str) -> Result<(), CopyError> {
        let made = self.root.mkdir_all(dir, self.spec.owner)?;
        if let Some(m) = self.spec.mode.as_ref().and_then(Chmod::dir_mode) {
            for d in &made {
                fs::set_permissions(self.root.host(d), fs::Permissions::from_mode(m))
                    .map_err(io_err(dir, dir))?;
            }
        }
        self.written.extend(made);
        Ok(())
    }

    /// Creates the missing parents of `target`.
    fn parents(&mut self, target: &str) -> Result<(), CopyError> {
        if let Some(parent) = Path::new(target).parent() {
            self.mkdir_all(&parent.to_string_lossy())?;
        }
        Ok(())
    }

    /// Copies one entry of `tree`, keeping a directory's times for the end.
    fn entry(
        &mut self,
        tree: &BuildContext,
        src: &Path,
        dst: &Path,
        meta: &fs::Metadata,
    ) -> io::Result<()> {
        let times = copy_entry(src, dst, meta, &self.attrs(), tree.keeps_owners())?;
        self.dir_times.extend(times);
        Ok(())
    }

    /// Where a file copied as `dest` goes: through `dest` when it is a symlink (BuildKit
    /// resolves the whole destination path in the root), but with `--link`, which copies
    /// onto an empty base.
    fn as_file(&self, dest: &str) -> Result<String, CopyError> {
        if self.spec.link {
            return Ok(dest.to_string());
        }
        Ok(self
            .root
            .resolve(dest, true)?
            .to_string_lossy()
            .into_owned())
    }

    /// The host path to write the container path `target` at, recorded as written.
    fn target(&mut self, target: &str) -> Result<PathBuf, CopyError> {
        let resolved = self.root.writable(target)?;
        let host = self.root.host(&resolved);
        self.written.push(resolved);
        Ok(host)
    }

    /// Copies the source `rel` of `tree` into (or as) `dest_dir`; `below` is its path under
    /// the `--parents` base, which `--exclude` patterns are matched against (else they are
    /// matched below the source).
    fn path(
        &mut self,
        tree: &BuildContext,
        rel: &str,
        dest_dir: &str,
        into_dir: bool,
        below: Option<&str>,
    ) -> Result<(), CopyError> {
        // The source itself is followed (inside its tree); what is below it is not.
        let host_src = tree.host_path(rel, true).map_err(|e| {
            CopyError::Io(rel.into(), dest_dir.into(), io::Error::other(e.to_string()))
        })?;
        let meta = fs::metadata(&host_src).map_err(io_err(rel, dest_dir))?;
        if meta.is_dir() {
            self.mkdir_all(dest_dir)?;
            self.tree(tree, &host_src, dest_dir, below.unwrap_or(""))?;
            // The destination takes the source directory's times, not its mode or owner
            // (fsutil restores the timestamp of a directory it did not create itself).
            let host = self.root.host_for_read(dest_dir)?;
            let (atime, mtime) = times_of(&meta);
            self.dir_times.push((host, atime, mtime));
            return Ok(());
        }
        if self.spec.extract_archives && super::archive::is_archive(&host_src) {
            self.mkdir_all(dest_dir)?;
            let resolved = self.root.resolve(dest_dir, true)?;
            let extracted = super::archive::extract(&host_src, self.root, &resolved)
                .map_err(|e| CopyError::Io(rel.into(), dest_dir.into(), e))?;
            self.written.extend(extracted);
            return Ok(());
        }
        let name = Path::new(rel)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let target = if into_dir {
            join(dest_dir, &name)
        } else {
            self.as_file(dest_dir)?
        };
        self.parents(&target)?;
        let host = self.target(&target)?;
        if self
            .link_again(&meta, &host)
            .map_err(io_err(rel, &target))?
        {
            return Ok(());
        }
        self.entry(tree, &host_src, &host, &meta)
            .map_err(io_err(rel, &target))
    }

    /// For a file with several links whose inode this step copied already: makes `host` a
    /// hard link to that copy and returns true; otherwise remembers `host` for it.
    fn link_again(&mut self, meta: &fs::Metadata, host: &Path) -> io::Result<bool> {
        if !meta.is_file() || meta.nlink() < 2 {
            return Ok(false);
        }
        let id = (meta.dev(), meta.ino());
        if let Some(first) = self.linked.get(&id) {
            remove_non_dir(host)?;
            fs::hard_link(first, host)?;
            return Ok(true);
        }
        self.linked.insert(id, host.to_path_buf());
        Ok(false)
    }

    /// `--parents`: copies `rel` to `dest_dir` joined with its path below `base`, making the
    /// directories in between (and a directory source itself) as the source has them.
    fn with_parents(
        &mut self,
        tree: &BuildContext,
        base: &str,
        rel: &str,
        dest_dir: &str,
    ) -> Result<(), CopyError> {
        let below = rel
            .strip_prefix(base)
            .map_or(rel, |r| r.trim_start_matches('/'));
        let io = |e: crate::context::ContextError| {
            CopyError::Io(rel.into(), dest_dir.into(), io::Error::other(e.to_string()))
        };
        let host_src = tree.host_path(rel, true).map_err(io)?;
        let is_dir = host_src.is_dir();
        let exclude = &self.spec.exclude;
        if !below.is_empty() && exclude.excludes(below) && (!is_dir || !exclude.has_exceptions()) {
            return Ok(());
        }
        let base_host = tree.host_path(base, true).map_err(io)?;
        self.mkdir_all(dest_dir)?;
        let dirs = if is_dir {
            Path::new(below)
        } else {
            Path::new(below).parent().unwrap_or(Path::new(""))
        };
        self.source_dirs(tree, &base_host, dirs, dest_dir)?;
        let into = join(dest_dir, &dirs.to_string_lossy());
        self.path(tree, rel, &into, true, Some(below))
    }

    /// Makes the directories `dest_dir/<dirs>` (each component) that are missing as their
    /// counterparts below `src` are (mode, times; owner as `--chown` says).
    fn source_dirs(
        &mut self,
        tree: &BuildContext,
        src: &Path,
        dirs: &Path,
        dest_dir: &str,
    ) -> Result<(), CopyError> {
        let mut acc = PathBuf::new();
        for c in dirs.components() {
            acc.push(c);
            let target = join(dest_dir, &acc.to_string_lossy());
            if self.root.is_dir(&target) {
                continue;
            }
            let from = src.join(&acc);
            let meta = fs::metadata(&from).map_err(io_err(&from.to_string_lossy(), &target))?;
            let host = self.target(&target)?;
            self.entry(tree, &from, &host, &meta)
                .map_err(io_err(&target, &target))?;
        }
        Ok(())
    }

    /// Copies the contents of the directory `src` (in `tree`) into `dest_dir`, but what
    /// `--exclude` leaves out (paths below the source, after `below`).
    fn tree(
        &mut self,
        tree: &BuildContext,
        src: &Path,
        dest_dir: &str,
        below: &str,
    ) -> Result<(), CopyError> {
        let exclude = &self.spec.exclude;
        let walker = walkdir::WalkDir::new(src)
            .min_depth(1)
            .follow_links(false)
            .sort_by_file_name();
        let mut it = walker.into_iter();
        while let Some(entry) = it.next() {
            let entry = entry.map_err(|e| io_err(&src.to_string_lossy(), dest_dir)(e.into()))?;
            let rel = entry.path().strip_prefix(src).unwrap_or(entry.path());
            if let Ok(tree_rel) = entry.path().strip_prefix(tree.root()) {
                if tree.excluded(&tree_rel.to_string_lossy()) {
                    if entry.file_type().is_dir() && !tree.ignore_has_exceptions() {
                        it.skip_current_dir();
                    }
                    continue;
                }
            }
            let rel_s = rel.to_string_lossy();
            let from_base = if below.is_empty() {
                rel_s.to_string()
            } else {
                format!("{below}/{rel_s}")
            };
            if exclude.excludes(&from_base) {
                if entry.file_type().is_dir() && !exclude.has_exceptions() {
                    it.skip_current_dir();
                }
                continue;
            }
            let parent = rel.parent().filter(|p| !p.as_os_str().is_empty());
            let reincludes = exclude.has_exceptions() || tree.ignore_has_exceptions();
            if let Some(parent) = parent.filter(|_| reincludes) {
                // Its directory may have been left out by a pattern this entry escapes.
                self.source_dirs(tree, src, parent, dest_dir)?;
            }
            let target = join(dest_dir, &rel_s);
            let resolved = self.root.writable(&target)?;
            let host = self.root.host(&resolved);
            if entry.depth() == 1 {
                // The snapshot walks each top-level entry's tree.
                self.written.push(resolved);
            }
            let meta = entry
                .path()
                .symlink_metadata()
                .map_err(io_err(&rel.to_string_lossy(), &target))?;
            if self
                .link_again(&meta, &host)
                .map_err(io_err(&rel.to_string_lossy(), &target))?
            {
                continue;
            }
            self.entry(tree, entry.path(), &host, &meta)
                .map_err(io_err(&rel.to_string_lossy(), &target))?;
        }
        Ok(())
    }
}
