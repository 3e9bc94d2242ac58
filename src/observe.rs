//! What a build reports about itself beside its log lines: the summary at the end of every
//! build, and, when an endpoint is set, an OpenTelemetry trace of it. Both read the same
//! `tracing` spans; this module installs them with the log lines and ends them.

use crate::cli::Options;
use crate::logging::{self, Extra};
use crate::summary::Summary;
use crate::telemetry::{BuildInfo, Telemetry};
use std::time::Instant;
use tracing::{info, info_span, warn, Span};
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::Layer;

pub struct Observer {
    summary: Summary,
    telemetry: Option<Telemetry>,
    started: Instant,
}

impl Observer {
    /// Installs the log lines, the summary and (when asked for) the trace exporter. Starts
    /// no thread: it runs before the kaniko dir moves.
    pub fn install(opts: &Options, resolver: &resolve::Resolver) -> Observer {
        let env = |k: &str| opts.env.telemetry.get(k);
        let info = BuildInfo {
            dockerfile: &opts.dockerfile,
            target: opts.target.as_deref(),
        };
        let (telemetry, problem) = match Telemetry::from_env(&env, &info, resolver) {
            Ok(t) => (t, None),
            Err(e) => (None, Some(e)),
        };
        let summary = Summary::new();
        let mut extra: Vec<Extra> = vec![summary
            .layer()
            .with_filter(filter_fn(|m| {
                m.is_span() && logging::own_target(m.target())
            }))
            .boxed()];
        extra.extend(telemetry.as_ref().map(Telemetry::layer));
        logging::init(
            opts.log_format.into(),
            opts.verbosity.into(),
            opts.log_timestamp,
            extra,
        );
        for w in problem
            .iter()
            .chain(telemetry.iter().flat_map(|t| t.warnings()))
        {
            warn!("{w}; continuing without traces");
        }
        Observer {
            summary,
            telemetry,
            started: Instant::now(),
        }
    }

    /// Starts sending traces on `runtime`; returns the build's root span.
    pub fn start(&self, runtime: &tokio::runtime::Handle, opts: &Options) -> Span {
        let build = info_span!("build");
        if let Some(t) = &self.telemetry {
            if let Err(e) = t.attach(runtime) {
                warn!("{e}; continuing without traces");
            }
            t.adopt_parent(&build, &|k| opts.env.telemetry.get(k));
        }
        build
    }

    /// Whether the Dockerfile's text goes into the trace.
    pub fn exports_dockerfile(&self) -> bool {
        self.telemetry
            .as_ref()
            .is_some_and(Telemetry::exports_dockerfile)
    }

    /// Logs the summary, then ends the trace (`failure`: the build's error line).
    pub fn finish(&self, runtime: &tokio::runtime::Runtime, build: Span, failure: Option<String>) {
        for line in self.summary.lines(self.started.elapsed()) {
            info!("{line}");
        }
        let Some(t) = &self.telemetry else { return };
        let totals = self.summary.totals().unwrap_or_default();
        let attrs = [
            ("kaniko.registry.requests", totals.requests),
            ("kaniko.registry.retries", totals.retries),
            ("kaniko.bytes.pulled", totals.pulled),
            ("kaniko.bytes.pushed", totals.pushed),
            ("kaniko.cache.hits", totals.hits),
            ("kaniko.cache.misses", totals.misses),
        ];
        if let Some(w) = t.finish(runtime, build, &attrs, failure) {
            warn!("{w}");
        }
    }
}
