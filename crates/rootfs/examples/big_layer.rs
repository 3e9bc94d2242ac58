//! Writes a layer holding one large file (1 GiB by default, or the MiB count given as the
//! first argument), then unpacks it again, printing the time and peak RSS of each step:
//! memory stays flat whatever the size.
//!
//! `cargo run --release -p rootfs --example big_layer -- 1024 [gzip|zstd|none]`

use rootfs::{extract_layer, Changes, Compression, IgnoreList, LayerOptions};
use std::io::{BufReader, Write};
use std::path::PathBuf;
use std::time::Instant;

fn peak_rss_mib() -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a rusage.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    u.ru_maxrss as f64 / 1024.0 // KiB on Linux
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mib: u64 = std::env::args().nth(1).map_or(Ok(1024), |a| a.parse())?;
    let compression = match std::env::args().nth(2).as_deref() {
        Some("zstd") => Compression::Zstd,
        Some("none") => Compression::None,
        _ => Compression::Gzip,
    };
    let work = tempfile::tempdir()?;
    let root = work.path().join("root");
    std::fs::create_dir_all(root.join("data"))?;
    let t = Instant::now();
    {
        // Mildly compressible content, written in 1 MiB pieces.
        let mut f = std::io::BufWriter::new(std::fs::File::create(root.join("data/big"))?);
        let mut chunk = vec![0u8; 1 << 20];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..mib {
            for w in chunk.chunks_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                w.copy_from_slice(&(x & 0x0F0F_0F0F_0F0F_0F0F).to_le_bytes());
            }
            f.write_all(&chunk)?;
        }
        f.flush()?;
    }
    println!(
        "input: {mib} MiB written in {:.2?}, peak RSS {:.1} MiB",
        t.elapsed(),
        peak_rss_mib()
    );

    let changes = Changes {
        entries: vec![PathBuf::from("/data/big")],
        deleted: vec![],
    };
    let opts = LayerOptions {
        compression,
        level: -1,
        reproducible: true,
    };
    let t = Instant::now();
    let blob = rootfs::write_layer(&root, &changes, &opts, work.path())?;
    println!(
        "write_layer ({compression:?}): {:.2?}, blob {} MiB, {}, peak RSS {:.1} MiB",
        t.elapsed(),
        blob.size >> 20,
        blob.digest,
        peak_rss_mib()
    );

    let t = Instant::now();
    let file = BufReader::with_capacity(1 << 20, std::fs::File::open(&blob.path)?);
    let n = std::io::copy(&mut rootfs::decompressor(file)?, &mut std::io::sink())?;
    println!("decompress only: {n} bytes in {:.2?}", t.elapsed());

    let out = work.path().join("unpacked");
    std::fs::create_dir_all(&out)?;
    let t = Instant::now();
    let file = BufReader::with_capacity(1 << 20, std::fs::File::open(&blob.path)?);
    let input = rootfs::ReadAhead::new(rootfs::decompressor(file)?);
    extract_layer(input, &out, &IgnoreList::default(), None)?;
    println!(
        "extract_layer: {:.2?}, peak RSS {:.1} MiB",
        t.elapsed(),
        peak_rss_mib()
    );
    let size = std::fs::metadata(out.join("data/big"))?.len();
    if size != mib << 20 {
        return Err(format!("unpacked size {size}, expected {}", mib << 20).into());
    }
    Ok(())
}
