//! Unpacking one layer (an uncompressed tar stream) over a root: whiteouts and opaque
//! directories, every entry type, owners, modes, mtimes and xattrs. Every name is resolved
//! inside the root, and entries whose resolved path is ignored are skipped.

use crate::resolve::{host_path, resolve_in_root};
use crate::{Error, FileTable, IgnoreList};
use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use tar::EntryType;

const WHITEOUT: &str = ".wh.";
const OPAQUE: &str = ".wh..wh..opq";

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExtractStats {
    pub entries: u64,
    pub skipped: u64,
    pub whiteouts: u64,
}

/// Extracts `tar_stream` over `root`. Entries reaching ignored paths are skipped.
pub fn extract_layer<R: Read>(
    tar_stream: R,
    root: &Path,
    ignore: &IgnoreList,
    mut table: Option<&mut FileTable>,
) -> Result<ExtractStats, Error> {
    let mut archive = tar::Archive::new(tar_stream);
    let mut stats = ExtractStats::default();
    let mut dir_times: Vec<(PathBuf, i64)> = Vec::new();
    // The last (tar parent, resolved parent): entries come grouped by directory. Cleared
    // whenever an entry could change how a path resolves (links, removals, replacements).
    let mut last_parent: Option<(PathBuf, PathBuf)> = None;
    for entry in archive.entries().map_err(Error::Tar)? {
        let mut entry = entry.map_err(Error::Tar)?;
        let raw = entry.path_bytes().into_owned();
        let name = clean(&raw);
        let Some(file_name) = name.file_name().map(OsStr::to_os_string) else {
            continue;
        };
        let raw_parent = name.parent().unwrap_or(Path::new("/"));
        let parent = match &last_parent {
            Some((raw, resolved)) if raw == raw_parent => resolved.clone(),
            _ => {
                let resolved = resolve_in_root(root, raw_parent, true)
                    .map_err(|e| Error::Entry(display(&raw), e.to_string()))?;
                last_parent = Some((raw_parent.to_path_buf(), resolved.clone()));
                resolved
            }
        };
        stats.entries += 1;
        let fname = file_name.as_bytes();
        if fname == OPAQUE.as_bytes() {
            stats.whiteouts += 1;
            last_parent = None;
            if !ignore.is_ignored(&parent) {
                clear_dir(root, &parent, ignore)?;
            }
            continue;
        }
        if let Some(hidden) = fname.strip_prefix(WHITEOUT.as_bytes()) {
            stats.whiteouts += 1;
            last_parent = None;
            let target = parent.join(OsStr::from_bytes(hidden));
            if ignore.paths().iter().any(|i| i.starts_with(&target)) {
                clear_dir(root, &target, ignore)?;
            } else if !ignore.is_ignored(&target) {
                remove_any(&host_path(root, &target))?;
                if let Some(t) = table.as_deref_mut() {
                    t.remove_tree(&target);
                }
            }
            continue;
        }
        let target = parent.join(&file_name);
        if last_parent
            .as_ref()
            .is_some_and(|(raw, res)| raw.starts_with(&name) || res.starts_with(&target))
        {
            last_parent = None;
        }
        if ignore.is_ignored(&target) {
            stats.skipped += 1;
            continue;
        }
        let host = host_path(root, &target);
        let host_parent = host_path(root, &parent);
        fs::create_dir_all(&host_parent).map_err(Error::io("creating", &host_parent))?;
        let header = entry.header().clone();
        let mode = header.mode().unwrap_or(0o644) & 0o7777;
        let kind = header.entry_type();
        if !matches!(kind, EntryType::Regular | EntryType::Continuous) {
            last_parent = None;
        }
        match kind {
            EntryType::Directory => match fs::symlink_metadata(&host) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    fs::remove_file(&host).map_err(Error::io("replacing", &host))?;
                    fs::create_dir(&host).map_err(Error::io("creating", &host))?;
                }
                Err(_) => fs::create_dir(&host).map_err(Error::io("creating", &host))?,
            },
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                remove_any(&host)?;
                let mut f = fs::File::create(&host).map_err(Error::io("creating", &host))?;
                io::copy(&mut entry, &mut f).map_err(Error::io("writing", &host))?;
            }
            EntryType::Symlink => {
                let link = header
                    .link_name_bytes()
                    .map(|b| b.into_owned())
                    .unwrap_or_default();
                remove_any(&host)?;
                std::os::unix::fs::symlink(OsStr::from_bytes(&link), &host)
                    .map_err(Error::io("symlinking", &host))?;
            }
            EntryType::Link => {
                let link = header
                    .link_name_bytes()
                    .map(|b| b.into_owned())
                    .unwrap_or_default();
                let lname = clean(&link);
                let lparent = resolve_in_root(root, lname.parent().unwrap_or(Path::new("/")), true)
                    .map_err(|e| Error::Entry(display(&raw), e.to_string()))?;
                let ltarget = lparent.join(lname.file_name().unwrap_or_default());
                if ignore.is_ignored(&ltarget) {
                    stats.skipped += 1;
                    continue;
                }
                remove_any(&host)?;
                fs::hard_link(host_path(root, &ltarget), &host)
                    .map_err(Error::io("linking", &host))?;
                continue; // metadata is the target's
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                remove_any(&host)?;
                let sflag = match kind {
                    EntryType::Char => nix::sys::stat::SFlag::S_IFCHR,
                    EntryType::Block => nix::sys::stat::SFlag::S_IFBLK,
                    _ => nix::sys::stat::SFlag::S_IFIFO,
                };
                let dev = nix::sys::stat::makedev(
                    u64::from(header.device_major().ok().flatten().unwrap_or(0)),
                    u64::from(header.device_minor().ok().flatten().unwrap_or(0)),
                );
                nix::sys::stat::mknod(
                    &host,
                    sflag,
                    nix::sys::stat::Mode::from_bits_truncate(mode),
                    dev,
                )
                .map_err(|e| Error::io("mknod", &host)(e.into()))?;
            }
            _ => {
                stats.skipped += 1;
                continue;
            }
        }
        let uid = header.uid().unwrap_or(0) as u32;
        let gid = header.gid().unwrap_or(0) as u32;
        std::os::unix::fs::lchown(&host, Some(uid), Some(gid))
            .map_err(Error::io("chown", &host))?;
        if kind != EntryType::Symlink {
            fs::set_permissions(&host, fs::Permissions::from_mode(mode))
                .map_err(Error::io("chmod", &host))?;
        }
        if let Ok(Some(exts)) = entry.pax_extensions() {
            for ext in exts.flatten() {
                if let Some(attr) = ext.key_bytes().strip_prefix(b"SCHILY.xattr.") {
                    set_xattr(&host, attr, ext.value_bytes());
                }
            }
        }
        let mtime = header.mtime().unwrap_or(0) as i64;
        if kind == EntryType::Directory {
            dir_times.push((host.clone(), mtime));
        } else {
            set_mtime(&host, mtime)?;
        }
        if let Some(t) = table.as_deref_mut() {
            t.record(root, &target);
        }
    }
    for (dir, mtime) in dir_times.iter().rev() {
        set_mtime(dir, *mtime)?;
    }
    Ok(stats)
}

