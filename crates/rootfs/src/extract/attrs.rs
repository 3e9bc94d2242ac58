//! The attributes of extracted entries: owner, mode, xattrs and mtime (directories' at the
//! end), the root directory's own, and device nodes and fifos.

use super::Extractor;
use crate::fsops::{set_mtime, set_xattr};
use crate::Error;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use tar::EntryType;

impl Extractor<'_> {
    /// Owner, mode (after chown, which clears setuid/setgid bits) and xattrs of a created
    /// entry; its mtime is set at once, or at the end for directories.
    pub(super) fn metadata<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        header: &tar::Header,
        host: PathBuf,
    ) -> Result<(), Error> {
        let kind = header.entry_type();
        let uid = header.uid().unwrap_or(0) as u32;
        let gid = header.gid().unwrap_or(0) as u32;
        std::os::unix::fs::lchown(&host, Some(uid), Some(gid))
            .map_err(Error::io("chown", &host))?;
        if kind != EntryType::Symlink {
            let mode = header.mode().unwrap_or(0o644) & 0o7777;
            fs::set_permissions(&host, fs::Permissions::from_mode(mode))
                .map_err(Error::io("chmod", &host))?;
        }
        if let Ok(Some(exts)) = entry.pax_extensions() {
            for ext in exts.flatten() {
                if let Some(attr) = ext.key_bytes().strip_prefix(b"SCHILY.xattr.") {
                    if let Err(e) = set_xattr(&host, attr, ext.value_bytes()) {
                        tracing::debug!("setting xattr on {}: {e}", host.display());
                    }
                }
            }
        }
        let mtime = header.mtime().unwrap_or(0) as i64;
        if kind == EntryType::Directory {
            self.dir_times.push((host, mtime));
        } else {
            set_mtime(&host, mtime)?;
        }
        Ok(())
    }

    /// A `./` entry: the root directory takes its mode, owner and mtime (never removed).
    pub(super) fn root_entry(&mut self, header: &tar::Header) -> Result<(), Error> {
        let mode = header.mode().unwrap_or(0o755) & 0o7777;
        let uid = header.uid().unwrap_or(0) as u32;
        let gid = header.gid().unwrap_or(0) as u32;
        std::os::unix::fs::lchown(self.root, Some(uid), Some(gid))
            .map_err(Error::io("chown", self.root))?;
        fs::set_permissions(self.root, fs::Permissions::from_mode(mode))
            .map_err(Error::io("chmod", self.root))?;
        let mtime = header.mtime().unwrap_or(0) as i64;
        self.dir_times.push((self.root.to_path_buf(), mtime));
        Ok(())
    }
}

/// Creates a device or fifo; `Ok(false)` when not permitted here (no CAP_MKNOD).
pub(super) fn mknod(
    host: &Path,
    kind: EntryType,
    header: &tar::Header,
    mode: u32,
) -> Result<bool, Error> {
    use nix::sys::stat::{makedev, Mode, SFlag};
    let sflag = match kind {
        EntryType::Char => SFlag::S_IFCHR,
        EntryType::Block => SFlag::S_IFBLK,
        _ => SFlag::S_IFIFO,
    };
    let dev = makedev(
        u64::from(header.device_major().ok().flatten().unwrap_or(0)),
        u64::from(header.device_minor().ok().flatten().unwrap_or(0)),
    );
    match nix::sys::stat::mknod(host, sflag, Mode::from_bits_truncate(mode), dev) {
        Ok(()) => Ok(true),
        Err(nix::errno::Errno::EPERM) => {
            tracing::warn!(
                "cannot create device {}: not permitted, skipped",
                host.display()
            );
            Ok(false)
        }
        Err(e) => Err(Error::io("mknod", host)(e.into())),
    }
}
