//! The final image's layers streamed to every destination while they are written (the
//! engine's [`LayerUploads`]): one upload per layer and destination, fed through a small
//! bounded channel, so memory stays flat and the compression waits for a slower registry
//! instead of buffering. Best effort: a failed stream is logged at debug level and the push
//! uploads that blob from its file afterwards (its HEAD finds the streamed ones).

use engine::{LayerSink, LayerUploads};
use image::Digest;
use registry::{Client, Reference};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::{debug, field::Empty, info_span, Instrument, Span};

/// Chunks (about 1 MiB each: one gzip member) waiting per upload.
const QUEUED: usize = 4;

pub struct StreamedUploads {
    client: Arc<Client>,
    destinations: Vec<Reference>,
    running: Mutex<Vec<JoinHandle<()>>>,
}

impl StreamedUploads {
    pub fn new(client: Arc<Client>, destinations: Vec<Reference>) -> StreamedUploads {
        StreamedUploads {
            client,
            destinations,
            running: Mutex::new(Vec::new()),
        }
    }

    /// Waits for every upload started so far (before the push checks which blobs exist).
    pub async fn settle(&self) {
        let running = match self.running.lock() {
            Ok(mut r) => std::mem::take(&mut *r),
            Err(_) => return,
        };
        for task in running {
            let _ = task.await;
        }
    }
}

struct Stream {
    chunks: mpsc::Sender<Vec<u8>>,
    digest: oneshot::Sender<Digest>,
}

struct Sink(Vec<Stream>);

impl LayerUploads for StreamedUploads {
    fn begin(&self) -> Option<Box<dyn LayerSink>> {
        let rt = tokio::runtime::Handle::try_current().ok()?;
        let mut streams = Vec::new();
        for dest in &self.destinations {
            let (chunks, rx) = mpsc::channel::<Vec<u8>>(QUEUED);
            let (digest, done) = oneshot::channel::<Digest>();
            let sent = Arc::new(AtomicU64::new(0));
            let counted = sent.clone();
            let body = futures_util::stream::unfold(rx, move |mut rx| {
                let counted = counted.clone();
                async move {
                    let chunk = rx.recv().await?;
                    counted.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                    Some((Ok(chunk), rx))
                }
            });
            let (client, dest) = (self.client.clone(), dest.clone());
            // Under the span writing the layer (current on the writer's thread), so the
            // upload's requests stay in the build's trace.
            // `bytes` once the registry took the whole layer (the summary counts it pushed).
            let span = info_span!("Streaming layer", kaniko.destination = %dest, bytes = Empty);
            let upload = async move {
                match client
                    .stream_blob(&dest, body, async { done.await.ok() })
                    .await
                {
                    Ok(true) => {
                        Span::current().record("bytes", sent.load(Ordering::Relaxed));
                        debug!("layer streamed to {dest}");
                    }
                    Ok(false) => debug!("layer stream to {dest} abandoned"),
                    Err(e) => debug!("layer stream to {dest} failed ({e}); the push sends it"),
                }
            };
            let task = rt.spawn(upload.instrument(span));
            if let Ok(mut r) = self.running.lock() {
                r.push(task);
            }
            streams.push(Stream { chunks, digest });
        }
        Some(Box::new(Sink(streams)))
    }
}

impl LayerSink for Sink {
    fn send(&mut self, bytes: &[u8]) -> bool {
        // Called from the layer writer's blocking thread: waiting here is the backpressure.
        self.0
            .retain(|s| s.chunks.blocking_send(bytes.to_vec()).is_ok());
        !self.0.is_empty()
    }

    fn finish(self: Box<Self>, digest: &Digest) {
        for s in self.0 {
            drop(s.chunks); // ends the body
            let _ = s.digest.send(digest.clone());
        }
    }
}
