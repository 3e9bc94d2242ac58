//! The files COPY and ADD put in the final image, with their SHA-256 and SHA-1: read from
//! the layers this build wrote for those instructions (the history entry of each layer
//! says which instruction made it), not from the whole image.

use attest::sbom::AddedFile;
use engine::{BuiltImage, LayerSource};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{BufReader, Read};

/// Every regular file of the final image's COPY/ADD layers, the last writer of a path
/// winning; a path a later layer deletes (its whiteout) is left out.
pub fn added_files(built: &BuiltImage) -> std::io::Result<Vec<AddedFile>> {
    let made_by: Vec<&str> = built
        .config
        .history
        .iter()
        .filter(|h| !h.empty_layer)
        .map(|h| h.created_by.as_deref().unwrap_or(""))
        .collect();
    // History and layers line up only when every layer has its entry.
    if made_by.len() != built.layers.len() {
        return Ok(Vec::new());
    }
    let mut files: BTreeMap<String, AddedFile> = BTreeMap::new();
    for (layer, by) in built.layers.iter().zip(made_by) {
        let copies = by.starts_with("COPY") || by.starts_with("ADD");
        match &layer.source {
            LayerSource::Local(path) => {
                let f = std::fs::File::open(path)?;
                read_layer(f, copies, &mut files)?;
            }
            LayerSource::Remote(_) => {}
        }
    }
    Ok(files.into_values().collect())
}

fn read_layer(
    blob: std::fs::File,
    record: bool,
    files: &mut BTreeMap<String, AddedFile>,
) -> std::io::Result<()> {
    let reader = rootfs::decompressor(BufReader::with_capacity(1 << 20, blob))?;
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let raw = entry.path()?.to_string_lossy().into_owned();
        let path = format!("/{}", raw.trim_start_matches("./").trim_start_matches('/'));
        let name = path.rsplit('/').next().unwrap_or("");
        if let Some(gone) = name.strip_prefix(".wh.") {
            let dir = &path[..path.len() - name.len()];
            if gone == ".wh..opq" {
                files.retain(|p, _| !p.starts_with(dir));
            } else {
                let gone = format!("{dir}{gone}");
                files.retain(|p, _| p != &gone && !p.starts_with(&format!("{gone}/")));
            }
            continue;
        }
        if !record {
            // A RUN or other layer that rewrote the path: its content is no longer COPY's.
            files.remove(&path);
            continue;
        }
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let (mut s256, mut s1) = (Sha256::new(), Sha1::new());
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = entry.read(&mut buf)?;
            if n == 0 {
                break;
            }
            s256.update(&buf[..n]);
            s1.update(&buf[..n]);
        }
        files.insert(
            path.clone(),
            AddedFile {
                path,
                sha256: hex::encode(s256.finalize()),
                sha1: Some(hex::encode(s1.finalize())),
            },
        );
    }
    Ok(())
}
