//! Unpacking one layer (an uncompressed tar stream) over a root: whiteouts and opaque
//! directories, every entry type, owners, modes, mtimes and xattrs. Every name is resolved
//! inside the root, and entries whose resolved path is ignored are skipped.

use crate::fsops::{remove_any, set_mtime};
use crate::resolve::{host_path, resolve_in_root};
use crate::{Error, FileTable, IgnoreList};
use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use tar::EntryType;

mod attrs;
mod header_guard;
mod names;
mod whiteout;

use attrs::mknod;
use header_guard::HeaderGuard;
use names::{clean, confined, lossy};

const WHITEOUT: &[u8] = b".wh.";
const META_PREFIX: &[u8] = b".wh..wh.";
const OPAQUE: &[u8] = b".wh..wh..opq";
const COPY_BUF: usize = 1 << 20;

/// Counts of what one layer did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExtractStats {
    /// Entries read from the tar (whiteouts included).
    pub entries: u64,
    /// Entries left out: ignored targets, unsupported types, invalid names.
    pub skipped: u64,
    /// Whiteouts and opaque markers applied.
    pub whiteouts: u64,
}

/// Extracts `tar_stream` over `root`, reading it to its end (past the tar's end marker).
/// Entries reaching ignored paths are skipped. With a table, every path the layer touched is
/// recorded in it once the layer is complete.
pub fn extract_layer<R: Read>(
    tar_stream: R,
    root: &Path,
    ignore: &IgnoreList,
    table: Option<&mut FileTable>,
) -> Result<ExtractStats, Error> {
    extract_tar(tar_stream, root, ignore, table, ExtractOptions::layer())
}

/// How a tar is read: as an image layer, or as an archive ADD unpacks under a directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtractOptions {
    /// `.wh.` names delete lower files (layers); otherwise they are ordinary files.
    pub whiteouts: bool,
    /// The `./` entry's mode, owner and mtime apply to the root directory itself.
    pub root_metadata: bool,
    /// A container directory every name is placed under (names are first cleaned as if
    /// rooted, so `..` cannot climb above it).
    pub under: Option<PathBuf>,
}

impl ExtractOptions {
    pub fn layer() -> ExtractOptions {
        ExtractOptions {
            whiteouts: true,
            root_metadata: true,
            under: None,
        }
    }

    /// An archive extracted into the container directory `dir`.
    pub fn archive(dir: &Path) -> ExtractOptions {
        ExtractOptions {
            whiteouts: false,
            root_metadata: false,
            under: Some(dir.to_path_buf()),
        }
    }
}

/// [`extract_layer`] with explicit [`ExtractOptions`].
pub fn extract_tar<R: Read>(
    tar_stream: R,
    root: &Path,
    ignore: &IgnoreList,
    table: Option<&mut FileTable>,
    opts: ExtractOptions,
) -> Result<ExtractStats, Error> {
    let mut x = Extractor {
        opts,
        root,
        ignore,
        stats: ExtractStats::default(),
        dir_times: Vec::new(),
        last_parent: None,
        parent_made: None,
        touched: HashSet::new(),
        extra: Vec::new(),
        removed: Vec::new(),
        buf: vec![0u8; COPY_BUF],
    };
    let mut archive = tar::Archive::new(HeaderGuard::new(tar_stream));
    for entry in archive.entries().map_err(Error::Tar)? {
        let entry = entry.map_err(Error::Tar)?;
        x.entry(entry)?;
    }
    // The tar's end marker is not the end of the stream: reading on to the end is what lets
    // a verifying reader check the whole blob before the layer is trusted.
    std::io::copy(&mut archive.into_inner().into_inner(), &mut std::io::sink())
        .map_err(Error::Tar)?;
    x.finish(table)
}

