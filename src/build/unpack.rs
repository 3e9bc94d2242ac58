//! Unpacking the base image over the root: each layer streamed from the registry through
//! the decompressor into the extractor, while the next layers already download.

use super::BuildError;
use registry::{Client, RemoteImage};
use rootfs::{IgnoreList, Snapshotter};
use std::io::BufReader;
use std::path::PathBuf;
use tokio_util::io::SyncIoBridge;

/// Extracts every layer of `base` in order over `root`, recording files in the snapshotter's table.
pub async fn unpack(
    client: &Client,
    base: &RemoteImage,
    root: PathBuf,
    ignore: IgnoreList,
    mut snap: Snapshotter,
) -> Result<Snapshotter, BuildError> {
    // Open the next layer's stream while the current one extracts.
    let mut pending = None;
    let layers = &base.manifest.layers;
    for (i, layer) in layers.iter().enumerate() {
        let reader = match pending.take() {
            Some(r) => r,
            None => client.blob_reader(&base.reference, &layer.digest).await?,
        };
        let next = layers
            .get(i + 1)
            .map(|l| client.blob_reader(&base.reference, &l.digest));
        let (root, ignore) = (root.clone(), ignore.clone());
        let digest = layer.digest.clone();
        let bridge = SyncIoBridge::new(reader);
        let job = tokio::task::spawn_blocking(move || {
            let input = rootfs::decompressor(BufReader::with_capacity(1 << 20, bridge))
                .map_err(|e| BuildError::Other(format!("layer {digest}: {e}")))?;
            // Decompression runs on its own thread while this one creates files.
            let input = rootfs::ReadAhead::new(input);
            rootfs::extract_layer(input, &root, &ignore, Some(snap.table_mut()))?;
            Ok::<_, BuildError>(snap)
        });
        if let Some(next) = next {
            pending = Some(next.await?);
        }
        snap = job
            .await
            .map_err(|e| BuildError::Other(format!("unpack task: {e}")))??;
    }
    Ok(snap)
}
