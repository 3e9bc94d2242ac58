//! The exporter's connections to the collector. Its host is resolved by the process's own
//! resolver ([`resolve::Resolver`]: `/etc/hosts` and `/etc/resolv.conf` as read at start,
//! never the C library, which could load name-service modules from an unpacked image):
//! the HTTP client takes it as its DNS resolver, the gRPC connector dials what it answers.

use bytes::Bytes;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::pin::Pin;

use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;

/// The collector's endpoint and how to find it.
#[derive(Clone, Debug)]
pub struct Collector {
    pub url: reqwest::Url,
    pub host: String,
    pub port: u16,
    pub resolver: resolve::Resolver,
}

impl Collector {
    /// `endpoint` parsed; its host is looked up when a connection is made.
    pub fn parse(endpoint: &str, resolver: &resolve::Resolver) -> Result<Collector, String> {
        let url = reqwest::Url::parse(endpoint).map_err(|e| format!("{endpoint:?}: {e}"))?;
        let host = url.host_str().unwrap_or_default().to_string();
        if host.is_empty() {
            return Err(format!("{endpoint:?}: no host"));
        }
        let port = url.port_or_known_default().unwrap_or(80);
        Ok(Collector {
            url,
            host,
            port,
            resolver: resolver.clone(),
        })
    }
}

/// A CA certificate for the collector (`OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE`), PEM.
pub fn ca_certificate(env: super::settings::Env) -> Result<Option<Vec<u8>>, String> {
    let var = [
        "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_CERTIFICATE",
    ]
    .into_iter()
    .find_map(|k| env(k).filter(|v| !v.is_empty()).map(|v| (k, v)));
    match var {
        None => Ok(None),
        Some((k, path)) => std::fs::read(&path)
            .map(Some)
            .map_err(|e| format!("{k}={path}: {e}")),
    }
}

/// The one HTTP client the trace exporter uses: the process's resolver, no redirects,
/// bounded waits, the system's roots plus the configured CA.
pub fn http_client(c: &Collector, ca: Option<&[u8]>) -> Result<reqwest::Client, String> {
    let mut b = httpclient::builder(&c.resolver)
        .map_err(|e| e.to_string())?
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none());
    if let Some(pem) = ca {
        let cert = reqwest::Certificate::from_pem(pem).map_err(|e| e.to_string())?;
        b = b.tls_certs_merge([cert]);
    }
    b.build().map_err(|e| e.to_string())
}

/// [`opentelemetry_http::HttpClient`] over that client.
#[derive(Debug)]
pub struct OtlpHttp(pub reqwest::Client);

/// The most of a collector's answer read.
const MAX_ANSWER: usize = 1 << 20;

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for OtlpHttp {
    async fn send_bytes(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, opentelemetry_http::HttpError> {
        let request = reqwest::Request::try_from(request)?;
        let mut resp = self.0.execute(request).await?;
        let mut out = http::Response::builder().status(resp.status().as_u16());
        for (k, v) in resp.headers() {
            out = out.header(k.as_str(), v.as_bytes());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await? {
            if body.len() + chunk.len() > MAX_ANSWER {
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok(out.body(Bytes::from(body))?)
    }
}

/// The gRPC channel's connector: TCP to the addresses the process's resolver gives for the
/// collector's host (TLS, when the endpoint is https, is the channel's own, on top).
#[derive(Clone, Debug)]
pub struct Connector(pub Collector);

impl tower::Service<http::Uri> for Connector {
    type Response = TokioIo<TcpStream>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = std::io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Uri) -> Self::Future {
        let c = self.0.clone();
        Box::pin(async move {
            let ips = c
                .resolver
                .lookup(&c.host)
                .await
                .map_err(std::io::Error::other)?;
            let addrs: Vec<std::net::SocketAddr> =
                ips.into_iter().map(|ip| (ip, c.port).into()).collect();
            let stream = TcpStream::connect(&addrs[..]).await?;
            stream.set_nodelay(true)?;
            Ok(TokioIo::new(stream))
        })
    }
}

/// A lazily connecting gRPC channel to the collector.
pub fn grpc_channel(c: &Collector, ca: Option<&[u8]>) -> Result<tonic::transport::Channel, String> {
    let mut endpoint = tonic::transport::Endpoint::from_shared(c.url.to_string())
        .map_err(|e| e.to_string())?
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30));
    if c.url.scheme() == "https" {
        let mut tls = tonic::transport::ClientTlsConfig::new()
            .with_native_roots()
            .domain_name(c.host.clone());
        if let Some(pem) = ca {
            tls = tls.ca_certificate(tonic::transport::Certificate::from_pem(pem));
        }
        endpoint = endpoint.tls_config(tls).map_err(|e| e.to_string())?;
    }
    Ok(endpoint.connect_with_connector_lazy(Connector(c.clone())))
}
