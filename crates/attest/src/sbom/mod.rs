//! The SBOM as an SPDX 2.3 document, from a root's [`Inventory`] and the files COPY/ADD
//! wrote. The image is the described package; it contains the distribution (an
//! `OPERATING-SYSTEM` package from os-release), every installed package (name, version,
//! purl, declared license, source package, architecture in the purl) and the added files;
//! each package contains the files its database lists.

mod license;
mod model;

pub use model::Document;

use crate::packages::{self, Algorithm, FileDigest, Inventory};
use crate::time::rfc3339;
use license::Licenses;
use model::*;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::SystemTime;

/// A file a COPY or ADD step wrote, as the engine recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddedFile {
    /// Absolute path in the image.
    pub path: String,
    /// Lowercase hex SHA-256 of its content.
    pub sha256: String,
    /// Lowercase hex SHA-1, when the engine has it (SPDX 2.3 asks for a SHA-1 per file).
    pub sha1: Option<String>,
}

/// What names the document.
#[derive(Clone, Debug)]
pub struct DocumentInfo {
    /// The image, as the build names it (its first destination).
    pub name: String,
    /// `Tool:` creator, e.g. `kaniko-rs-0.1.0`.
    pub tool: String,
    pub created: SystemTime,
    /// Prefix of `documentNamespace`; the name and a digest of the content are appended.
    pub namespace_base: String,
}

/// The zero SHA-1 stands for "not recorded": SPDX 2.3 requires a SHA-1 for every file and
/// the package databases keep MD5 (dpkg) or SHA-256 (rpm) instead; nothing is re-hashed.
pub const UNKNOWN_SHA1: &str = "0000000000000000000000000000000000000000";

const IMAGE_ID: &str = "SPDXRef-Image";
const OS_ID: &str = "SPDXRef-OperatingSystem";

/// The SPDX document of `inventory` with `added` files, named by `info`.
pub fn document(inventory: &Inventory, added: &[AddedFile], info: &DocumentInfo) -> Document {
    let mut licenses = Licenses::default();
    let mut files = Files::default();
    let mut packages = vec![image_package(info, !added.is_empty())];
    let mut rel = vec![relationship("SPDXRef-DOCUMENT", "DESCRIBES", IMAGE_ID)];
    if let Some(os) = &inventory.os {
        packages.push(Package {
            name: os.id.clone(),
            spdx_id: OS_ID.into(),
            version_info: os.version_id.clone(),
            description: os.pretty_name.clone(),
            primary_package_purpose: Some("OPERATING-SYSTEM"),
            ..bare_package(false)
        });
        rel.push(relationship(IMAGE_ID, "CONTAINS", OS_ID));
    }
    for p in &inventory.packages {
        let id = package_id(p);
        for f in &p.files {
            let fid = files.add(&f.path, &f.digests);
            rel.push(relationship(&id, "CONTAINS", &fid));
        }
        packages.push(package(p, id.clone(), &mut licenses));
        rel.push(relationship(IMAGE_ID, "CONTAINS", &id));
    }
    for a in added {
        let mut digests: Vec<FileDigest> = FileDigest::parse(Algorithm::Sha256, &a.sha256)
            .into_iter()
            .collect();
        digests.extend(
            a.sha1
                .as_deref()
                .and_then(|h| FileDigest::parse(Algorithm::Sha1, h)),
        );
        let fid = files.replace(&a.path, digests);
        rel.push(relationship(IMAGE_ID, "CONTAINS", &fid));
    }
    let namespace = format!(
        "{}/{}-{}",
        info.namespace_base.trim_end_matches('/'),
        sanitize(&info.name),
        content_digest(inventory, added, &info.name)
    );
    Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        name: info.name.clone(),
        document_namespace: namespace,
        creation_info: CreationInfo {
            created: rfc3339(info.created),
            creators: vec![format!("Tool: {}", info.tool)],
            license_list_version: license_list_version(),
            comment: Some(format!(
                "Packages and their files from the image's package databases; a file SHA1 of {UNKNOWN_SHA1} means the database recorded none."
            )),
        },
        packages,
        files: files.into_vec(),
        relationships: rel,
        has_extracted_licensing_infos: licenses.extracted(),
    }
}

/// The SPDX license list version our expressions are checked against.
fn license_list_version() -> &'static str {
    let v = spdx::identifiers::VERSION;
    // SPDX writes `M.N`; the list's patch number is dropped.
    match v.match_indices('.').nth(1) {
        Some((i, _)) => &v[..i],
        None => v,
    }
}

fn image_package(info: &DocumentInfo, files_analyzed: bool) -> Package {
    Package {
        name: info.name.clone(),
        spdx_id: IMAGE_ID.into(),
        primary_package_purpose: Some("CONTAINER"),
        ..bare_package(files_analyzed)
    }
}

