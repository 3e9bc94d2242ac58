//! Finished spans, batched and exported on the build's own runtime. The SDK's batch
//! processors start a thread, or need a runtime, when they are made; the executor makes
//! its subscriber before it moves `--kaniko-dir` (which sets environment variables, so no
//! other thread may run yet) and before its runtime exists. This one only buffers until
//! [`Deferred::attach`] gives it the exporter and the runtime; then each full batch is
//! sent on a task, and [`Deferred::flush`] sends the rest at the end. No thread of its
//! own, ever.

use opentelemetry_otlp::SpanExporter as Otlp;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter, SpanProcessor};
use opentelemetry_sdk::Resource;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

/// Spans sent in one request.
const BATCH: usize = 512;
/// Spans held at most while none can be sent; later ones are dropped (and counted).
const MAX_HELD: usize = 16 * BATCH;

#[derive(Clone, Debug, Default)]
pub struct Deferred {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    spans: Vec<SpanData>,
    dropped: u64,
    resource: Option<Resource>,
    exporter: Option<Arc<Otlp>>,
    runtime: Option<Handle>,
    sending: Vec<JoinHandle<OTelSdkResult>>,
}

impl Deferred {
    /// From now on batches go to `exporter`, on `runtime`.
    pub fn attach(&self, mut exporter: Otlp, runtime: Handle) {
        let Ok(mut s) = self.state.lock() else { return };
        if let Some(r) = &s.resource {
            exporter.set_resource(r);
        }
        s.exporter = Some(Arc::new(exporter));
        s.runtime = Some(runtime);
        while s.spans.len() >= BATCH {
            send_batch(&mut s);
        }
    }

    /// Sends what is held and waits for every send, at most `limit`. Returns the spans
    /// dropped on the way (held past the bound, or refused by the collector).
    pub async fn flush(&self, limit: Duration) -> Result<u64, String> {
        let sending = {
            let Ok(mut s) = self.state.lock() else {
                return Err("telemetry state poisoned".into());
            };
            while !s.spans.is_empty() && s.exporter.is_some() {
                send_batch(&mut s);
            }
            std::mem::take(&mut s.sending)
        };
        let wait = async {
            let mut failed = None;
            for task in sending {
                match task.await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => failed = Some(e.to_string()),
                    Err(e) => failed = Some(e.to_string()),
                }
            }
            failed
        };
        match tokio::time::timeout(limit, wait).await {
            Err(_) => Err(format!("sending spans took longer than {limit:?}")),
            Ok(Some(e)) => Err(e),
            Ok(None) => Ok(self.state.lock().map(|s| s.dropped).unwrap_or(0)),
        }
    }
}

/// Starts sending the first batch held.
fn send_batch(s: &mut State) {
    let (Some(exporter), Some(runtime)) = (s.exporter.clone(), s.runtime.clone()) else {
        return;
    };
    let n = s.spans.len().min(BATCH);
    let batch: Vec<SpanData> = s.spans.drain(..n).collect();
    s.sending.retain(|t| !t.is_finished());
    s.sending
        .push(runtime.spawn(async move { exporter.export(batch).await }));
}

impl SpanProcessor for Deferred {
    fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &opentelemetry::Context) {}

    fn on_end(&self, span: SpanData) {
        let Ok(mut s) = self.state.lock() else { return };
        if s.spans.len() >= MAX_HELD {
            s.dropped += 1;
            return;
        }
        s.spans.push(span);
        if s.spans.len() >= BATCH {
            send_batch(&mut s);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn set_resource(&mut self, resource: &Resource) {
        if let Ok(mut s) = self.state.lock() {
            s.resource = Some(resource.clone());
        }
    }
}