fn display(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).into_owned()
}

/// A tar name as a container-absolute path (`./a/b/` → `/a/b`).
fn clean(raw: &[u8]) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in Path::new(OsStr::from_bytes(raw)).components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => out.push(".."),
            _ => {}
        }
    }
    out
}

fn set_mtime(host: &Path, mtime: i64) -> Result<(), Error> {
    let t = nix::sys::time::TimeSpec::new(mtime, 0);
    nix::sys::stat::utimensat(
        None,
        host,
        &t,
        &t,
        nix::sys::stat::UtimensatFlags::NoFollowSymlink,
    )
    .map_err(|e| Error::io("setting times of", host)(e.into()))
}

fn set_xattr(host: &Path, name: &[u8], value: &[u8]) {
    let (Ok(p), Ok(n)) = (
        std::ffi::CString::new(host.as_os_str().as_bytes()),
        std::ffi::CString::new(name),
    ) else {
        return;
    };
    // SAFETY: valid C strings and a value buffer with its length.
    let rc = unsafe {
        libc::lsetxattr(
            p.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    if rc != 0 {
        tracing::debug!(
            "setting xattr on {}: {}",
            host.display(),
            io::Error::last_os_error()
        );
    }
}

/// Removes a file, link or whole directory tree (never following links); absent is fine.
pub(crate) fn remove_any(host: &Path) -> Result<(), Error> {
    match fs::symlink_metadata(host) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(host).map_err(Error::io("removing", host)),
        Ok(_) => fs::remove_file(host).map_err(Error::io("removing", host)),
        Err(_) => Ok(()),
    }
}

/// Empties a directory, keeping ignored paths below it.
fn clear_dir(root: &Path, dir: &Path, ignore: &IgnoreList) -> Result<(), Error> {
    let host = host_path(root, dir);
    let Ok(rd) = fs::read_dir(&host) else {
        return Ok(());
    };
    for e in rd.flatten() {
        let child = dir.join(e.file_name());
        if ignore.is_ignored(&child) {
            continue;
        }
        if ignore.paths().iter().any(|i| i.starts_with(&child)) {
            clear_dir(root, &child, ignore)?;
        } else {
            remove_any(&e.path())?;
        }
    }
    Ok(())
}

/// Deletes everything under `root` but the ignored paths (between stages, `--cleanup`).
pub fn clean_root(root: &Path, ignore: &IgnoreList) -> Result<(), Error> {
    clear_dir(root, Path::new("/"), ignore)
}
