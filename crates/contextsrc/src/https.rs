//! A build context served as a tarball over HTTPS (or HTTP), with the registry flags that
//! name its host: `--skip-tls-verify-registry` and `--registry-certificate` (not
//! `--skip-tls-verify-pull`, which is for pulling images). Logged with kaniko's lines.

use crate::error::one_line;
use crate::source::display_url;
use crate::unpack::{extract_stream, runtime};
use crate::Error;
use futures_util::TryStreamExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// TLS settings, as the registry flags that name a host give them.
#[derive(Clone, Debug, Default)]
pub struct TlsOptions {
    /// Skip certificate verification for these hosts (`host` or `host:port`).
    pub skip_verify_hosts: Vec<String>,
    /// Extra CA certificates (PEM files) trusted for a host (`host` or `host:port`).
    pub ca_certs: Vec<(String, PathBuf)>,
}

impl TlsOptions {
    fn matches(host: &str, url: &url::Url) -> bool {
        let h = url.host_str().unwrap_or_default();
        host == h
            || url
                .port_or_known_default()
                .is_some_and(|p| host == format!("{h}:{p}"))
    }

    fn skips(&self, url: &url::Url) -> bool {
        self.skip_verify_hosts.iter().any(|h| Self::matches(h, url))
    }

    fn certs_for<'a>(&'a self, url: &'a url::Url) -> impl Iterator<Item = &'a Path> {
        self.ca_certs
            .iter()
            .filter(move |(h, _)| Self::matches(h, url))
            .map(|(_, p)| p.as_path())
    }
}

fn client(
    url: &url::Url,
    tls: &TlsOptions,
    resolver: &resolve::Resolver,
) -> Result<reqwest::Client, Error> {
    let mut b = httpclient::builder(resolver)
        .map_err(|e| Error::Config(one_line(&e)))?
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(60))
        .danger_accept_invalid_certs(tls.skips(url));
    for p in tls.certs_for(url) {
        let pem = std::fs::read(p).map_err(|e| Error::io(p, e))?;
        let cert = reqwest::Certificate::from_pem(&pem)
            .map_err(|e| Error::Config(format!("certificate {}: {}", p.display(), one_line(&e))))?;
        b = b.tls_certs_merge([cert]);
    }
    b.build()
        .map_err(|e| Error::Internal(format!("HTTP client: {}", one_line(&e))))
}

/// Downloads the tarball at `url` and unpacks it into `dest`.
pub(crate) fn fetch(url: &url::Url, opts: &crate::Options, dest: &Path) -> Result<(), Error> {
    let location = display_url(url);
    tracing::info!("Retrieving https tar file");
    let rt = runtime()?;
    // The client's timers and connection pool belong to this runtime, wherever they are
    // created, polled or dropped.
    let _inside = rt.enter();
    let client = client(url, &opts.tls, &opts.resolver)?;
    let resp = rt.block_on(client.get(url.clone()).send()).map_err(|e: reqwest::Error| {
        let connect = e.is_connect() || e.is_timeout();
        let cause = one_line(&e.without_url());
        if cause.to_ascii_lowercase().contains("certificate") {
            Error::Remote {
                location: location.clone(),
                cause: format!("TLS: {cause} (trust it with --registry-certificate or skip with --skip-tls-verify-registry)"),
            }
        } else if connect {
            Error::Unreachable {
                location: location.clone(),
                endpoint: location.clone(),
                cause,
            }
        } else {
            Error::Remote {
                location: location.clone(),
                cause,
            }
        }
    })?;
    let status = resp.status();
    match status.as_u16() {
        200 => {}
        404 | 410 => {
            return Err(Error::NotFound {
                location,
                what: format!("no such file (HTTP {status})"),
            })
        }
        401 | 403 => {
            return Err(Error::Denied {
                location,
                hint: format!("HTTP {status}"),
            })
        }
        _ => {
            return Err(Error::Remote {
                location,
                cause: format!("HTTPSTar bad status from server: {status}"),
            })
        }
    }
    let stream = resp
        .bytes_stream()
        .map_err(|e| std::io::Error::other(e.without_url()));
    extract_stream(&rt, stream, dest, &location, opts.expansion)?;
    tracing::info!("Retrieved https tar file");
    tracing::info!("Extracted https tar file");
    Ok(())
}
