//! Helpers for the integration tests: tar streams built entry by entry (raw headers for
//! hostile names), a root with ignored `kaniko/` and `workspace/` directories, and a
//! fingerprint of a tree to prove it was left untouched.
#![allow(dead_code)]

use rootfs::IgnoreList;
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use tar::{EntryType, Header};

/// Builds an uncompressed tar in memory.
pub struct Tar {
    b: tar::Builder<Vec<u8>>,
}

impl Default for Tar {
    fn default() -> Self {
        Self::new()
    }
}

impl Tar {
    pub fn new() -> Self {
        Tar {
            b: tar::Builder::new(Vec::new()),
        }
    }

    /// Any entry, with the name written raw (no validation: `..` and `/abs` pass through).
    pub fn raw(
        &mut self,
        name: &str,
        kind: EntryType,
        mode: u32,
        link: &str,
        data: &[u8],
    ) -> &mut Self {
        let mut h = Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_600_000_000);
        h.set_size(data.len() as u64);
        let old = h.as_old_mut();
        old.name[..name.len()].copy_from_slice(name.as_bytes());
        old.linkname[..link.len()].copy_from_slice(link.as_bytes());
        h.set_cksum();
        self.b.append(&h, data).unwrap();
        self
    }

    pub fn file(&mut self, name: &str, data: &[u8]) -> &mut Self {
        self.raw(name, EntryType::Regular, 0o644, "", data)
    }

    pub fn file_owned(
        &mut self,
        name: &str,
        data: &[u8],
        mode: u32,
        uid: u64,
        gid: u64,
        mtime: u64,
    ) -> &mut Self {
        let mut h = Header::new_gnu();
        h.set_entry_type(EntryType::Regular);
        h.set_mode(mode);
        h.set_uid(uid);
        h.set_gid(gid);
        h.set_mtime(mtime);
        h.set_size(data.len() as u64);
        h.set_cksum();
        self.b.append_data(&mut h, name, data).unwrap();
        self
    }

    pub fn dir(&mut self, name: &str, mode: u32) -> &mut Self {
        self.raw(name, EntryType::Directory, mode, "", b"")
    }

    pub fn symlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.raw(name, EntryType::Symlink, 0o777, target, b"")
    }

    pub fn hardlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.raw(name, EntryType::Link, 0o644, target, b"")
    }

    /// A file carrying PAX xattr records.
    pub fn file_with_xattr(
        &mut self,
        name: &str,
        data: &[u8],
        key: &str,
        value: &[u8],
    ) -> &mut Self {
        let k = format!("SCHILY.xattr.{key}");
        self.b.append_pax_extensions([(k.as_str(), value)]).unwrap();
        self.file(name, data)
    }

    pub fn device(&mut self, name: &str, kind: EntryType, major: u32, minor: u32) -> &mut Self {
        let mut h = Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(0o600);
        h.set_size(0);
        h.set_mtime(1_600_000_000);
        h.set_device_major(major).unwrap();
        h.set_device_minor(minor).unwrap();
        h.set_cksum();
        self.b.append_data(&mut h, name, &b""[..]).unwrap();
        self
    }

    pub fn bytes(&mut self) -> Vec<u8> {
        let b = std::mem::replace(&mut self.b, tar::Builder::new(Vec::new()));
        b.into_inner().unwrap()
    }
}

/// A root with `kaniko/executor` and `workspace/ctx.txt`, both ignored, and an `outside/`
/// sibling directory (outside the root) to detect escapes.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub root: PathBuf,
    pub outside: PathBuf,
    pub ignore: IgnoreList,
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let outside = dir.path().join("outside");
        fs::create_dir_all(root.join("kaniko")).unwrap();
        fs::create_dir_all(root.join("workspace/sub")).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(root.join("kaniko/executor"), b"the real executor").unwrap();
        fs::write(root.join("workspace/ctx.txt"), b"context").unwrap();
        fs::write(root.join("workspace/sub/deep"), b"deep").unwrap();
        fs::write(outside.join("keep"), b"outside").unwrap();
        let ignore = IgnoreList::new([PathBuf::from("/kaniko"), PathBuf::from("/workspace")]);
        Fixture {
            dir,
            root,
            outside,
            ignore,
        }
    }

    /// Fingerprints of the ignored trees and the outside directory.
    pub fn protected(&self) -> BTreeMap<PathBuf, String> {
        let mut m = fingerprint(&self.root.join("kaniko"));
        m.extend(fingerprint(&self.root.join("workspace")));
        m.extend(fingerprint(&self.outside));
        m
    }
}

/// Every path below `dir` with its type, mode, owner, size and content (or link target).
pub fn fingerprint(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).follow_links(false) {
        let e = e.unwrap();
        let m = e.path().symlink_metadata().unwrap();
        let what = if m.file_type().is_symlink() {
            format!("link {:?}", fs::read_link(e.path()).unwrap())
        } else if m.is_file() {
            format!("file {:?}", fs::read(e.path()).unwrap())
        } else {
            "dir".to_string()
        };
        out.insert(
            e.path().to_path_buf(),
            format!(
                "{what} mode={:o} uid={} gid={} nlink={}",
                m.mode(),
                m.uid(),
                m.gid(),
                m.nlink()
            ),
        );
    }
    out
}

/// Entries of an (uncompressed) tar: name → (type, mode, uid, gid, mtime, link, data).
#[derive(Debug, Clone, PartialEq)]
pub struct Got {
    pub kind: EntryType,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
    pub link: String,
    pub data: Vec<u8>,
    pub xattrs: Vec<(String, Vec<u8>)>,
}

pub fn read_tar<R: std::io::Read>(r: R) -> Vec<(String, Got)> {
    use std::io::Read;
    let mut a = tar::Archive::new(r);
    let mut out = Vec::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let name = String::from_utf8(e.path_bytes().into_owned()).unwrap();
        let mut xattrs = Vec::new();
        if let Ok(Some(exts)) = e.pax_extensions() {
            for x in exts {
                let x = x.unwrap();
                if let Some(k) = x.key().unwrap().strip_prefix("SCHILY.xattr.") {
                    xattrs.push((k.to_string(), x.value_bytes().to_vec()));
                }
            }
        }
        let h = e.header().clone();
        let link = e
            .link_name_bytes()
            .map(|b| String::from_utf8(b.into_owned()).unwrap())
            .unwrap_or_default();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        out.push((
            name,
            Got {
                kind: h.entry_type(),
                mode: h.mode().unwrap(),
                uid: h.uid().unwrap(),
                gid: h.gid().unwrap(),
                mtime: h.mtime().unwrap(),
                link,
                data,
                xattrs,
            },
        ));
    }
    out
}
