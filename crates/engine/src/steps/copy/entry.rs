//! Writing one entry of a COPY/ADD: a file made here (heredoc, download) or a copy of a
//! source entry (directory, symlink, file) with `--chown`/`--chmod` applied and the source's
//! times. Sockets, devices and fifos in a source are skipped, as Docker does.

use super::chmod::Chmod;
use nix::sys::time::TimeSpec;
use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// What an entry is written with.
pub struct Attrs<'a> {
    pub owner: Option<(u32, u32)>,
    pub mode: Option<&'a Chmod>,
}

/// Where a download or generated file's bytes come from.
pub enum Content {
    Bytes(Vec<u8>),
    /// A file in the work directory (a download), moved into place.
    Host(PathBuf),
}

/// A directory's atime and mtime, to set again once its contents are written.
pub type DirTimes = (PathBuf, TimeSpec, TimeSpec);

/// Writes a generated or downloaded file whose own mode is `mode`.
pub fn write_file(host: &Path, content: &Content, mode: u32, a: &Attrs<'_>) -> io::Result<()> {
    remove_non_dir(host)?;
    match content {
        Content::Bytes(b) => fs::write(host, b)?,
        Content::Host(p) => {
            if fs::rename(p, host).is_err() {
                // Across file systems: a copy, with the download's mtime kept.
                fs::copy(p, host)?;
                fs::File::options()
                    .write(true)
                    .open(host)?
                    .set_modified(fs::metadata(p)?.modified()?)?;
            }
        }
    }
    let (uid, gid) = a.owner.unwrap_or((0, 0));
    std::os::unix::fs::lchown(host, Some(uid), Some(gid))?;
    let mode = a.mode.map_or(mode, |c| c.apply(mode, false));
    fs::set_permissions(host, fs::Permissions::from_mode(mode))
}

pub fn remove_non_dir(p: &Path) -> io::Result<()> {
    match fs::symlink_metadata(p) {
        Ok(m) if !m.is_dir() => fs::remove_file(p),
        _ => Ok(()),
    }
}

/// Copies the entry `src` (metadata `meta`) to `dst`, owned as `--chown` says, else as the
/// source is when `keep_owner` (a stage's or an image's files; fsutil's copier keeps them),
/// else by root (the build context, which BuildKit receives without owners). For a
/// directory it returns its times, which the caller sets again after writing its contents.
pub fn copy_entry(
    src: &Path,
    dst: &Path,
    meta: &fs::Metadata,
    a: &Attrs<'_>,
    keep_owner: bool,
) -> io::Result<Option<DirTimes>> {
    let ft = meta.file_type();
    if ft.is_dir() {
        match fs::symlink_metadata(dst) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                fs::remove_file(dst)?;
                fs::create_dir(dst)?;
            }
            Err(_) => fs::create_dir(dst)?,
        }
    } else if ft.is_symlink() {
        remove_non_dir(dst)?;
        std::os::unix::fs::symlink(fs::read_link(src)?, dst)?;
    } else if ft.is_file() {
        remove_non_dir(dst)?;
        fs::copy(src, dst)?;
    } else {
        return Ok(None);
    }
    let source = if keep_owner {
        (meta.uid(), meta.gid())
    } else {
        (0, 0)
    };
    let (uid, gid) = a.owner.unwrap_or(source);
    std::os::unix::fs::lchown(dst, Some(uid), Some(gid))?;
    if !ft.is_symlink() {
        let own = meta.mode() & 0o7777;
        let mode = a.mode.map_or(own, |c| c.apply(own, ft.is_dir()));
        fs::set_permissions(dst, fs::Permissions::from_mode(mode))?;
    }
    let times = times_of(meta);
    set_times(dst, &times.0, &times.1)?;
    Ok(ft.is_dir().then(|| (dst.to_path_buf(), times.0, times.1)))
}

/// The atime and mtime in `meta`.
pub fn times_of(meta: &fs::Metadata) -> (TimeSpec, TimeSpec) {
    (
        TimeSpec::new(meta.atime(), meta.atime_nsec()),
        TimeSpec::new(meta.mtime(), meta.mtime_nsec()),
    )
}

/// Sets `p`'s times, not following a symlink.
pub fn set_times(p: &Path, atime: &TimeSpec, mtime: &TimeSpec) -> io::Result<()> {
    nix::sys::stat::utimensat(
        None,
        p,
        atime,
        mtime,
        nix::sys::stat::UtimensatFlags::NoFollowSymlink,
    )
    .map_err(io::Error::from)
}
