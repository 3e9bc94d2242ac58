//! kaniko-style log lines on stderr: `text` (logrus key=value), `color` (`INFO[0005] msg`,
//! seconds since start, or the time with `--log-timestamp`) and `json`.

use std::fmt;
use std::time::{Instant, SystemTime};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{filter_fn, FilterExt};
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Color,
    Json,
}

/// A layer installed beside the log lines (the build summary, the trace exporter).
pub type Extra = Box<dyn Layer<Registry> + Send + Sync>;

/// Installs the global subscriber (once, from main): the log lines (events of the
/// project's own crates at `level`; spans are never formatted), and `extra` layers with
/// their own filters.
pub fn init(format: Format, level: Level, timestamp: bool, extra: Vec<Extra>) {
    let fmt = KanikoFormat {
        format,
        timestamp,
        start: Instant::now(),
    };
    let lines = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .event_format(fmt)
        .with_filter(own_crates(level).and(filter_fn(|m| m.is_event())));
    // An empty list of layers would turn every event off (its level hint is OFF).
    let extra = (!extra.is_empty()).then_some(extra);
    let _ = tracing_subscriber::registry()
        .with(extra)
        .with(lines)
        .try_init();
}

/// Whether `target` belongs to one of the project's own crates.
pub fn own_target(target: &str) -> bool {
    let krate = target.split("::").next().unwrap_or(target);
    OWN_CRATES.contains(&krate)
}

/// The project's own crates: only their events are logged, as kaniko logs only its own.
/// Libraries' events (HTTP, TLS, git internals) would print a second error line for one
/// failure and, at trace level, request details.
const OWN_CRATES: [&str; 8] = [
    "executor",
    "kaniko_rs",
    "engine",
    "contextsrc",
    "registry",
    "rootfs",
    "dockerfile",
    "image",
];

fn own_crates(level: Level) -> tracing_subscriber::EnvFilter {
    let directives: Vec<String> = OWN_CRATES.iter().map(|c| format!("{c}={level}")).collect();
    tracing_subscriber::EnvFilter::new(format!("off,{}", directives.join(",")))
}

struct KanikoFormat {
    format: Format,
    timestamp: bool,
    start: Instant,
}

/// Collects an event's `message` field.
#[derive(Default)]
struct Message(String);

impl tracing::field::Visit for Message {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.0 = value.to_string();
        }
    }
}

fn level_name(l: &Level) -> &'static str {
    match *l {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warning",
        Level::ERROR => "error",
    }
}

impl<S, N> FormatEvent<S, N> for KanikoFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut msg = Message::default();
        event.record(&mut msg);
        // No URL's user, password or token in any line, whoever wrote it.
        let msg = Message(redact::urls_in(&msg.0));
        let level = level_name(event.metadata().level());
        // --log-timestamp asks for full precision (RFC 3339 with nanoseconds).
        let now = engine::clock::rfc3339(SystemTime::now(), self.timestamp);
        match self.format {
            Format::Text => writeln!(w, "time={:?} level={level} msg={:?}", now, msg.0),
            Format::Json => {
                let line = serde_json::json!({"level": level, "msg": msg.0, "time": now});
                writeln!(w, "{line}")
            }
            Format::Color => {
                let tag = level.to_uppercase();
                let tag = &tag[..tag.len().min(4)];
                let color = match *event.metadata().level() {
                    Level::ERROR => 31,
                    Level::WARN => 33,
                    Level::INFO => 36,
                    _ => 37,
                };
                let when = if self.timestamp {
                    now
                } else {
                    format!("{:04}", self.start.elapsed().as_secs())
                };
                if w.has_ansi_escapes() {
                    writeln!(w, "\x1b[{color}m{tag}\x1b[0m[{when}] {}", msg.0)
                } else {
                    writeln!(w, "{tag}[{when}] {}", msg.0)
                }
            }
        }
    }
}
