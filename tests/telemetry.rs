//! OpenTelemetry traces, received by a collector that decodes real OTLP
//! (`testkit::otlp`: the `opentelemetry-proto` types, over HTTP/protobuf and gRPC): a
//! two-stage build is one trace under the CI's `TRACEPARENT`, with spans for the context,
//! each stage, the base pull and unpack, each instruction (its cache hit or miss on the
//! second build), snapshots, compression, pushes and registry requests; planted secrets
//! (a `--secret`, the registry password, `GIT_TOKEN`) are in no request's bytes. With no
//! endpoint set nothing is sent and the build is the same.

mod common;
use common::*;
use std::collections::HashSet;
use std::time::Duration;
use testkit::otlp::{Collector, Span};
use testkit::registry::{Auth, Registry};
use testkit::sandbox::Sandbox;

const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";
const PARENT_ID: &str = "b7ad6b7169203331";
const SECRET: &str = "s3cr3t-run-value-5e1d";
const PASSWORD: &str = "pa55word-7c2f91";
const GIT_TOKEN: &str = "ghp-planted-token-0b8e";

fn dockerfile(reg: &str) -> String {
    format!(
        "FROM {reg}/library/busybox:latest AS build\n\
         RUN --mount=type=secret,id=tok,env=TOK test -n \"$TOK\" && echo built > /out\n\
         FROM {reg}/library/busybox:latest\n\
         COPY --from=build /out /out\n"
    )
}

/// One build in a fresh sandbox sending its trace to `collector` (`protocol` set for gRPC).
fn traced_build(reg: &Registry, ctx: &std::path::Path, env: &[(&str, &str)]) -> String {
    let mut sb = Sandbox::new(&executor()).unwrap();
    sb.context(ctx)
        .docker_config(&reg.docker_config("ci", PASSWORD))
        .env("TRACEPARENT", &format!("00-{TRACE_ID}-{PARENT_ID}-01"))
        .env("PLANTED", SECRET)
        .env("GIT_TOKEN", GIT_TOKEN);
    for (k, v) in env {
        sb.env(k, v);
    }
    let dest = format!("{}/test/traced:1", reg.addr);
    let cache = format!("{}/test/traced-cache", reg.addr);
    let out = build_in(
        &sb,
        &[
            "--destination",
            &dest,
            "--cache=true",
            "--cache-repo",
            &cache,
            "--secret",
            "id=tok,env=PLANTED",
        ],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    out.stderr
}

fn named<'a>(spans: &'a [Span], name: &str) -> Vec<&'a Span> {
    spans.iter().filter(|s| s.name == name).collect()
}