fn bare_package(files_analyzed: bool) -> Package {
    Package {
        name: String::new(),
        spdx_id: String::new(),
        version_info: None,
        download_location: NOASSERTION,
        files_analyzed,
        source_info: None,
        license_concluded: NOASSERTION,
        license_declared: NOASSERTION.into(),
        copyright_text: NOASSERTION,
        description: None,
        comment: None,
        external_refs: Vec::new(),
        primary_package_purpose: None,
    }
}

fn package(p: &packages::Package, spdx_id: String, licenses: &mut Licenses) -> Package {
    Package {
        name: p.name.clone(),
        spdx_id,
        version_info: Some(p.version.clone()),
        source_info: p.source.as_ref().map(|s| match &s.version {
            Some(v) => format!(
                "built from {} source package {} {}",
                p.ecosystem.purl_type(),
                s.name,
                v
            ),
            None => format!(
                "built from {} source package {}",
                p.ecosystem.purl_type(),
                s.name
            ),
        }),
        license_declared: p
            .license
            .as_deref()
            .map(|l| licenses.declared(l))
            .unwrap_or_else(|| NOASSERTION.into()),
        comment: p.arch.as_ref().map(|a| format!("architecture: {a}")),
        external_refs: p
            .purl
            .iter()
            .map(|u| ExternalRef {
                reference_category: "PACKAGE-MANAGER",
                reference_type: "purl",
                reference_locator: u.clone(),
            })
            .collect(),
        ..bare_package(!p.files.is_empty())
    }
}

/// `SPDXRef-Package-deb-libc6-<digest>`: readable, and unique per name, version and arch.
fn package_id(p: &packages::Package) -> String {
    let key = format!(
        "{}\0{}\0{}\0{}",
        p.ecosystem.purl_type(),
        p.name,
        p.version,
        p.arch.as_deref().unwrap_or("")
    );
    format!(
        "SPDXRef-Package-{}-{}-{}",
        p.ecosystem.purl_type(),
        sanitize(&p.name),
        &hex::encode(Sha256::digest(key.as_bytes()))[..12]
    )
}

/// Characters SPDX identifiers allow (`[A-Za-z0-9.-]`), others as `-`.
fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// File elements by path: one per path however many packages list it.
#[derive(Default)]
struct Files {
    by_path: BTreeMap<String, (String, Vec<FileDigest>, bool)>,
}

impl Files {
    fn id(path: &str) -> String {
        format!(
            "SPDXRef-File-{}",
            &hex::encode(Sha256::digest(path.as_bytes()))[..20]
        )
    }

    fn add(&mut self, path: &str, digests: &[FileDigest]) -> String {
        let e = self
            .by_path
            .entry(path.to_string())
            .or_insert_with(|| (Self::id(path), Vec::new(), false));
        if !e.2 {
            for d in digests {
                if !e.1.contains(d) {
                    e.1.push(d.clone());
                }
            }
        }
        e.0.clone()
    }

    /// A COPY/ADD file: its digests replace what a package recorded for the path.
    fn replace(&mut self, path: &str, digests: Vec<FileDigest>) -> String {
        let e = self
            .by_path
            .entry(path.to_string())
            .or_insert_with(|| (Self::id(path), Vec::new(), true));
        e.1 = digests;
        e.2 = true;
        e.0.clone()
    }

    fn into_vec(self) -> Vec<File> {
        self.by_path
            .into_iter()
            .map(|(path, (spdx_id, mut digests, added))| {
                if !digests.iter().any(|d| d.algorithm == Algorithm::Sha1) {
                    digests.push(FileDigest {
                        algorithm: Algorithm::Sha1,
                        hex: UNKNOWN_SHA1.into(),
                    });
                }
                digests.sort();
                File {
                    file_name: format!(".{path}"),
                    spdx_id,
                    checksums: digests
                        .into_iter()
                        .map(|d| Checksum {
                            algorithm: d.algorithm.spdx_name(),
                            checksum_value: d.hex,
                        })
                        .collect(),
                    comment: added.then_some("written by COPY or ADD"),
                }
            })
            .collect()
    }
}

fn relationship(from: &str, ty: &'static str, to: &str) -> Relationship {
    Relationship {
        spdx_element_id: from.into(),
        relationship_type: ty,
        related_spdx_element: to.into(),
    }
}

/// A short digest of what the document says, so that its namespace is unique per content
/// and the same for the same build.
fn content_digest(inventory: &Inventory, added: &[AddedFile], name: &str) -> String {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    for p in &inventory.packages {
        for s in [
            p.ecosystem.purl_type(),
            &p.name,
            &p.version,
            p.arch.as_deref().unwrap_or(""),
        ] {
            h.update(s.as_bytes());
            h.update([0]);
        }
        h.update((p.files.len() as u64).to_be_bytes());
    }
    for a in added {
        h.update(a.path.as_bytes());
        h.update([0]);
        h.update(a.sha256.as_bytes());
    }
    hex::encode(h.finalize())[..16].to_string()
}
