//! rpm's SQLite database (`rpmdb.sqlite` in `/var/lib/rpm` or `/usr/lib/sysimage/rpm`): the
//! `Packages` table holds one header blob per package, read by the `rpm` crate. The file is
//! opened read-only and immutable (no lock, no journal: nothing is written to the root).
//! Berkeley DB (`Packages`) and NDB (`Packages.db`) databases are not read.

use super::{Algorithm, Ecosystem, FileDigest, OwnedFile, Package, SourcePackage};
use crate::inroot::Root;
use crate::os::OsRelease;
use crate::purl::{self, Coordinates};
use crate::Error;
use rpm::{DigestAlgorithm, PackageMetadata};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

const DATABASES: [&str; 2] = [
    "/usr/lib/sysimage/rpm/rpmdb.sqlite",
    "/var/lib/rpm/rpmdb.sqlite",
];
const MAX_DB: u64 = 2 << 30;
/// rpm's own bounds on a header (`hdrchkTags`, `hdrchkData`).
const MAX_TAGS: usize = 0xffff;
const MAX_DATA: usize = 0x0fff_ffff;

pub(super) fn read(root: &Root, os: Option<&OsRelease>) -> Result<Vec<Package>, Error> {
    for db in DATABASES {
        let host = root.host(db)?;
        match std::fs::symlink_metadata(&host) {
            Ok(m) if m.is_file() && m.len() > MAX_DB => {
                return Err(Error::TooLarge {
                    path: db.into(),
                    limit: MAX_DB,
                })
            }
            Ok(m) if m.is_file() => return packages(&host, db, os),
            _ => {}
        }
    }
    Ok(Vec::new())
}

fn packages(host: &Path, db: &str, os: Option<&OsRelease>) -> Result<Vec<Package>, Error> {
    let uri = format!("file:{}?immutable=1", uri_path(host));
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let fail = |e: rusqlite::Error| Error::database(db, e);
    let conn = Connection::open_with_flags(uri, flags).map_err(fail)?;
    let mut stmt = conn
        .prepare("SELECT blob FROM Packages ORDER BY hnum")
        .map_err(fail)?;
    let mut rows = stmt.query([]).map_err(fail)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(fail)? {
        let blob: Vec<u8> = row.get(0).map_err(fail)?;
        let meta = header(&blob).map_err(|m| Error::database(db, m))?;
        if let Some(p) = package(&meta, os) {
            out.push(p);
        }
    }
    Ok(out)
}

/// A header blob as the database stores it (the header without its 8-byte magic), checked
/// against rpm's bounds, then parsed by the `rpm` crate behind a stand-in lead and an empty
/// signature header.
pub(crate) fn header(blob: &[u8]) -> Result<PackageMetadata, String> {
    check(blob)?;
    let mut pkg = Vec::with_capacity(96 + 16 + 8 + blob.len());
    pkg.extend_from_slice(&[0xed, 0xab, 0xee, 0xdb, 3, 0, 0, 0, 0, 1]);
    pkg.extend_from_slice(&[0; 66]);
    pkg.extend_from_slice(&[0, 1, 0, 5]);
    pkg.extend_from_slice(&[0; 16]);
    pkg.extend_from_slice(&[0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    pkg.extend_from_slice(&[0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0]);
    pkg.extend_from_slice(blob);
    PackageMetadata::parse(&mut &pkg[..]).map_err(|e| format!("bad package header: {e}"))
}

/// The blob's index counts and every entry's offset and extent within its data.
fn check(blob: &[u8]) -> Result<(), String> {
    let be = |at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(blob.get(at..at + 4)?.try_into().ok()?))
    };
    let bad = |why: &str| Err(format!("bad package header: {why}"));
    let (Some(il), Some(dl)) = (be(0), be(4)) else {
        return bad("short");
    };
    let (il, dl) = (il as usize, dl as usize);
    if il > MAX_TAGS || dl > MAX_DATA || blob.len() != 8 + il * 16 + dl {
        return bad("sizes do not match");
    }
    for i in 0..il {
        let at = 8 + i * 16;
        let (Some(ty), Some(offset), Some(count)) = (be(at + 4), be(at + 8), be(at + 12)) else {
            return bad("short index");
        };
        let (offset, count) = (offset as i32, count as u64);
        if offset < 0 || offset as usize > dl {
            return bad("offset out of range");
        }
        let room = (dl - offset as usize) as u64;
        let size = match ty {
            0 => 0,
            1 | 2 | 7 => 1,
            3 => 2,
            4 => 4,
            5 => 8,
            6 | 8 | 9 => {
                if room == 0 {
                    return bad("string out of range");
                }
                0
            }
            _ => return bad("unknown type"),
        };
        if count.saturating_mul(size) > room {
            return bad("data out of range");
        }
    }
    Ok(())
}

