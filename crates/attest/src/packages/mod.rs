//! Installed packages of a root, read from its package databases only (no file is hashed):
//! dpkg (`/var/lib/dpkg/status`, `status.d/` as distroless images have it), apk
//! (`/lib/apk/db/installed`) and rpm (`rpmdb.sqlite`). Each package's files are the ones
//! its database lists that are in the root (not directories), with the digests the
//! database records.

mod apk;
mod dpkg;
mod paragraphs;
mod rpmdb;

use crate::inroot::{Kind, Root};
use crate::os::{self, OsRelease};
use crate::Error;
use std::path::Path;

/// Which package manager installed a package.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ecosystem {
    Deb,
    Apk,
    Rpm,
}

impl Ecosystem {
    /// The Package URL type: `deb`, `apk`, `rpm`.
    pub fn purl_type(self) -> &'static str {
        match self {
            Ecosystem::Deb => "deb",
            Ecosystem::Apk => "apk",
            Ecosystem::Rpm => "rpm",
        }
    }
}

/// The package a binary package was built from (dpkg `Source`, apk `o:`, rpm `SOURCERPM`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourcePackage {
    pub name: String,
    /// When the database records it (dpkg `Source: name (version)`, the rpm file name).
    pub version: Option<String>,
}

/// A digest algorithm as SPDX names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Algorithm {
    pub fn spdx_name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha224 => "SHA224",
            Algorithm::Sha256 => "SHA256",
            Algorithm::Sha384 => "SHA384",
            Algorithm::Sha512 => "SHA512",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Algorithm::Md5 => 32,
            Algorithm::Sha1 => 40,
            Algorithm::Sha224 => 56,
            Algorithm::Sha256 => 64,
            Algorithm::Sha384 => 96,
            Algorithm::Sha512 => 128,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileDigest {
    pub algorithm: Algorithm,
    /// Lowercase hex.
    pub hex: String,
}

impl FileDigest {
    /// A digest from a database's text, `None` unless it is hex of the algorithm's length.
    pub(crate) fn parse(algorithm: Algorithm, hex: &str) -> Option<FileDigest> {
        let hex = hex.trim().to_ascii_lowercase();
        (hex.len() == algorithm.hex_len() && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then_some(FileDigest { algorithm, hex })
    }
}

/// A file a package owns: its absolute path in the root and the digests its database keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedFile {
    pub path: String,
    pub digests: Vec<FileDigest>,
}

/// One installed package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    pub ecosystem: Ecosystem,
    pub name: String,
    /// As the package manager prints it: dpkg and apk versions as recorded, rpm
    /// `[epoch:]version-release`.
    pub version: String,
    pub arch: Option<String>,
    /// The license text of the database (apk `L:`, rpm `LICENSE`; dpkg has none).
    pub license: Option<String>,
    pub source: Option<SourcePackage>,
    /// Package URL; `None` when the name cannot form one.
    pub purl: Option<String>,
    pub files: Vec<OwnedFile>,
}

/// What a root holds: its distribution and its installed packages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inventory {
    pub os: Option<OsRelease>,
    pub packages: Vec<Package>,
}

/// Reads the root at `root`: os-release and every package database found.
pub fn scan(root: &Path) -> Result<Inventory, Error> {
    let mut root = Root::new(root);
    let os = os::read(&root)?;
    let mut packages = dpkg::read(&root, os.as_ref())?;
    packages.extend(apk::read(&root, os.as_ref())?);
    packages.extend(rpmdb::read(&root, os.as_ref())?);
    for p in &mut packages {
        p.files
            .retain(|f| matches!(root.kind(&f.path), Some(Kind::File | Kind::Symlink)));
        p.files.sort_by(|a, b| a.path.cmp(&b.path));
        p.files.dedup_by(|a, b| a.path == b.path);
    }
    packages.sort_by(|a, b| {
        (a.ecosystem, &a.name, &a.arch, &a.version).cmp(&(
            b.ecosystem,
            &b.name,
            &b.arch,
            &b.version,
        ))
    });
    Ok(Inventory { os, packages })
}
