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
    let diff_ids = &base.config.rootfs.diff_ids;
    for (i, layer) in layers.iter().enumerate() {
        let open = |l: &'_ image::Descriptor| {
            let (digest, size) = (l.digest.clone(), l.size);
            async move {
                client
                    .blob_reader_sized(&base.reference, &digest, Some(size))
                    .await
            }
        };
        let reader = match pending.take() {
            Some(r) => r,
            None => open(layer).await?,
        };
        let next = layers.get(i + 1).map(open);
        let (root, ignore) = (root.clone(), ignore.clone());
        let digest = layer.digest.clone();
        let diff_id: image::Digest = diff_ids
            .get(i)
            .ok_or_else(|| BuildError::Other(format!("layer {digest} has no diff_id")))?
            .parse()
            .map_err(|e| BuildError::Other(format!("layer {digest}: {e}")))?;
        let bridge = SyncIoBridge::new(reader);
        let job = tokio::task::spawn_blocking(move || {
            let input =
                rootfs::LayerStream::new(BufReader::with_capacity(1 << 20, bridge), Some(diff_id))
                    .map_err(|e| BuildError::Other(format!("layer {digest}: {e}")))?;
            // Decompression and both digest checks run on their own thread while this one
            // creates files; a mismatch fails the extraction at the end of the stream.
            let input = rootfs::ReadAhead::new(input);
            rootfs::extract_layer(input, &root, &ignore, Some(snap.table_mut()))
                .map_err(|e| BuildError::Other(format!("layer {digest}: {e}")))?;
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
