//! What an SBOM costs on a root: `cargo run --release -p attest --example sbom_cost -- ROOT`
//! prints the packages and files found and the wall time of reading the package databases,
//! writing the SPDX document and serializing it (the executor's SBOM work minus COPY/ADD
//! layers). README's attestation section quotes it for b5's base.

use std::time::{Instant, SystemTime};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::env::args().nth(1).ok_or("usage: sbom_cost ROOT")?;
    let start = Instant::now();
    let inventory = attest::packages::scan(std::path::Path::new(&root))?;
    let scanned = start.elapsed();
    let info = attest::sbom::DocumentInfo {
        name: "bench".into(),
        tool: "sbom_cost".into(),
        created: SystemTime::now(),
        namespace_base: "https://kaniko-rs.invalid/spdx".into(),
    };
    let doc = attest::sbom::document(&inventory, &[], &info);
    let bytes = serde_json::to_vec(&doc)?;
    let files: usize = inventory.packages.iter().map(|p| p.files.len()).sum();
    println!(
        "{} packages, {files} files: scan {:.3} s, document + JSON ({} bytes) {:.3} s total",
        inventory.packages.len(),
        scanned.as_secs_f64(),
        bytes.len(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
