//! OpenTelemetry traces of a build, off unless an endpoint is set (`settings`): the
//! `tracing` spans the engine, the registry client and the outputs open become one trace
//! per build (`tracing-opentelemetry` over the OpenTelemetry SDK), sent to an OTLP
//! collector over HTTP/protobuf or gRPC (`opentelemetry-otlp`, on connections made in
//! `connect`), as a child of the CI's span when `TRACEPARENT` names one. Best effort:
//! a collector that cannot be reached is a warning, never a failed build. Off, nothing
//! of this exists (no exporter, no connection, no task).

mod connect;
mod parent;
mod processor;
pub mod settings;

use opentelemetry::trace::{Status, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use processor::Deferred;
use settings::{Env, Protocol, Settings};
use std::time::Duration;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::{Layer, Registry};

/// How long the end of a build waits for the collector.
const FLUSH_LIMIT: Duration = Duration::from_secs(5);

/// What the trace's resource says about the build.
pub struct BuildInfo<'a> {
    pub dockerfile: &'a str,
    pub target: Option<&'a str>,
}

pub struct Telemetry {
    settings: Settings,
    collector: connect::Collector,
    ca: Option<Vec<u8>>,
    provider: SdkTracerProvider,
    processor: Deferred,
}

impl Telemetry {
    /// From the environment: `Ok(None)` when tracing is off; `Err` (a warning to log)
    /// when it is asked for but cannot be set up.
    pub fn from_env(
        env: Env,
        info: &BuildInfo,
        resolver: &resolve::Resolver,
    ) -> Result<Option<Telemetry>, String> {
        let Some(settings) = Settings::from_env(env)? else {
            return Ok(None);
        };
        let collector = connect::Collector::parse(&settings.endpoint, resolver)
            .map_err(|e| format!("telemetry collector: {e}"))?;
        let ca = connect::ca_certificate(env)?;
        let processor = Deferred::default();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(processor.clone())
            .with_resource(resource(env, info))
            .build();
        Ok(Some(Telemetry {
            settings,
            collector,
            ca,
            provider,
            processor,
        }))
    }

    /// Said once logging is up.
    pub fn warnings(&self) -> &[String] {
        &self.settings.warnings
    }

    /// Whether the Dockerfile's text goes into the trace (`KANIKO_TELEMETRY_OMIT_DOCKERFILE`).
    pub fn exports_dockerfile(&self) -> bool {
        !self.settings.omit_dockerfile
    }

    /// The layer turning the project's spans (and its warnings and errors, as span
    /// events) into OpenTelemetry spans.
    pub fn layer(&self) -> Box<dyn Layer<Registry> + Send + Sync> {
        let tracer = self.provider.tracer("kaniko-rs");
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_threads(false)
            .with_tracked_inactivity(false)
            .with_filter(filter_fn(|m| {
                crate::logging::own_target(m.target())
                    && (m.is_span() || *m.level() <= tracing::Level::WARN)
            }))
            .boxed()
    }

    /// Starts exporting on `runtime` (the exporter is made here: a gRPC channel needs it).
    pub fn attach(&self, runtime: &tokio::runtime::Handle) -> Result<(), String> {
        let _in = runtime.enter();
        let exporter = match self.settings.protocol {
            Protocol::HttpProtobuf => {
                use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
                let client = connect::http_client(&self.collector, self.ca.as_deref())?;
                opentelemetry_otlp::SpanExporter::builder()
                    .with_http()
                    .with_http_client(connect::OtlpHttp(client))
                    .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                    .with_endpoint(self.settings.endpoint.clone())
                    .build()
            }
            Protocol::Grpc => {
                use opentelemetry_otlp::WithTonicConfig;
                let channel = connect::grpc_channel(&self.collector, self.ca.as_deref())?;
                opentelemetry_otlp::SpanExporter::builder()
                    .with_tonic()
                    .with_channel(channel)
                    .build()
            }
        }
        .map_err(|e| format!("telemetry exporter: {e}"))?;
        self.processor.attach(exporter, runtime.clone());
        Ok(())
    }

    /// Makes `build` a child of the CI's span (`TRACEPARENT`, `TRACESTATE`), if any.
    pub fn adopt_parent(&self, build: &Span, env: Env) {
        if let Some(cx) = parent::from_env(env) {
            let _ = build.set_parent(cx);
        }
    }

    /// Ends `build` with its totals and outcome and sends what is left (at most
    /// [`FLUSH_LIMIT`]). Returns a warning when spans were lost.
    pub fn finish(
        &self,
        runtime: &tokio::runtime::Runtime,
        build: Span,
        totals: &[(&'static str, u64)],
        failure: Option<String>,
    ) -> Option<String> {
        for (k, v) in totals {
            build.set_attribute(*k, i64::try_from(*v).unwrap_or(i64::MAX));
        }
        build.set_status(match failure {
            Some(e) => Status::error(e),
            None => Status::Ok,
        });
        drop(build);
        match runtime.block_on(self.processor.flush(FLUSH_LIMIT)) {
            Ok(0) => None,
            Ok(n) => Some(format!("telemetry: {n} spans were dropped")),
            Err(e) => Some(format!("telemetry: {e}")),
        }
    }
}

/// `service.name` (`kaniko` unless `OTEL_SERVICE_NAME` or `OTEL_RESOURCE_ATTRIBUTES`
/// names one), the fork's build attributes, and `OTEL_RESOURCE_ATTRIBUTES`.
fn resource(env: Env, info: &BuildInfo) -> Resource {
    let named = env("OTEL_SERVICE_NAME").is_some_and(|v| !v.is_empty())
        || env("OTEL_RESOURCE_ATTRIBUTES").is_some_and(|v| v.contains("service.name="));
    let mut b = Resource::builder();
    if !named {
        b = b.with_service_name("kaniko");
    }
    b.with_attributes([
        KeyValue::new("kaniko.version", env!("CARGO_PKG_VERSION")),
        KeyValue::new("kaniko.dockerfile", info.dockerfile.to_string()),
        KeyValue::new("kaniko.target", info.target.unwrap_or("").to_string()),
    ])
    .build()
}

/// Records on the current (build) span what identifies the build: the fork's
/// `kaniko.build_id` (the first 16 hex digits of sha256(Dockerfile + "|" + target)) and,
/// unless omitted, the Dockerfile's text (`kaniko.dockerfile.content`). A no-op when
/// tracing is off.
pub fn describe_build(dockerfile: &str, target: Option<&str>, content: bool) {
    use sha2::Digest as _;
    let span = Span::current();
    if span.is_disabled() {
        return;
    }
    let sum = sha2::Sha256::digest(format!("{dockerfile}|{}", target.unwrap_or("")));
    span.set_attribute("kaniko.build_id", hex::encode(sum)[..16].to_string());
    if content {
        span.set_attribute("kaniko.dockerfile.content", dockerfile.to_string());
    }
}
