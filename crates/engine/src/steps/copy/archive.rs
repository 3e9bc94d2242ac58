//! ADD's local archives: recognised by content (a tar, plain or gzip, zstd, bzip2, xz), extracted
//! through the root's contained extractor under the destination.

use crate::root::BuildRoot;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Whether a file is a tar archive ADD extracts (plain, gzip, zstd, bzip2, xz).
pub fn is_archive(p: &Path) -> bool {
    let Ok(f) = fs::File::open(p) else {
        return false;
    };
    let Ok(mut r) = rootfs::decompressor(io::BufReader::new(f)) else {
        return false;
    };
    let mut block = [0u8; 512];
    if io::Read::read_exact(&mut r, &mut block).is_err() {
        return false;
    }
    &block[257..262] == b"ustar" || tar_checksum_ok(&block)
}

fn tar_checksum_ok(block: &[u8; 512]) -> bool {
    let stored = std::str::from_utf8(&block[148..156])
        .ok()
        .map(|s| s.trim_matches(|c: char| c == '\0' || c == ' '));
    let Some(Ok(stored)) = stored.map(|s| u32::from_str_radix(s, 8)) else {
        return false;
    };
    let sum: u32 = block
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(*b)
            }
        })
        .sum();
    sum == stored && block[0] != 0
}

/// ADD of a local archive: extracted under `dest` (resolved) with the root's ignore list,
/// whiteout names taken as ordinary files (as Docker does). Returns the paths written,
/// parents first.
pub fn extract(src: &Path, root: &BuildRoot, dest: &Path) -> io::Result<Vec<PathBuf>> {
    let f = fs::File::open(src)?;
    let r = rootfs::decompressor(io::BufReader::with_capacity(1 << 20, f))?;
    let mut table = rootfs::FileTable::default();
    rootfs::extract_tar(
        r,
        root.dir(),
        root.ignore(),
        Some(&mut table),
        rootfs::ExtractOptions::archive(dest),
    )
    .map_err(io::Error::other)?;
    let mut paths = table.paths();
    paths.sort();
    Ok(paths)
}
