//! A test OpenTelemetry collector on a free loopback port: OTLP over HTTP/protobuf
//! (`POST /v1/traces`, HTTP/1.1) or over gRPC (the `TraceService/Export` method, tonic's
//! server), every request decoded with the `opentelemetry-proto` types and kept, with its
//! raw bytes, for the test to read.

use anyhow::{bail, Context as _, Result};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use prost::Message;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the collector received.
#[derive(Default)]
struct Received {
    requests: Vec<ExportTraceServiceRequest>,
    /// Each request's protobuf bytes as they arrived (HTTP) or as decoded (gRPC).
    raw: Vec<Vec<u8>>,
}

/// One span with its resource's attributes.
#[derive(Clone, Debug)]
pub struct Span {
    pub name: String,
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    pub attributes: Vec<(String, String)>,
    pub resource: Vec<(String, String)>,
    /// Events' names and attributes, flattened.
    pub events: Vec<(String, Vec<(String, String)>)>,
    pub status_message: String,
    pub status_code: i32,
}

impl Span {
    /// An attribute's value, as text.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The collector, listening until dropped.
pub struct Collector {
    /// `http://127.0.0.1:port`.
    pub url: String,
    received: Arc<Mutex<Received>>,
    _runtime: Option<tokio::runtime::Runtime>,
}

impl Collector {
    /// OTLP over HTTP/protobuf.
    pub fn http() -> Result<Collector> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        let received = Arc::new(Mutex::new(Received::default()));
        let r = received.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let r = r.clone();
                std::thread::spawn(move || {
                    let _ = serve_http(conn, &r);
                });
            }
        });
        Ok(Collector {
            url,
            received,
            _runtime: None,
        })
    }

    /// OTLP over gRPC (plain HTTP/2).
    pub fn grpc() -> Result<Collector> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let url = format!("http://{}", listener.local_addr()?);
        let received = Arc::new(Mutex::new(Received::default()));
        let service = TraceServiceServer::new(Grpc(received.clone()));
        let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
        runtime.spawn(tonic::transport::Server::builder().serve_with_incoming(service, incoming));
        Ok(Collector {
            url,
            received,
            _runtime: Some(runtime),
        })
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<Span> {
        let r = self.received.lock().expect("collector lock");
        r.requests.iter().flat_map(spans_of).collect()
    }

    /// Every request's bytes, as received.
    pub fn raw(&self) -> Vec<Vec<u8>> {
        self.received.lock().expect("collector lock").raw.clone()
    }

    /// Waits until a span named `name` arrived (the exporter sends at the end of a run).
    pub fn wait_for(&self, name: &str, limit: Duration) -> Result<Vec<Span>> {
        let end = Instant::now() + limit;
        loop {
            let spans = self.spans();
            if spans.iter().any(|s| s.name == name) {
                return Ok(spans);
            }
            if Instant::now() > end {
                bail!(
                    "no span {name:?} within {limit:?}; got {} spans",
                    spans.len()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

struct Grpc(Arc<Mutex<Received>>);

#[async_trait::async_trait]
impl TraceService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let req = request.into_inner();
        if let Ok(mut r) = self.0.lock() {
            r.raw.push(req.encode_to_vec());
            r.requests.push(req);
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

/// Serves HTTP/1.1 requests on one connection until it closes.
fn serve_http(conn: TcpStream, received: &Mutex<Received>) -> Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut out = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().context("content-length")?;
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let (status, answer) = match ExportTraceServiceRequest::decode(body.as_slice()) {
            Ok(req) if target == "/v1/traces" => {
                let mut r = received.lock().expect("collector lock");
                r.raw.push(body);
                r.requests.push(req);
                (
                    "200 OK",
                    ExportTraceServiceResponse::default().encode_to_vec(),
                )
            }
            _ => ("400 Bad Request", Vec::new()),
        };
        write!(
            out,
            "HTTP/1.1 {status}\r\nContent-Type: application/x-protobuf\r\nContent-Length: {}\r\n\r\n",
            answer.len()
        )?;
        out.write_all(&answer)?;
    }
}

fn spans_of(req: &ExportTraceServiceRequest) -> Vec<Span> {
    let mut out = Vec::new();
    for rs in &req.resource_spans {
        let resource = rs
            .resource
            .as_ref()
            .map(|r| pairs(&r.attributes))
            .unwrap_or_default();
        for ss in &rs.scope_spans {
            for s in &ss.spans {
                let status = s.status.clone().unwrap_or_default();
                out.push(Span {
                    name: s.name.clone(),
                    trace_id: hex::encode(&s.trace_id),
                    span_id: hex::encode(&s.span_id),
                    parent_span_id: hex::encode(&s.parent_span_id),
                    attributes: pairs(&s.attributes),
                    resource: resource.clone(),
                    events: s
                        .events
                        .iter()
                        .map(|e| (e.name.clone(), pairs(&e.attributes)))
                        .collect(),
                    status_message: status.message,
                    status_code: status.code,
                });
            }
        }
    }
    out
}

fn pairs(kv: &[KeyValue]) -> Vec<(String, String)> {
    kv.iter()
        .map(|k| (k.key.clone(), text(k.value.as_ref())))
        .collect()
}

fn text(v: Option<&AnyValue>) -> String {
    match v.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}