fn attr_u64(s: &Span, key: &str) -> u64 {
    s.attr(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{}: no number {key}: {:?}", s.name, s.attributes))
}

/// One trace: every span carries the CI's trace id, `build` hangs under the CI's span and
/// every other span under a span of this trace.
fn check_one_trace(spans: &[Span]) -> &Span {
    assert!(spans.iter().all(|s| s.trace_id == TRACE_ID), "{spans:#?}");
    let builds = named(spans, "build");
    assert_eq!(builds.len(), 1);
    let build = builds[0];
    assert_eq!(build.parent_span_id, PARENT_ID);
    let ids: HashSet<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
    for s in spans.iter().filter(|s| s.name != "build") {
        assert!(
            ids.contains(s.parent_span_id.as_str()),
            "orphan span {s:#?}"
        );
    }
    assert_eq!(
        build
            .resource
            .iter()
            .find(|(k, _)| k == "service.name")
            .map(|(_, v)| v.as_str()),
        Some("kaniko")
    );
    assert!(build.resource.iter().any(|(k, _)| k == "kaniko.version"));
    build
}

fn check_no_secret(collector: &Collector) {
    let raw = collector.raw();
    assert!(!raw.is_empty());
    for body in raw {
        for planted in [SECRET, PASSWORD, GIT_TOKEN] {
            let found = body.windows(planted.len()).any(|w| w == planted.as_bytes());
            assert!(!found, "{planted} was sent to the collector");
        }
    }
}

/// `url` with the loopback address spelled `localhost`.
fn by_name(url: &str) -> String {
    assert!(url.contains("127.0.0.1"), "{url}");
    url.replace("127.0.0.1", "localhost")
}

#[test]
fn a_two_stage_build_is_one_trace_under_traceparent_over_http_then_grpc() {
    let auth = Auth::Basic {
        user: "ci".into(),
        password: PASSWORD.into(),
    };
    let reg = Registry::start(auth, false).unwrap();
    push_busybox_to(&reg);
    let ctx = context(&[("Dockerfile", &dockerfile(&reg.addr))]);

    // First build: everything runs; OTLP over HTTP/protobuf, the fork's variable. The
    // collector is named by host name (the sandbox's /etc/hosts), so the exporter resolves
    // it after the base image was unpacked, with the resolver read at start.
    let http = Collector::http().unwrap();
    traced_build(
        &reg,
        ctx.path(),
        &[("KANIKO_TELEMETRY_ENDPOINT", &by_name(&http.url))],
    );
    let spans = http.wait_for("build", Duration::from_secs(10)).unwrap();
    let build = check_one_trace(&spans);
    assert!(build
        .attr("kaniko.dockerfile.content")
        .is_some_and(|c| c.contains("COPY --from=build")));
    assert!(attr_u64(build, "kaniko.registry.requests") > 0);
    assert!(attr_u64(build, "kaniko.bytes.pulled") > 0);
    assert!(attr_u64(build, "kaniko.bytes.pushed") > 0);
    assert_eq!(build.attr("kaniko.build_id").map(str::len), Some(16));
    let mut stages: Vec<u64> = named(&spans, "Stage")
        .iter()
        .map(|s| attr_u64(s, "kaniko.stage"))
        .collect();
    stages.sort_unstable();
    assert_eq!(stages, [0, 1]);
    for name in [
        "Fetching context",
        "Retrieving Source Image",
        "FS Unpacking",
        "Unpacking layer",
        "Execute",
        "Snapshotting FS",
        "Compressing layer",
        "Pushing blob",
        "Streaming layer",
        "Total Push Time",
        "Pushing manifest",
        "Pushing cached layer",
        "Registry request",
    ] {
        assert!(!named(&spans, name).is_empty(), "no {name} span");
    }
    let unpacked = named(&spans, "Unpacking layer");
    assert!(unpacked
        .iter()
        .all(|s| attr_u64(s, "bytes") > 0 && attr_u64(s, "kaniko.files") > 0));
    assert!(named(&spans, "Compressing layer")
        .iter()
        .all(|s| attr_u64(s, "bytes") > 0));
    // The final image's layers went up while they were written, and count as pushed.
    let streamed: u64 = named(&spans, "Streaming layer")
        .iter()
        .map(|s| attr_u64(s, "bytes"))
        .sum();
    assert!(streamed > 0);
    let sent: u64 = spans
        .iter()
        .filter(|s| {
            [
                "Pushing blob",
                "Pushing manifest",
                "Pushing cached layer",
                "Streaming layer",
            ]
            .contains(&s.name.as_str())
        })
        .filter_map(|s| s.attr("bytes").and_then(|v| v.parse::<u64>().ok()))
        .sum();
    assert_eq!(attr_u64(build, "kaniko.bytes.pushed"), sent);
    let run = |spans: &[Span]| -> Span {
        named(spans, "Command")
            .into_iter()
            .find(|s| {
                s.attr("kaniko.command")
                    .is_some_and(|c| c.starts_with("RUN "))
            })
            .cloned()
            .expect("the RUN's span")
    };
    let first = run(&spans);
    assert_eq!(first.attr("kaniko.cache.hit"), Some("false"));
    assert_eq!(first.attr("kaniko.phase"), Some("build"));
    assert_eq!(
        first.attr("kaniko.instruction.line").map(str::to_string),
        Some("2".into())
    );
    check_no_secret(&http);

    // Second build: the RUN is a cache hit; OTLP over gRPC, the standard variables, and
    // the Dockerfile left out.
    let grpc = Collector::grpc().unwrap();
    let log = traced_build(
        &reg,
        ctx.path(),
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &by_name(&grpc.url)),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("KANIKO_TELEMETRY_OMIT_DOCKERFILE", "true"),
        ],
    );
    let spans = grpc.wait_for("build", Duration::from_secs(10)).unwrap();
    let build = check_one_trace(&spans);
    assert_eq!(build.attr("kaniko.dockerfile.content"), None);
    assert!(attr_u64(build, "kaniko.cache.hits") >= 1);
    let second = run(&spans);
    assert_eq!(
        second.attr("kaniko.cache.hit"),
        Some("true"),
        "{log}\n{second:?}\n{first:?}"
    );
    assert_eq!(
        second.attr("kaniko.cache.key"),
        first.attr("kaniko.cache.key")
    );
    assert!(named(&spans, "Execute")
        .iter()
        .all(|s| s.attr("kaniko.phase") != Some("build")));
    check_no_secret(&grpc);
}

#[test]
fn without_an_endpoint_nothing_is_sent_and_the_summary_is_logged() {
    let reg = registry_with_busybox();
    let http = Collector::http().unwrap();
    let df = format!(
        "FROM {}/library/busybox:latest AS a\nRUN echo a > /a\nFROM {}/library/busybox:latest\nCOPY --from=a /a /a\n",
        reg.addr, reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let mut sb = Sandbox::new(&executor()).unwrap();
    // The standard variables without an endpoint, and a disabled SDK with one.
    sb.context(ctx.path())
        .env("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer x")
        .env("OTEL_SDK_DISABLED", "true")
        .env("KANIKO_TELEMETRY_ENDPOINT", &http.url);
    let dest = format!("{}/test/untraced:1", reg.addr);
    let out = build_in(&sb, &["--destination", &dest]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    std::thread::sleep(Duration::from_millis(300));
    assert!(http.raw().is_empty());
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("Build summary: "))
        .collect();
    assert_eq!(lines.len(), 3, "{}", out.stderr);
    assert!(
        lines[0].contains("Build summary: stage 0 (a): pull "),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("Build summary: stage 1: pull "),
        "{}",
        lines[1]
    );
    assert!(lines[2].contains("Build summary: total "), "{}", lines[2]);
    for part in [
        "unpack ",
        "RUN ",
        "snapshot ",
        "compress ",
        "push ",
        " pulled",
        " pushed",
        "cache: 0 hits",
        "registry: ",
    ] {
        assert!(lines[2].contains(part), "{part}: {}", lines[2]);
    }
}
