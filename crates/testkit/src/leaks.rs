//! Where a secret must never be found: every blob a registry stores (as stored, and
//! gunzipped when it is a gzip layer) and every file under a directory (a container's
//! disk after a build).

use crate::registry::Registry;
use std::io::Read;
use std::path::{Path, PathBuf};

fn holds(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// A blob's bytes as stored, and decompressed when they are gzip.
fn readable(raw: Vec<u8>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut plain = Vec::new();
        if flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut plain)
            .is_ok()
        {
            out.push(plain);
        }
    }
    out.push(raw);
    out
}

/// The regular files under `dir` (symlinks not followed) whose bytes hold `needle`,
/// blobs decompressed.
pub fn files_holding(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(t) = e.file_type() else { continue };
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                let bytes = std::fs::read(e.path()).unwrap_or_default();
                if readable(bytes).iter().any(|b| holds(b, needle)) {
                    found.push(e.path());
                }
            }
        }
    }
    found
}

/// Every blob (layers, configs, manifests) of every repository `reg` stores that holds
/// `needle`.
pub fn blobs_holding(reg: &Registry, needle: &[u8]) -> Vec<PathBuf> {
    files_holding(&reg.storage(), needle)
}