struct Extractor<'a> {
    opts: ExtractOptions,
    root: &'a Path,
    ignore: &'a IgnoreList,
    stats: ExtractStats,
    /// Directory mtimes, set last (creating children changes them).
    dir_times: Vec<(PathBuf, i64)>,
    /// The last (tar parent, resolved parent): entries come grouped by directory. Cleared
    /// whenever an entry could change how a path resolves (links, removals, replacements).
    last_parent: Option<(PathBuf, PathBuf)>,
    /// The resolved parent last made sure to exist (cleared with `last_parent`).
    parent_made: Option<PathBuf>,
    /// Container paths written by this layer and their ancestors: whiteouts and opaque
    /// markers apply to lower layers only, so they spare these.
    touched: HashSet<PathBuf>,
    /// Other paths whose metadata this layer changed (parents of whiteouts, link targets).
    extra: Vec<PathBuf>,
    /// Trees removed by this layer (to forget in the table).
    removed: Vec<PathBuf>,
    buf: Vec<u8>,
}

impl Extractor<'_> {
    fn entry<R: Read>(&mut self, mut entry: tar::Entry<'_, R>) -> Result<(), Error> {
        let raw = entry.path_bytes().into_owned();
        let name = match &self.opts.under {
            Some(dir) => confined(dir, &raw),
            None => clean(&raw),
        };
        let Some(file_name) = name.file_name().map(OsStr::to_os_string) else {
            // The root itself (or a name ending in `..`, which cleans to it).
            let is_root = name == Path::new("/");
            if is_root && self.opts.root_metadata && entry.header().entry_type().is_dir() {
                self.root_entry(entry.header())?;
            }
            return Ok(());
        };
        self.stats.entries += 1;
        let parent = self.parent_of(&name, &raw)?;
        let fname = file_name.as_bytes();
        if self.opts.whiteouts {
            if fname == OPAQUE {
                return self.opaque(&parent);
            }
            if fname.starts_with(META_PREFIX) {
                self.stats.skipped += 1; // aufs metadata (`.wh..wh.plnk` ...)
                return Ok(());
            }
            if let Some(hidden) = fname.strip_prefix(WHITEOUT) {
                return self.whiteout(&parent, hidden);
            }
        }
        let target = parent.join(&file_name);
        if self
            .last_parent
            .as_ref()
            .is_some_and(|(raw, res)| raw.starts_with(&name) || res.starts_with(&target))
        {
            self.invalidate();
        }
        let header = entry.header().clone();
        let kind = header.entry_type();
        if self.ignore.is_ignored(&target) {
            tracing::debug!(
                "skipping {} (ignored path {})",
                lossy(&raw),
                target.display()
            );
            self.stats.skipped += 1;
            return Ok(());
        }
        if kind != EntryType::Directory && self.ignore.has_ignored_below(&target) {
            tracing::debug!("skipping {}: would replace an ignored path", lossy(&raw));
            self.stats.skipped += 1;
            return Ok(());
        }
        if !matches!(kind, EntryType::Regular | EntryType::Continuous) {
            self.invalidate();
        }
        let host = host_path(self.root, &target);
        let host_parent = host_path(self.root, &parent);
        if self.parent_made.as_deref() != Some(parent.as_path()) {
            fs::create_dir_all(&host_parent).map_err(Error::io("creating", &host_parent))?;
            self.parent_made = Some(parent.clone());
        }
        if !self.create(&mut entry, &header, &raw, &target, &host)? {
            return Ok(());
        }
        self.metadata(&mut entry, &header, host)?;
        self.touch(target);
        Ok(())
    }

    /// Creates the entry's object at `host`; false when it was skipped or is a hard link
    /// (which takes its target's metadata).
    fn create<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        header: &tar::Header,
        raw: &[u8],
        target: &Path,
        host: &Path,
    ) -> Result<bool, Error> {
        let kind = header.entry_type();
        let mode = header.mode().unwrap_or(0o644) & 0o7777;
        match kind {
            EntryType::Directory => match fs::symlink_metadata(host) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    fs::remove_file(host).map_err(Error::io("replacing", host))?;
                    fs::create_dir(host).map_err(Error::io("creating", host))?;
                }
                Err(_) => fs::create_dir(host).map_err(Error::io("creating", host))?,
            },
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                self.replace(target, host)?;
                let mut f = fs::File::create(host).map_err(Error::io("creating", host))?;
                loop {
                    let n = entry.read(&mut self.buf).map_err(Error::Tar)?;
                    if n == 0 {
                        break;
                    }
                    f.write_all(&self.buf[..n])
                        .map_err(Error::io("writing", host))?;
                }
            }
            EntryType::Symlink => {
                let link = header.link_name_bytes().unwrap_or_default().into_owned();
                self.replace(target, host)?;
                std::os::unix::fs::symlink(OsStr::from_bytes(&link), host)
                    .map_err(Error::io("symlinking", host))?;
            }
            EntryType::Link => {
                let link = header.link_name_bytes().unwrap_or_default().into_owned();
                self.hardlink(raw, target, host, &link)?;
                return Ok(false);
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                self.replace(target, host)?;
                if !mknod(host, kind, header, mode)? {
                    self.stats.skipped += 1;
                    return Ok(false);
                }
            }
            _ => {
                tracing::debug!("skipping {}: unsupported entry type {kind:?}", lossy(raw));
                self.stats.skipped += 1;
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Forgets cached resolutions: the entry at hand may change how paths resolve.
    fn invalidate(&mut self) {
        self.last_parent = None;
        self.parent_made = None;
    }

    /// The resolved parent of a cleaned tar name (cached for runs of siblings).
    fn parent_of(&mut self, name: &Path, raw: &[u8]) -> Result<PathBuf, Error> {
        let raw_parent = name.parent().unwrap_or(Path::new("/"));
        if let Some((r, resolved)) = &self.last_parent {
            if r == raw_parent {
                return Ok(resolved.clone());
            }
        }
        let resolved = resolve_in_root(self.root, raw_parent, true)
            .map_err(|e| Error::Entry(lossy(raw), e.to_string()))?;
        self.last_parent = Some((raw_parent.to_path_buf(), resolved.clone()));
        Ok(resolved)
    }

    /// Removes whatever is at `host` before a non-directory entry takes its place.
    fn replace(&mut self, target: &Path, host: &Path) -> Result<(), Error> {
        if remove_any(host)? {
            self.removed.push(target.to_path_buf());
        }
        Ok(())
    }

    fn hardlink(
        &mut self,
        raw: &[u8],
        target: &Path,
        host: &Path,
        link: &[u8],
    ) -> Result<(), Error> {
        let lname = clean(link);
        let Some(lfile) = lname.file_name() else {
            return Err(Error::Entry(lossy(raw), "hard link to a directory".into()));
        };
        let lparent = resolve_in_root(self.root, lname.parent().unwrap_or(Path::new("/")), true)
            .map_err(|e| Error::Entry(lossy(raw), e.to_string()))?;
        let ltarget = lparent.join(lfile);
        if self.ignore.is_ignored(&ltarget) {
            tracing::debug!(
                "skipping {}: hard link to ignored {}",
                lossy(raw),
                ltarget.display()
            );
            self.stats.skipped += 1;
            return Ok(());
        }
        if ltarget == target {
            return Ok(());
        }
        self.replace(target, host)?;
        let lhost = host_path(self.root, &ltarget);
        fs::hard_link(&lhost, host).map_err(Error::io("linking", host))?;
        // The metadata is the target's; its ctime (link count) changed.
        self.extra.push(ltarget);
        self.touch(target.to_path_buf());
        Ok(())
    }

    fn touch(&mut self, target: PathBuf) {
        let mut p = target.parent().map(Path::to_path_buf);
        self.touched.insert(target);
        while let Some(a) = p {
            if a == Path::new("/") || !self.touched.insert(a.clone()) {
                break;
            }
            p = a.parent().map(Path::to_path_buf);
        }
    }

    /// Sets directory times and brings the table up to date.
    fn finish(self, table: Option<&mut FileTable>) -> Result<ExtractStats, Error> {
        for (dir, mtime) in self.dir_times.iter().rev() {
            set_mtime(dir, *mtime)?;
        }
        if let Some(t) = table {
            t.remove_trees(&self.removed);
            t.record_all(self.root, self.touched.iter().chain(&self.extra));
        }
        Ok(self.stats)
    }
}
