//! The build summary logged at the end of every build: a `tracing` layer that reads the
//! spans the engine, the registry client and the outputs open (the same spans a trace
//! exports) and adds up where the time and the bytes went, per stage and in all.
//!
//! Spans it reads (by name): `Stage` (`kaniko.stage`, `kaniko.stage.name`);
//! `Retrieving Source Image` and `Pulling blob` (pull; `bytes`); `FS Unpacking` (unpack);
//! `Execute` with `kaniko.phase = "build"` (RUN); `Snapshotting FS` and `Initial FS
//! snapshot` (snapshot); `Compressing layer` (compress); `Pushing blob`, `Pushing
//! manifest` and `Pushing cached layer` (push; `bytes` when sent); `Streaming layer`
//! (`bytes` streamed while the layer was written: counted pushed, its time is the
//! compression's); `Command`
//! (`kaniko.cache.hit`); `Registry request` (`kaniko.registry.retries`).

mod tally;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tally::{Kind, Tally};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::Subscriber;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// The summary of one run: the layer that records it and the lines at the end.
#[derive(Clone, Default)]
pub struct Summary {
    tally: Arc<Mutex<Tally>>,
}

impl Summary {
    pub fn new() -> Summary {
        Summary::default()
    }

    /// The layer to install (it sees spans whatever the log level).
    pub fn layer(&self) -> SummaryLayer {
        SummaryLayer {
            tally: self.tally.clone(),
        }
    }

    /// The summary's lines: one per stage, then the totals over `elapsed`.
    pub fn lines(&self, elapsed: Duration) -> Vec<String> {
        self.tally
            .lock()
            .map(|t| t.lines(elapsed))
            .unwrap_or_default()
    }

    /// Totals for the trace's root span: bytes pulled and pushed, cache hits and misses,
    /// registry requests and retries.
    pub fn totals(&self) -> Option<Totals> {
        let t = self.tally.lock().ok()?;
        let c = t.total();
        Some(Totals {
            pulled: c.pulled,
            pushed: c.pushed,
            hits: c.hits,
            misses: c.misses,
            requests: t.requests,
            retries: t.retries,
        })
    }
}

/// See [`Summary::totals`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Totals {
    pub pulled: u64,
    pub pushed: u64,
    pub hits: u64,
    pub misses: u64,
    pub requests: u64,
    pub retries: u64,
}

pub struct SummaryLayer {
    tally: Arc<Mutex<Tally>>,
}

/// What the layer keeps of each span it follows.
#[derive(Default)]
struct Timing {
    start: Option<Instant>,
    stage: Option<u64>,
    fields: Fields,
}

/// The fields the summary reads.
#[derive(Default)]
struct Fields {
    stage: Option<u64>,
    stage_name: Option<String>,
    bytes: Option<u64>,
    phase: Option<String>,
    hit: Option<bool>,
    retries: Option<u64>,
}

impl Visit for Fields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "kaniko.stage" => self.stage = Some(value),
            "bytes" => self.bytes = Some(value),
            "kaniko.registry.retries" => self.retries = Some(value),
            _ => {}
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        if let Ok(v) = u64::try_from(value) {
            self.record_u64(field, v);
        }
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        if field.name() == "kaniko.cache.hit" {
            self.hit = Some(value);
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "kaniko.phase" => self.phase = Some(value.to_string()),
            "kaniko.stage.name" => self.stage_name = Some(value.to_string()),
            _ => {}
        }
    }
    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

fn kind(name: &str, fields: &Fields) -> Option<Kind> {
    Some(match name {
        "Retrieving Source Image" | "Pulling blob" => Kind::Pull,
        "FS Unpacking" => Kind::Unpack,
        "Execute" if fields.phase.as_deref() == Some("build") => Kind::Run,
        "Snapshotting FS" | "Initial FS snapshot" => Kind::Snapshot,
        "Compressing layer" => Kind::Compress,
        "Pushing blob" | "Pushing manifest" | "Pushing cached layer" => Kind::Push,
        _ => return None,
    })
}

impl<S> Layer<S> for SummaryLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let inherited = span
            .parent()
            .and_then(|p| p.extensions().get::<Timing>().and_then(|t| t.stage));
        let timing = Timing {
            start: Some(Instant::now()),
            stage: fields.stage.or(inherited),
            fields,
        };
        span.extensions_mut().insert(timing);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            if let Some(t) = span.extensions_mut().get_mut::<Timing>() {
                values.record(&mut t.fields);
            }
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let name = span.name();
        let mut ext = span.extensions_mut();
        let Some(t) = ext.get_mut::<Timing>() else {
            return;
        };
        let Ok(mut tally) = self.tally.lock() else {
            return;
        };
        record(&mut tally, name, t, Instant::now());
    }
}

/// Adds a closed span to the tally.
fn record(tally: &mut Tally, name: &str, t: &Timing, end: Instant) {
    let f = &t.fields;
    if let Some(k) = kind(name, f) {
        if let Some(start) = t.start {
            tally.interval(t.stage, k, start, end);
        }
        let bytes = f.bytes.unwrap_or(0);
        match k {
            Kind::Pull if name == "Pulling blob" => tally.counts(t.stage).pulled += bytes,
            Kind::Push => tally.counts(t.stage).pushed += bytes,
            _ => {}
        }
    }
    match name {
        "Streaming layer" => tally.counts(t.stage).pushed += f.bytes.unwrap_or(0),
        "Stage" => {
            if let (Some(s), Some(n)) = (t.stage, &f.stage_name) {
                tally.stage_name(s, n);
            }
        }
        "Command" => match f.hit {
            Some(true) => tally.counts(t.stage).hits += 1,
            Some(false) => tally.counts(t.stage).misses += 1,
            None => {}
        },
        "Registry request" => {
            tally.requests += 1;
            tally.retries += f.retries.unwrap_or(0);
        }
        _ => {}
    }
}
