//! The files COPY and ADD put in the final image, with their SHA-256 and SHA-1: read from
//! the layers those instructions made (the history entry of each layer says which
//! instruction made it; a cache hit's layer is read from the cache repository, streamed and
//! verified), not from the whole image. With `--single-snapshot` the one layer holds every
//! instruction's files: none is listed.

use attest::sbom::AddedFile;
use engine::{BuiltImage, ImageSource, Layer};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{BufReader, Read};

/// Every regular file of the final image's COPY/ADD layers, the last writer of a path
/// winning; a path a later layer deletes (its whiteout) or rewrites is left out. Call from
/// a blocking section of the runtime (`block_in_place`): blobs are read through `source`.
pub fn added_files(
    built: &BuiltImage,
    source: &dyn ImageSource,
) -> std::io::Result<Vec<AddedFile>> {
    let made_by: Vec<&str> = built
        .config
        .history
        .iter()
        .filter(|h| !h.empty_layer)
        .map(|h| h.created_by.as_deref().unwrap_or(""))
        .collect();
    // The build's entries are the last ones (a base may have none for its layers); more
    // entries than layers (`--single-snapshot`) cannot be lined up.
    let Some(base) = built.layers.len().checked_sub(made_by.len()) else {
        return Ok(Vec::new());
    };
    let mut files: BTreeMap<String, AddedFile> = BTreeMap::new();
    let mut copied = false;
    for (layer, by) in built.layers[base..].iter().zip(made_by) {
        let copies = by.starts_with("COPY") || by.starts_with("ADD");
        // Layers before the first COPY/ADD cannot change what it wrote: not read.
        copied |= copies;
        if copied {
            read_verified(source, layer, copies, &mut files)?;
        }
    }
    Ok(files.into_values().collect())
}

/// Reads `layer` (a blob of this build, of a layout, or of a registry), its digest checked
/// once the whole blob is read.
fn read_verified(
    source: &dyn ImageSource,
    layer: &Layer,
    record: bool,
    files: &mut BTreeMap<String, AddedFile>,
) -> std::io::Result<()> {
    let rt = tokio::runtime::Handle::current();
    let stream = rt
        .block_on(engine::source::open_layer(source, layer))
        .map_err(std::io::Error::other)?;
    let mut blob = tokio_util::io::SyncIoBridge::new_with_handle(stream, rt);
    read_layer(&mut blob, record, files)?;
    // The rest of the blob (padding, the compressor's trailer), so the digest is checked.
    std::io::copy(&mut blob, &mut std::io::sink())?;
    Ok(())
}

fn read_layer(
    blob: &mut (dyn Read + Send),
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
