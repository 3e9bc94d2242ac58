//! Layers uploaded while they are written: each layer of the final image is handed, as its
//! compressed bytes are made, to an uploader the caller provides (the executor streams it to
//! every destination), so the push overlaps the compression. Best effort: an upload that
//! fails never fails the build, the push then sends the blob from its file.

use std::sync::Arc;

/// Starts uploads of layers being written.
pub trait LayerUploads: Send + Sync {
    /// A sink for the compressed bytes of a layer about to be written; `None` to skip.
    fn begin(&self) -> Option<Box<dyn LayerSink>>;
}

/// One layer's upload, fed while the layer is written. Dropped without
/// [`finish`](LayerSink::finish), the upload is abandoned.
pub trait LayerSink: Send {
    /// The next compressed bytes; false once the upload gave up (send nothing more).
    fn send(&mut self, bytes: &[u8]) -> bool;
    /// The layer is complete: its digest.
    fn finish(self: Box<Self>, digest: &image::Digest);
}

/// The uploader a build streams its layers to ([`crate::BuildOptions::uploads`]).
#[derive(Clone)]
pub struct Uploads(pub Arc<dyn LayerUploads>);

impl std::fmt::Debug for Uploads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Uploads")
    }
}

/// A sink as the layer writer's tee: a refusal ends the tee, not the layer.
pub(crate) struct SinkWriter {
    sink: Box<dyn LayerSink>,
    refused: bool,
}

impl SinkWriter {
    pub fn new(sink: Box<dyn LayerSink>) -> SinkWriter {
        SinkWriter {
            sink,
            refused: false,
        }
    }

    /// Completes the upload, unless it gave up on the way.
    pub fn finish(self, digest: &image::Digest) {
        if !self.refused {
            self.sink.finish(digest);
        }
    }
}

impl std::io::Write for SinkWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !self.refused && self.sink.send(buf) {
            Ok(buf.len())
        } else {
            self.refused = true;
            Err(std::io::Error::other("the upload gave up"))
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
