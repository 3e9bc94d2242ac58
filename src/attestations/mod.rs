//! `--sbom` and `--provenance`: the predicates attached to the image, from what this build
//! knows. The SBOM reads the final root's package databases (the root holds the final
//! filesystem: the executor materializes it when an SBOM is asked) and the files COPY/ADD
//! wrote; the provenance comes from the flags, the Dockerfile, the context and the images
//! resolved through [`RecordedSource`]. The documents themselves are the `attest` crate's;
//! how they are stored is `output::attestations`.

mod added_files;
mod facts;
mod provenance;
mod recorded_source;

pub use facts::Facts;
pub use recorded_source::{RecordedSource, Resolved};

use crate::cli::Options;
use crate::output::attestations::Predicate;
use anyhow::Context as _;
use attest::provenance::predicate;
use attest::sbom::{self, DocumentInfo};
use engine::BuiltImage;
use sha2::{Digest, Sha256};
use std::path::Path;
use tracing::info;

/// The predicates `opts` asks for, about `built` whose filesystem is at `root`.
pub fn predicates(
    opts: &Options,
    facts: &Facts,
    root: &Path,
    built: &BuiltImage,
    source: &dyn engine::ImageSource,
) -> anyhow::Result<Vec<Predicate>> {
    let mut out = Vec::new();
    if opts.attestations.sbom {
        let started = std::time::Instant::now();
        let inventory = attest::packages::scan(root).context("reading the image's packages")?;
        let added =
            added_files::added_files(built, source).context("reading the COPY/ADD layers")?;
        let info = DocumentInfo {
            name: opts
                .destinations
                .first()
                .cloned()
                .unwrap_or_else(|| "image".into()),
            tool: format!("kaniko-rs-{}", env!("CARGO_PKG_VERSION")),
            created: facts.started,
            namespace_base: "https://kaniko-rs.invalid/spdx".into(),
        };
        let doc = sbom::document(&inventory, &added, &info);
        info!(
            "SBOM: {} packages, {} COPY/ADD files ({:.2}s)",
            inventory.packages.len(),
            added.len(),
            started.elapsed().as_secs_f64()
        );
        out.push(Predicate {
            predicate_type: attest::statement::SPDX_DOCUMENT.into(),
            body: serde_json::value::to_raw_value(&doc)?,
        });
    }
    if let Some(req) = opts.attestations.provenance {
        let record = provenance::record(opts, req, facts);
        out.push(Predicate {
            predicate_type: req.version.predicate_type().into(),
            body: serde_json::value::to_raw_value(&predicate(&record, req.version))?,
        });
    }
    Ok(out)
}

/// A digest of the context tree: every path (sorted), its kind and mode, a file's content
/// and a symlink's target. `.git` is left out.
pub fn context_digest(dir: &Path) -> std::io::Result<String> {
    use std::os::unix::fs::PermissionsExt;
    let mut h = Sha256::new();
    let walk = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.file_name() != ".git");
    for entry in walk {
        let entry = entry.map_err(std::io::Error::other)?;
        let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path());
        let meta = entry.metadata().map_err(std::io::Error::other)?;
        h.update(rel.as_os_str().as_encoded_bytes());
        h.update([0]);
        h.update(meta.permissions().mode().to_be_bytes());
        if meta.is_file() {
            let mut f = std::fs::File::open(entry.path())?;
            std::io::copy(&mut f, &mut h)?;
        } else if meta.file_type().is_symlink() {
            h.update(
                std::fs::read_link(entry.path())?
                    .as_os_str()
                    .as_encoded_bytes(),
            );
        }
        h.update([0]);
    }
    Ok(hex::encode(h.finalize()))
}
