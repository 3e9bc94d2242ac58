//! A downloaded archive on its way into the context directory: the byte stream from the
//! network, bridged to a blocking reader, decompressed (gzip, zstd or plain tar, told by
//! its first bytes) and unpacked by `rootfs`' contained extractor, chunk by chunk.

use crate::Error;
use bytes::Bytes;
use futures_util::Stream;
use std::io::{self, BufReader};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio_util::io::{StreamReader, SyncIoBridge};

/// The largest archive read from the network; past it the download fails.
pub(crate) const MAX_ARCHIVE_BYTES: u64 = 64 << 30;
const READ_BUF: usize = 1 << 20;

/// A multi-threaded runtime with one worker, which drives the network while the calling
/// thread blocks in the extractor.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("starting the download runtime: {e}")))
}

/// Unpacks the archive arriving on `stream` into `dest`. Must run outside the runtime
/// (the bridge blocks on `rt`).
pub(crate) fn extract_stream<S>(
    rt: &tokio::runtime::Runtime,
    stream: S,
    dest: &Path,
    location: &str,
    expansion: crate::Expansion,
) -> Result<(), Error>
where
    S: Stream<Item = io::Result<Bytes>> + Send + Unpin,
{
    let bridge = SyncIoBridge::new_with_handle(StreamReader::new(stream), rt.handle().clone());
    let compressed = Arc::new(AtomicU64::new(0));
    let limited = Capped {
        inner: bridge,
        left: MAX_ARCHIVE_BYTES,
        read: compressed.clone(),
    };
    let unpack_err = |cause: String| Error::Unpack {
        location: location.to_string(),
        cause,
    };
    let input = rootfs::LayerStream::new(BufReader::with_capacity(READ_BUF, limited), None)
        .map_err(|e| unpack_err(e.to_string()))?;
    let input = Expanding {
        inner: input,
        compressed,
        unpacked: 0,
        bound: expansion,
    };
    let stats = rootfs::extract_layer(input, dest, &rootfs::IgnoreList::new(Vec::new()), None)
        .map_err(|e| unpack_err(crate::error::one_line(&e)))?;
    tracing::debug!("unpacked {} entries from {location}", stats.entries);
    Ok(())
}

/// A reader that fails once more than its budget was read, counting what it read.
struct Capped<R> {
    inner: R,
    left: u64,
    read: Arc<AtomicU64>,
}

impl<R: io::Read> io::Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            io::Error::other(format!(
                "the archive is larger than {MAX_ARCHIVE_BYTES} bytes"
            ))
        })?;
        Ok(n)
    }
}

/// The unpacked stream, failing once it holds more than its [`crate::Expansion`] allows for
/// the compressed bytes read so far (a decompression bomb stops before it fills the disk).
struct Expanding<R> {
    inner: R,
    compressed: Arc<AtomicU64>,
    unpacked: u64,
    bound: crate::Expansion,
}

impl<R: io::Read> io::Read for Expanding<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.unpacked += n as u64;
        if self.bound.ratio > 0 {
            let read = self.compressed.load(Ordering::Relaxed);
            let max = read.saturating_mul(self.bound.ratio).max(self.bound.floor);
            if self.unpacked > max {
                return Err(io::Error::other(format!(
                    "the archive expands past {max} bytes, {} times the {read} read (KANIKO_MAX_LAYER_EXPANSION)",
                    self.bound.ratio
                )));
            }
        }
        Ok(n)
    }
}
