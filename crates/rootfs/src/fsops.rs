//! Small filesystem operations on host paths that never follow a final symlink: removal,
//! emptying a directory around ignored paths, times and extended attributes.

use crate::resolve::host_path;
use crate::{Error, IgnoreList};
use std::ffi::CString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Removes a file, link or whole directory tree (never following links); absent is fine.
/// Returns whether a directory was removed.
pub fn remove_any(host: &Path) -> Result<bool, Error> {
    match fs::symlink_metadata(host) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(host)
            .map(|_| true)
            .map_err(Error::io("removing", host)),
        Ok(_) => fs::remove_file(host)
            .map(|_| false)
            .map_err(Error::io("removing", host)),
        Err(_) => Ok(false),
    }
}

/// Empties the container directory `dir`, keeping ignored paths below it. A `dir` that is
/// not a real directory (a symlink, say) is left alone: its target is never entered.
pub(crate) fn clear_dir(root: &Path, dir: &Path, ignore: &IgnoreList) -> Result<(), Error> {
    let host = host_path(root, dir);
    match fs::symlink_metadata(&host) {
        Ok(m) if m.is_dir() => {}
        _ => return Ok(()),
    }
    let rd = fs::read_dir(&host).map_err(Error::io("listing", &host))?;
    for e in rd {
        let e = e.map_err(Error::io("listing", &host))?;
        let child = dir.join(e.file_name());
        if ignore.is_ignored(&child) {
            continue;
        }
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && ignore.has_ignored_below(&child) {
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

/// Sets atime and mtime of `host` (not following a symlink) to `mtime` seconds.
pub(crate) fn set_mtime(host: &Path, mtime: i64) -> Result<(), Error> {
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

fn cstr(b: &[u8]) -> io::Result<CString> {
    CString::new(b).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

/// Sets one extended attribute on `host` itself (not a symlink's target).
pub(crate) fn set_xattr(host: &Path, name: &[u8], value: &[u8]) -> io::Result<()> {
    let (p, n) = (cstr(host.as_os_str().as_bytes())?, cstr(name)?);
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
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The extended attributes of `host` itself, sorted by name. Attributes that describe the
/// host rather than the file (`security.selinux`) are left out.
pub(crate) fn xattrs(host: &Path) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let p = cstr(host.as_os_str().as_bytes())?;
    // SAFETY: a null buffer of size 0 asks for the needed size.
    let size = unsafe { libc::llistxattr(p.as_ptr(), std::ptr::null_mut(), 0) };
    if size < 0 {
        let e = io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::ENOTSUP) => Ok(Vec::new()),
            _ => Err(e),
        };
    }
    if size == 0 {
        return Ok(Vec::new());
    }
    let mut names = vec![0u8; size as usize];
    // SAFETY: the buffer holds `names.len()` bytes.
    let got = unsafe { libc::llistxattr(p.as_ptr(), names.as_mut_ptr().cast(), names.len()) };
    if got < 0 {
        return Err(io::Error::last_os_error());
    }
    names.truncate(got as usize);
    let mut out = Vec::new();
    for name in names.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        if name == b"security.selinux" {
            continue;
        }
        let n = cstr(name)?;
        // SAFETY: size query with a null buffer.
        let len = unsafe { libc::lgetxattr(p.as_ptr(), n.as_ptr(), std::ptr::null_mut(), 0) };
        if len < 0 {
            continue; // removed meanwhile
        }
        let mut value = vec![0u8; len as usize];
        // SAFETY: the buffer holds `value.len()` bytes.
        let len = unsafe {
            libc::lgetxattr(
                p.as_ptr(),
                n.as_ptr(),
                value.as_mut_ptr().cast(),
                value.len(),
            )
        };
        if len < 0 {
            continue;
        }
        value.truncate(len as usize);
        out.push((name.to_vec(), value));
    }
    out.sort();
    Ok(out)
}
