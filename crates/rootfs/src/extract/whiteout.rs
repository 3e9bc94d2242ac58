//! Whiteouts (`.wh.<name>`) and opaque directories (`.wh..wh..opq`): removals of lower
//! layers' files that spare ignored paths and what this layer itself wrote.

use super::Extractor;
use crate::fsops::remove_any;
use crate::resolve::host_path;
use crate::Error;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

impl Extractor<'_> {
    /// `.wh.<name>`: removes `<name>` of lower layers, sparing ignored paths.
    pub(super) fn whiteout(&mut self, parent: &Path, hidden: &[u8]) -> Result<(), Error> {
        self.invalidate();
        if hidden.is_empty() || hidden == b"." || hidden == b".." {
            self.stats.skipped += 1;
            return Ok(());
        }
        self.stats.whiteouts += 1;
        let target = parent.join(OsStr::from_bytes(hidden));
        if self.ignore.is_ignored(&target) {
            tracing::debug!("whiteout of ignored {} skipped", target.display());
            return Ok(());
        }
        if self.touched.contains(&target) || self.ignore.has_ignored_below(&target) {
            self.clear(&target)?;
        } else {
            remove_any(&host_path(self.root, &target))?;
        }
        self.removed.push(target.clone());
        self.extra.push(target);
        self.extra.push(parent.to_path_buf());
        Ok(())
    }

    /// `.wh..wh..opq`: empties the directory of lower layers' content.
    pub(super) fn opaque(&mut self, dir: &Path) -> Result<(), Error> {
        self.invalidate();
        self.stats.whiteouts += 1;
        if self.ignore.is_ignored(dir) {
            return Ok(());
        }
        self.clear(dir)?;
        self.removed.push(dir.to_path_buf());
        self.extra.push(dir.to_path_buf());
        Ok(())
    }

    /// Empties a container directory, keeping ignored paths and what this layer wrote.
    fn clear(&self, dir: &Path) -> Result<(), Error> {
        let host = host_path(self.root, dir);
        match fs::symlink_metadata(&host) {
            Ok(m) if m.is_dir() => {}
            _ => return Ok(()), // never enter a symlink's target
        }
        let rd = fs::read_dir(&host).map_err(Error::io("listing", &host))?;
        for e in rd {
            let e = e.map_err(Error::io("listing", &host))?;
            let child = dir.join(e.file_name());
            if self.ignore.is_ignored(&child) {
                continue;
            }
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            let keep = self.touched.contains(&child);
            if is_dir && (keep || self.ignore.has_ignored_below(&child)) {
                self.clear(&child)?;
            } else if !keep {
                remove_any(&e.path())?;
            }
        }
        Ok(())
    }
}
