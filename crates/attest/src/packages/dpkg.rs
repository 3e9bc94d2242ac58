//! dpkg's database: `/var/lib/dpkg/status` (and `status.d/<package>` with optional
//! `<package>.md5sums` beside it, as distroless images have it), each package's files from
//! `info/<package>[:<arch>].list` and MD5 digests from `info/<package>[:<arch>].md5sums`
//! and the status file's `Conffiles`.

use super::paragraphs::{stanzas, Stanza};
use super::{Algorithm, Ecosystem, FileDigest, OwnedFile, Package, SourcePackage};
use crate::inroot::{Root, MAX_TEXT};
use crate::os::OsRelease;
use crate::purl::{self, Coordinates};
use crate::Error;
use std::collections::BTreeMap;

const ADMIN: &str = "/var/lib/dpkg";

pub(super) fn read(root: &Root, os: Option<&OsRelease>) -> Result<Vec<Package>, Error> {
    let mut out = Vec::new();
    if let Some(status) = root.read(&format!("{ADMIN}/status"), MAX_TEXT)? {
        for s in stanzas(&String::from_utf8_lossy(&status), true) {
            if let Some(mut p) = package(&s, os) {
                p.files = files(root, &s, &p, "info")?;
                out.push(p);
            }
        }
    }
    let dir = format!("{ADMIN}/status.d");
    for name in root.list(&dir)? {
        if name.ends_with(".md5sums") || name.starts_with('.') {
            continue;
        }
        let Some(text) = root.read(&format!("{dir}/{name}"), MAX_TEXT)? else {
            continue;
        };
        for s in stanzas(&String::from_utf8_lossy(&text), true) {
            if let Some(mut p) = package(&s, os) {
                p.files = files(root, &s, &p, "status.d")?;
                out.push(p);
            }
        }
    }
    Ok(out)
}

/// The package of a status stanza, `None` unless its files are on disk (any state but
/// `not-installed` and `config-files`).
fn package(s: &Stanza, os: Option<&OsRelease>) -> Option<Package> {
    let name = s.get("Package")?.trim().to_string();
    let version = s.get("Version")?.trim().to_string();
    if let Some(status) = s.get("Status") {
        let state = status.split_whitespace().nth(2).unwrap_or("");
        if matches!(state, "not-installed" | "config-files") {
            return None;
        }
    }
    let arch = s.get("Architecture").map(|a| a.trim().to_string());
    let source = s.get("Source").map(|src| {
        let src = src.trim();
        match src.split_once(' ') {
            Some((n, v)) => SourcePackage {
                name: n.to_string(),
                version: Some(v.trim().trim_matches(['(', ')']).to_string()),
            },
            None => SourcePackage {
                name: src.to_string(),
                version: None,
            },
        }
    });
    let purl = purl::package(
        &Coordinates {
            ty: Ecosystem::Deb.purl_type(),
            default_namespace: "debian",
            name: &name,
            version: &version,
            arch: arch.as_deref(),
            epoch: None,
            upstream: source.as_ref().map(|s| s.name.as_str()),
        },
        os,
    );
    Some(Package {
        ecosystem: Ecosystem::Deb,
        name,
        version,
        arch,
        license: None,
        source,
        purl,
        files: Vec::new(),
    })
}

/// The package's files: its `.list` when there is one, else its `.md5sums` paths (distroless).
fn files(root: &Root, s: &Stanza, p: &Package, dir: &str) -> Result<Vec<OwnedFile>, Error> {
    let mut md5: BTreeMap<String, FileDigest> = BTreeMap::new();
    let names = info_names(p);
    if let Some(sums) = first(root, dir, &names, "md5sums")? {
        for line in String::from_utf8_lossy(&sums).lines() {
            if let Some((hex, path)) = line.split_once(char::is_whitespace) {
                if let Some(d) = FileDigest::parse(Algorithm::Md5, hex) {
                    md5.insert(absolute(path.trim_start()), d);
                }
            }
        }
    }
    for line in s.get("Conffiles").unwrap_or("").lines() {
        let mut words = line.split_whitespace();
        if let (Some(path), Some(hex)) = (words.next(), words.next()) {
            if let Some(d) = FileDigest::parse(Algorithm::Md5, hex) {
                md5.insert(absolute(path), d);
            }
        }
    }
    let paths: Vec<String> = match first(root, dir, &names, "list")? {
        Some(list) => String::from_utf8_lossy(&list)
            .lines()
            .filter(|l| l.starts_with('/') && *l != "/.")
            .map(str::to_string)
            .collect(),
        None => md5.keys().cloned().collect(),
    };
    Ok(paths
        .into_iter()
        .map(|path| OwnedFile {
            digests: md5.get(&path).cloned().into_iter().collect(),
            path,
        })
        .collect())
}