fn package(m: &PackageMetadata, os: Option<&OsRelease>) -> Option<Package> {
    let name = m.get_name().ok()?.to_string();
    if name == "gpg-pubkey" {
        return None; // imported signing keys, not software
    }
    let version = m.get_version().unwrap_or("");
    let release = m.get_release().unwrap_or("");
    let evr = if release.is_empty() {
        version.to_string()
    } else {
        format!("{version}-{release}")
    };
    let epoch = m.get_epoch().ok().filter(|e| *e > 0).map(|e| e.to_string());
    let arch = m
        .get_arch()
        .ok()
        .map(str::to_string)
        .filter(|a| !a.is_empty());
    let source = m.get_source_rpm().ok().filter(|s| !s.is_empty());
    let vendor = m
        .get_vendor()
        .ok()
        .and_then(|v| v.split_whitespace().next());
    let purl = purl::package(
        &Coordinates {
            ty: Ecosystem::Rpm.purl_type(),
            default_namespace: vendor.unwrap_or(""),
            name: &name,
            version: &evr,
            arch: arch.as_deref(),
            epoch: epoch.as_deref(),
            upstream: source,
        },
        os,
    );
    Some(Package {
        ecosystem: Ecosystem::Rpm,
        version: match &epoch {
            Some(e) => format!("{e}:{evr}"),
            None => evr,
        },
        arch,
        license: m
            .get_license()
            .ok()
            .map(str::to_string)
            .filter(|l| !l.is_empty()),
        source: source.map(|s| SourcePackage {
            name: s.to_string(),
            version: None,
        }),
        purl,
        files: files(m),
        name,
    })
}

fn files(m: &PackageMetadata) -> Vec<OwnedFile> {
    let Ok(entries) = m.get_file_entries() else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|e| {
            let path = e.path().to_str()?.to_string();
            let digests = e
                .digest()
                .and_then(|d| {
                    let alg = match d.algorithm() {
                        DigestAlgorithm::Md5 => Algorithm::Md5,
                        DigestAlgorithm::Sha2_224 => Algorithm::Sha224,
                        DigestAlgorithm::Sha2_256 => Algorithm::Sha256,
                        DigestAlgorithm::Sha2_384 => Algorithm::Sha384,
                        DigestAlgorithm::Sha2_512 => Algorithm::Sha512,
                        _ => return None,
                    };
                    FileDigest::parse(alg, d.as_hex())
                })
                .into_iter()
                .collect();
            Some(OwnedFile { path, digests })
        })
        .collect()
}

/// A path as an SQLite URI's path: every byte but unreserved ones and `/` percent-encoded.
fn uri_path(p: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    purl::percent_encode(p.as_os_str().as_bytes(), |b| b"/-._~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_blobs_are_refused_not_panicking() {
        assert!(header(&[]).is_err());
        assert!(header(&[0, 0, 0, 1, 0, 0, 0, 0]).is_err());
        // One STRING entry whose offset points past the data.
        let mut b = vec![0, 0, 0, 1, 0, 0, 0, 4];
        b.extend_from_slice(&[0, 0, 3, 232, 0, 0, 0, 6, 0, 0, 0, 9, 0, 0, 0, 1]);
        b.extend_from_slice(b"abc\0");
        assert!(header(&b).unwrap_err().contains("offset"));
        // A negative offset.
        b[16..20].copy_from_slice(&(-1i32).to_be_bytes());
        assert!(header(&b).is_err());
        // An INT32 array longer than the data.
        b[12..16].copy_from_slice(&4u32.to_be_bytes());
        b[16..20].copy_from_slice(&0u32.to_be_bytes());
        b[20..24].copy_from_slice(&2u32.to_be_bytes());
        assert!(header(&b).unwrap_err().contains("data out of range"));
    }

    #[test]
    fn uri_paths_are_escaped() {
        assert_eq!(uri_path(Path::new("/a b/x?y#z")), "/a%20b/x%3Fy%23z");
    }
}
