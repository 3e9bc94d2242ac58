//! Many small files (50 000 by default, or the count given as the first argument): times a
//! full snapshot walk, writing the layer, unpacking it with the table recorded, and the
//! snapshot after the unpack (which must find nothing).
//!
//! `cargo run --release -p rootfs --example many_files -- 50000`

use rootfs::{extract_layer, Compression, IgnoreList, LayerOptions, SnapshotMode, Snapshotter};
use std::io::BufReader;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args().nth(1).map_or(Ok(50_000), |a| a.parse())?;
    let work = tempfile::tempdir()?;
    let src = work.path().join("src");
    for i in 0..n {
        let dir = src.join(format!("d{:03}/e{:02}", i % 500, i % 7));
        if i < 3500 {
            std::fs::create_dir_all(&dir)?;
        }
        std::fs::write(dir.join(format!("file-{i}.txt")), format!("content {i}\n"))?;
    }

    let t = Instant::now();
    let mut snap = Snapshotter::new(src.clone(), IgnoreList::default(), SnapshotMode::Full);
    let changes = snap.take_full()?;
    println!(
        "snapshot walk: {} entries in {:.2?}",
        changes.entries.len(),
        t.elapsed()
    );

    let opts = LayerOptions {
        compression: Compression::Gzip,
        level: -1,
        reproducible: false,
    };
    let t = Instant::now();
    let blob = rootfs::write_layer(&src, &changes, &opts, work.path())?;
    println!(
        "write_layer: {} KiB in {:.2?}",
        blob.size >> 10,
        t.elapsed()
    );

    let out = work.path().join("out");
    std::fs::create_dir_all(&out)?;
    let mut snap = Snapshotter::new(out.clone(), IgnoreList::default(), SnapshotMode::Full);
    let t = Instant::now();
    let file = BufReader::with_capacity(1 << 20, std::fs::File::open(&blob.path)?);
    let input = rootfs::ReadAhead::new(rootfs::decompressor(file)?);
    let stats = extract_layer(input, &out, &IgnoreList::default(), Some(snap.table_mut()))?;
    println!(
        "extract_layer: {} entries in {:.2?}",
        stats.entries,
        t.elapsed()
    );

    let t = Instant::now();
    let after = snap.take_full()?;
    println!(
        "snapshot after unpack: {} changes in {:.2?}",
        after.entries.len(),
        t.elapsed()
    );
    if !after.is_empty() {
        return Err("the table recorded while unpacking is out of date".into());
    }
    Ok(())
}