/// `name:arch` (a `Multi-Arch: same` package's info files) then `name`.
fn info_names(p: &Package) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(a) = &p.arch {
        v.push(format!("{}:{}", p.name, a));
    }
    v.push(p.name.clone());
    v
}

fn first(root: &Root, dir: &str, names: &[String], ext: &str) -> Result<Option<Vec<u8>>, Error> {
    for n in names {
        if n.contains('/') || n.starts_with('.') {
            continue;
        }
        if let Some(b) = root.read(&format!("{ADMIN}/{dir}/{n}.{ext}"), MAX_TEXT)? {
            return Ok(Some(b));
        }
    }
    Ok(None)
}

fn absolute(p: &str) -> String {
    if p.starts_with('/') {
        p.to_string()
    } else {
        format!("/{p}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_sources_and_distroless() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("var/lib/dpkg");
        std::fs::create_dir_all(d.join("info")).unwrap();
        std::fs::create_dir_all(d.join("status.d")).unwrap();
        std::fs::write(
            d.join("status"),
            "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\n\
             Multi-Arch: same\nSource: glibc (2.36-9)\nVersion: 2.36-9+deb12u4\n\
             Conffiles:\n /etc/ld.so.conf.d/x86_64-linux-gnu.conf d4e7a7b88a71b5ffd9e2644e71a0cfab\n\n\
             Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n\
             Package: dash\nStatus: install ok installed\nVersion: 0.5.12-2\nArchitecture: amd64\n",
        )
        .unwrap();
        std::fs::write(
            d.join("info/libc6:amd64.list"),
            "/.\n/etc\n/etc/ld.so.conf.d/x86_64-linux-gnu.conf\n/usr/lib/libc.so.6\n",
        )
        .unwrap();
        std::fs::write(
            d.join("info/libc6:amd64.md5sums"),
            "0123456789abcdef0123456789abcdef  usr/lib/libc.so.6\n",
        )
        .unwrap();
        std::fs::write(
            d.join("status.d/tzdata"),
            "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n",
        )
        .unwrap();
        std::fs::write(
            d.join("status.d/tzdata.md5sums"),
            "fedcba9876543210fedcba9876543210  usr/share/zoneinfo/UTC\n",
        )
        .unwrap();
        let os = crate::os::parse("ID=debian\nVERSION_ID=12\n");
        let pkgs = read(&Root::new(t.path()), os.as_ref()).unwrap();
        let names: Vec<_> = pkgs.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["libc6", "dash", "tzdata"]);
        let libc = &pkgs[0];
        assert_eq!(
            libc.source,
            Some(SourcePackage {
                name: "glibc".into(),
                version: Some("2.36-9".into())
            })
        );
        let paths: Vec<_> = libc.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/etc",
                "/etc/ld.so.conf.d/x86_64-linux-gnu.conf",
                "/usr/lib/libc.so.6"
            ]
        );
        assert_eq!(
            libc.files[1].digests[0].hex,
            "d4e7a7b88a71b5ffd9e2644e71a0cfab"
        );
        assert_eq!(libc.files[2].digests[0].algorithm, Algorithm::Md5);
        assert!(pkgs[1].files.is_empty());
        assert_eq!(pkgs[2].files[0].path, "/usr/share/zoneinfo/UTC");
        assert_eq!(
            pkgs[2].purl.as_deref(),
            Some("pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all&distro=debian-12")
        );
    }
}
