//! Pushes an image no well-behaved tool would make: a base image plus one layer given as raw
//! tar bytes (hostile paths, links out of the root, …), edited directly in an OCI layout.

use super::exec;
use anyhow::{Context, Result};
use std::process::Command;

/// Pushes `base` plus one more layer made of the raw tar bytes `layer` (uncompressed) as
/// `reference`: for images no well-behaved tool would make, such as hostile ones.
pub fn push_with_raw_layer(
    registry: &str,
    base: &str,
    reference: &str,
    layer: &[u8],
) -> Result<()> {
    use sha2::Digest as _;
    let work = tempfile::tempdir()?;
    let layout = work.path().join("oci");
    exec(
        Command::new("skopeo")
            .args(["copy", "-q", "--src-tls-verify=false", "--format", "oci"])
            .arg(format!("docker://{registry}/{base}"))
            .arg(format!("oci:{}:base", layout.display())),
    )?;
    let blobs = layout.join("blobs/sha256");
    let put = |bytes: &[u8]| -> Result<String> {
        let hex = hex::encode(sha2::Sha256::digest(bytes));
        std::fs::write(blobs.join(&hex), bytes)?;
        Ok(format!("sha256:{hex}"))
    };
    let index_path = layout.join("index.json");
    let mut index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&index_path)?)?;
    let mdigest = index["manifests"][0]["digest"]
        .as_str()
        .context("index without manifest")?
        .to_string();
    let mut manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(
        blobs.join(mdigest.trim_start_matches("sha256:")),
    )?)?;
    let cdigest = manifest["config"]["digest"]
        .as_str()
        .context("manifest without config")?
        .to_string();
    let mut config: serde_json::Value = serde_json::from_slice(&std::fs::read(
        blobs.join(cdigest.trim_start_matches("sha256:")),
    )?)?;
    let diff_id = put(layer)?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, layer)?;
    let compressed = gz.finish()?;
    let ldigest = put(&compressed)?;
    manifest["layers"].as_array_mut().context("layers")?.push(serde_json::json!({
        "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ldigest, "size": compressed.len()
    }));
    config["rootfs"]["diff_ids"]
        .as_array_mut()
        .context("diff_ids")?
        .push(serde_json::json!(diff_id));
    let cbytes = serde_json::to_vec(&config)?;
    manifest["config"]["digest"] = serde_json::json!(put(&cbytes)?);
    manifest["config"]["size"] = serde_json::json!(cbytes.len());
    let mbytes = serde_json::to_vec(&manifest)?;
    index["manifests"][0]["digest"] = serde_json::json!(put(&mbytes)?);
    index["manifests"][0]["size"] = serde_json::json!(mbytes.len());
    std::fs::write(&index_path, serde_json::to_vec(&index)?)?;
    exec(
        Command::new("skopeo")
            .args(["copy", "-q", "--dest-tls-verify=false"])
            .arg(format!("oci:{}:base", layout.display()))
            .arg(format!("docker://{registry}/{reference}")),
    )?;
    Ok(())
}
