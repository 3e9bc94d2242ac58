//! Reading a root file system as its own processes would see it: every path resolved inside
//! the root (symlinks with absolute targets stay in it, `..` never climbs out), files opened
//! without following a last symlink, and every read bounded.

use crate::Error;
use rootfs::{host_path, resolve_in_root};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Largest database or list file read whole.
pub(crate) const MAX_TEXT: u64 = 256 << 20;

/// What a package database's path is in the root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    File,
    Symlink,
    Directory,
    Other,
}

pub(crate) struct Root {
    dir: PathBuf,
    /// Host directory of each container directory resolved so far (`None`: not there).
    dirs: HashMap<String, Option<PathBuf>>,
}

impl Root {
    pub(crate) fn new(dir: &Path) -> Self {
        Root {
            dir: dir.to_path_buf(),
            dirs: HashMap::new(),
        }
    }

    /// The host path of container path `p`, every symlink on the way followed inside the root.
    pub(crate) fn host(&self, p: &str) -> Result<PathBuf, Error> {
        let resolved =
            resolve_in_root(&self.dir, Path::new(p), true).map_err(|e| Error::io(p, e))?;
        Ok(host_path(&self.dir, &resolved))
    }

    /// The whole of file `p`, `None` when it does not exist; more than `limit` bytes fails.
    pub(crate) fn read(&self, p: &str, limit: u64) -> Result<Option<Vec<u8>>, Error> {
        let host = self.host(p)?;
        let file = match open_nofollow(&host) {
            Ok(f) => f,
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
                return Ok(None)
            }
            Err(e) => return Err(Error::io(p, e)),
        };
        let meta = file.metadata().map_err(|e| Error::io(p, e))?;
        if !meta.is_file() {
            return Ok(None);
        }
        let mut buf = Vec::new();
        file.take(limit + 1)
            .read_to_end(&mut buf)
            .map_err(|e| Error::io(p, e))?;
        if buf.len() as u64 > limit {
            return Err(Error::TooLarge {
                path: p.into(),
                limit,
            });
        }
        Ok(Some(buf))
    }

    /// Names in directory `p`, sorted; empty when it does not exist.
    pub(crate) fn list(&self, p: &str) -> Result<Vec<String>, Error> {
        let host = self.host(p)?;
        let entries = match std::fs::read_dir(&host) {
            Ok(e) => e,
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
                return Ok(Vec::new())
            }
            Err(e) => return Err(Error::io(p, e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(p, e))?;
            if let Some(n) = entry.file_name().to_str() {
                names.push(n.to_string());
            }
        }
        names.sort();
        Ok(names)
    }

    /// What container path `p` is (its last component not followed), `None` when absent.
    /// Directories are resolved once each, so a package's thousand files cost a thousand
    /// `lstat`s, not a resolution each.
    pub(crate) fn kind(&mut self, p: &str) -> Option<Kind> {
        let (parent, name) = match p.trim_end_matches('/').rsplit_once('/') {
            Some((d, n)) if !n.is_empty() && n != "." && n != ".." => (d, n),
            _ => return None,
        };
        let dir = match self.dirs.get(parent) {
            Some(d) => d.clone(),
            None => {
                let d = self.host(if parent.is_empty() { "/" } else { parent }).ok();
                self.dirs.insert(parent.to_string(), d.clone());
                d
            }
        }?;
        let meta = std::fs::symlink_metadata(dir.join(name)).ok()?;
        let t = meta.file_type();
        Some(if t.is_file() {
            Kind::File
        } else if t.is_symlink() {
            Kind::Symlink
        } else if t.is_dir() {
            Kind::Directory
        } else {
            Kind::Other
        })
    }
}

fn open_nofollow(p: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn absolute_symlinks_stay_inside_the_root() {
        let t = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("status"), "host\n").unwrap();
        std::fs::create_dir_all(t.path().join("var/lib")).unwrap();
        symlink(outside.path(), t.path().join("var/lib/dpkg")).unwrap();
        let root = Root::new(t.path());
        assert_eq!(root.read("/var/lib/dpkg/status", 100).unwrap(), None);
        std::fs::create_dir_all(t.path().join(outside.path().strip_prefix("/").unwrap())).unwrap();
        std::fs::write(
            t.path()
                .join(outside.path().strip_prefix("/").unwrap())
                .join("status"),
            "inside\n",
        )
        .unwrap();
        assert_eq!(
            root.read("/var/lib/dpkg/status", 100).unwrap().unwrap(),
            b"inside\n"
        );
    }

    #[test]
    fn reads_are_bounded_and_kinds_not_followed() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("usr/bin")).unwrap();
        std::fs::write(t.path().join("usr/bin/big"), vec![b'x'; 10]).unwrap();
        symlink("usr/bin", t.path().join("bin")).unwrap();
        symlink("/etc/shadow", t.path().join("usr/bin/link")).unwrap();
        let mut root = Root::new(t.path());
        assert!(matches!(
            root.read("/bin/big", 9),
            Err(Error::TooLarge { .. })
        ));
        assert_eq!(root.read("/bin/big", 10).unwrap().unwrap().len(), 10);
        assert_eq!(root.kind("/bin/big"), Some(Kind::File));
        assert_eq!(root.kind("/usr/bin/link"), Some(Kind::Symlink));
        assert_eq!(root.kind("/usr/bin"), Some(Kind::Directory));
        assert_eq!(root.kind("/usr/bin/missing"), None);
        assert_eq!(root.read("/usr/bin/link", 100).unwrap(), None);
    }
}
