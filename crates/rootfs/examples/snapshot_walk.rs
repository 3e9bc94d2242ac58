//! Times the snapshot after a one-file change on an existing tree (a base image's root):
//! the baseline walk, then N snapshots that each find the one file a "RUN" wrote.
//!
//! `cargo run --release -p rootfs --example snapshot_walk -- DIR [N]`

use rootfs::{IgnoreList, SnapshotMode, Snapshotter};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().ok_or("usage: snapshot_walk DIR [N]")?);
    let n: usize = args.next().map_or(Ok(8), |a| a.parse())?;
    let mut snap = Snapshotter::new(dir.clone(), IgnoreList::default(), SnapshotMode::Full);
    let t = Instant::now();
    snap.init_from_walk()?;
    println!("baseline walk: {:.1?}", t.elapsed());
    for i in 0..n {
        let f = dir.join(format!("snapshot-walk-{i}.txt"));
        std::fs::write(&f, b"step\n")?;
        let t = Instant::now();
        let c = snap.take_full()?;
        println!(
            "snapshot {i}: {} entries in {:.1?}",
            c.entries.len(),
            t.elapsed()
        );
        std::fs::remove_file(&f)?;
    }
    Ok(())
}
