//! apk's installed database (`/lib/apk/db/installed`, apk-tools' "installed" format): one
//! stanza per package of `K:value` lines: `P` name, `V` version, `A` architecture, `L`
//! license, `o` origin (the source package), `F` a directory, `R` a file in the last `F`,
//! `Z` that file's checksum (`Q1` + base64 SHA-1; `Q2` + base64 SHA-256).

use super::paragraphs::{stanzas, Stanza};
use super::{Algorithm, Ecosystem, FileDigest, OwnedFile, Package, SourcePackage};
use crate::inroot::{Root, MAX_TEXT};
use crate::os::OsRelease;
use crate::purl::{self, Coordinates};
use crate::Error;
use base64::Engine;

const DATABASES: [&str; 2] = ["/lib/apk/db/installed", "/usr/lib/apk/db/installed"];

pub(super) fn read(root: &Root, os: Option<&OsRelease>) -> Result<Vec<Package>, Error> {
    for db in DATABASES {
        if let Some(text) = root.read(db, MAX_TEXT)? {
            return Ok(stanzas(&String::from_utf8_lossy(&text), false)
                .iter()
                .filter_map(|s| package(s, os))
                .collect());
        }
    }
    Ok(Vec::new())
}

fn package(s: &Stanza, os: Option<&OsRelease>) -> Option<Package> {
    let name = s.get("P")?.to_string();
    let version = s.get("V").unwrap_or("").to_string();
    let arch = s.get("A").map(str::to_string);
    let origin = s.get("o").map(str::to_string);
    let purl = purl::package(
        &Coordinates {
            ty: Ecosystem::Apk.purl_type(),
            default_namespace: "alpine",
            name: &name,
            version: &version,
            arch: arch.as_deref(),
            epoch: None,
            upstream: origin.as_deref(),
        },
        os,
    );
    Some(Package {
        ecosystem: Ecosystem::Apk,
        name,
        version,
        arch,
        license: s.get("L").map(str::to_string).filter(|l| !l.is_empty()),
        source: origin.map(|name| SourcePackage {
            name,
            version: None,
        }),
        purl,
        files: files(s),
    })
}

fn files(s: &Stanza) -> Vec<OwnedFile> {
    let mut out: Vec<OwnedFile> = Vec::new();
    let mut dir = String::new();
    for (k, v) in &s.fields {
        match k.as_str() {
            "F" => dir = v.trim_matches('/').to_string(),
            "R" if !v.is_empty() && !v.contains('/') => out.push(OwnedFile {
                path: if dir.is_empty() {
                    format!("/{v}")
                } else {
                    format!("/{dir}/{v}")
                },
                digests: Vec::new(),
            }),
            "Z" => {
                if let (Some(f), Some(d)) = (out.last_mut(), checksum(v)) {
                    f.digests = vec![d];
                }
            }
            _ => {}
        }
    }
    out
}

/// `Q1<base64>` is SHA-1, `Q2<base64>` SHA-256 (apk-tools' "Q" encoding).
fn checksum(v: &str) -> Option<FileDigest> {
    let (alg, b64) = match v.get(..2)? {
        "Q1" => (Algorithm::Sha1, &v[2..]),
        "Q2" => (Algorithm::Sha256, &v[2..]),
        _ => return None,
    };
    let raw = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    FileDigest::parse(alg, &hex::encode(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_in_directories_with_sha1() {
        let s = &stanzas(
            "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\nF:lib\nR:libc.musl-x86_64.so.1\n\
             a:0:0:755\nZ:Q1kh7IuZ6Pcs29GF3m+CxZ5C6pQjs=\nR:ld-musl-x86_64.so.1\n\n",
            false,
        )[0];
        let os = crate::os::parse("ID=alpine\nVERSION_ID=3.19.1\n");
        let p = package(s, os.as_ref()).unwrap();
        assert_eq!(p.license.as_deref(), Some("MIT"));
        assert_eq!(
            p.purl.as_deref(),
            Some("pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.1")
        );
        assert_eq!(p.files.len(), 2);
        assert_eq!(p.files[0].path, "/lib/libc.musl-x86_64.so.1");
        assert_eq!(
            p.files[0].digests[0].hex,
            "921ec8b99e8f72cdbd185de6f82c59e42ea9423b"
        );
        assert!(p.files[1].digests.is_empty());
    }
}
