//! Unpacking an image over the root: each layer streamed from its source through the
//! decompressor (on its own thread) into the contained extractor, while the next layer's
//! stream already opens. A layer is trusted only once its whole blob was read and its
//! digest, size and diff_id matched; a mismatch fails the build (never retried), a broken
//! connection is retried `retries` times for that layer.

use crate::built::Layer;
use crate::options::UnpackLimits;
use crate::root::BuildRoot;
use crate::source::{open_layer, BlobStream, ImageSource};
use crate::BuildError;
use rootfs::{IgnoreList, Snapshotter};
use std::io::BufReader;
use std::path::PathBuf;
use tokio_util::io::SyncIoBridge;

/// Extracts `layers` in order over `root`, recording every path in its snapshot table.
pub async fn unpack(
    source: &dyn ImageSource,
    layers: &[Layer],
    root: &mut BuildRoot,
    limits: UnpackLimits,
) -> Result<(), BuildError> {
    let (dir, ignore, snap) = root.parts_mut();
    unpack_into(source, layers, dir, ignore, snap, limits).await
}

async fn unpack_into(
    source: &dyn ImageSource,
    layers: &[Layer],
    dir: &std::path::Path,
    ignore: &IgnoreList,
    snap: &mut Snapshotter,
    limits: UnpackLimits,
) -> Result<(), BuildError> {
    let retries = limits.retries;
    let mut pending: Option<BlobStream> = None;
    for (i, layer) in layers.iter().enumerate() {
        let mut attempt = 0;
        let span = tracing::info_span!(
            "Unpacking layer",
            digest = %layer.desc.digest,
            bytes = layer.desc.size,
            kaniko.files = tracing::field::Empty,
        );
        loop {
            let reader = match pending.take() {
                Some(r) => r,
                None => open_layer(source, layer).await?,
            };
            let max = limits.max_bytes(layer.desc.size);
            let job = extract_job(reader, layer, max, dir.to_path_buf(), ignore.clone(), snap);
            let next = match layers.get(i + 1) {
                Some(n) if attempt == 0 => Some(open_layer(source, n).await),
                _ => None,
            };
            let (result, table) = job.await.map_err(BuildError::task)?;
            *snap.table_mut() = table;
            match result {
                Ok(stats) => {
                    span.record("kaniko.files", stats.entries);
                    pending = next.transpose()?;
                    break;
                }
                Err(e) if retryable(&e) && attempt < retries => {
                    attempt += 1;
                    tracing::warn!(
                        "extracting layer {} failed ({e}); retrying ({attempt}/{retries})",
                        layer.desc.digest
                    );
                }
                Err(e) => {
                    return Err(BuildError::Other(format!(
                        "layer {}: {e}",
                        layer.desc.digest
                    )))
                }
            }
        }
    }
    Ok(())
}

const EXPANSION_HINT: &str = "more than KANIKO_MAX_LAYER_EXPANSION times its compressed \
     size (and over 1 GiB); set that variable higher, or to 0 for no bound";

type Job = tokio::task::JoinHandle<(
    Result<rootfs::ExtractStats, rootfs::Error>,
    rootfs::FileTable,
)>;

/// Extracts one layer on a blocking thread, with its own copy of the table.
fn extract_job(
    reader: BlobStream,
    layer: &Layer,
    max: Option<u64>,
    dir: PathBuf,
    ignore: IgnoreList,
    snap: &mut Snapshotter,
) -> Job {
    let mut table = std::mem::take(snap.table_mut());
    let diff_id = layer.diff_id.clone();
    tokio::task::spawn_blocking(move || {
        let bridge = SyncIoBridge::new(reader);
        let result =
            rootfs::LayerStream::new(BufReader::with_capacity(1 << 20, bridge), Some(diff_id))
                .map(|s| match max {
                    Some(max) => s.with_limit(max, EXPANSION_HINT),
                    None => s,
                })
                .map_err(rootfs::Error::Tar)
                .and_then(|input| {
                    let input = rootfs::ReadAhead::new(input);
                    rootfs::extract_layer(input, &dir, &ignore, Some(&mut table))
                });
        (result, table)
    })
}

/// Broken transfers may be retried; a digest or content mismatch never is (what was read
/// is not what the manifest names), nor is a local write failure.
fn retryable(e: &rootfs::Error) -> bool {
    matches!(e, rootfs::Error::Tar(io) if io.kind() != std::io::ErrorKind::InvalidData)
}
