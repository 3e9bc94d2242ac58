//! How to reach each registry: https or plain http, TLS verification, extra CAs and client
//! certificates, chosen per registry and per side (pull or push), as kaniko's flags say.
//! The HTTP clients follow no redirects themselves: `exchange` does, minding credentials.

use crate::{Error, Tuning};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Clone, Debug, Default)]
pub struct Options {
    pub insecure_push: bool,
    pub insecure_pull: bool,
    pub insecure_registries: Vec<String>,
    pub skip_tls_verify_push: bool,
    pub skip_tls_verify_pull: bool,
    pub skip_tls_verify_registries: Vec<String>,
    pub ca_certs: Vec<(String, PathBuf)>,
    pub client_certs: Vec<(String, PathBuf, PathBuf)>,
    pub mirrors: Vec<String>,
    pub registry_maps: Vec<(String, Vec<String>)>,
    pub skip_default_fallback: bool,
    pub pull_retries: u32,
    pub push_retries: u32,
    /// How every client of this process resolves names (never through libc): the
    /// configuration read at start.
    pub resolver: resolve::Resolver,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    Pull,
    Push,
}

/// A reqwest client and the scheme to use for one registry and side.
#[derive(Clone)]
pub struct Endpoint {
    pub http: reqwest::Client,
    pub base: String,
}

pub struct Transports {
    opts: Options,
    connect_timeout: Duration,
    read_timeout: Duration,
    add_timeout: Duration,
    cache: Mutex<HashMap<(String, Side), Endpoint>>,
    /// Held while probing, so requests starting together probe a registry once.
    probing: tokio::sync::Mutex<()>,
}

impl Transports {
    pub fn new(opts: Options, tuning: &Tuning) -> Transports {
        Transports {
            opts,
            connect_timeout: tuning.connect_timeout,
            read_timeout: tuning.read_timeout,
            add_timeout: tuning.add_timeout,
            cache: Mutex::new(HashMap::new()),
            probing: tokio::sync::Mutex::new(()),
        }
    }

    pub fn options(&self) -> &Options {
        &self.opts
    }

    fn insecure(&self, registry: &str, side: Side) -> bool {
        self.opts.insecure_registries.iter().any(|r| r == registry)
            || match side {
                Side::Pull => self.opts.insecure_pull,
                Side::Push => self.opts.insecure_push,
            }
    }

    /// Whether `registry` may fall back to plain http: insecure by flag, or (as in
    /// go-containerregistry) a loopback or private address.
    fn may_use_http(&self, registry: &str, side: Side) -> bool {
        self.insecure(registry, side) || is_local(registry)
    }

    fn skip_verify(&self, registry: &str, side: Side) -> bool {
        self.skip_verify_host(registry)
            || match side {
                Side::Pull => self.opts.skip_tls_verify_pull,
                Side::Push => self.opts.skip_tls_verify_push,
            }
    }

    /// An HTTP client for plain downloads from `host` (ADD <url>), bounded as a whole by
    /// `KANIKO_ADD_TIMEOUT`: the TLS settings the
    /// flags give that host by name (`--skip-tls-verify-registry`, `--registry-certificate`,
    /// client certificates; not `--skip-tls-verify-pull`, which is for pulling images), the
    /// same timeouts, redirects followed (a few), never credentials.
    pub fn download_client(&self, host: &str) -> Result<reqwest::Client, Error> {
        self.client_builder(host, self.skip_verify_host(host))?
            .redirect(reqwest::redirect::Policy::limited(10))
            .timeout(self.add_timeout)
            .build()
            .map_err(|e| Error::Tls(e.to_string()))
    }

    /// An HTTP client for a token service on `host` (a cloud's credential endpoint): the
    /// certificates `--registry-certificate` adds for that host, the same timeouts, no
    /// redirects followed (a credential is never sent on to another place). Certificates
    /// are always verified: no flag turns that off for a service that is sent secrets.
    pub(crate) fn service_client(&self, host: &str) -> Result<reqwest::Client, Error> {
        self.client_builder(host, false)?
            .build()
            .map_err(|e| Error::Tls(e.to_string()))
    }

    fn build_client(&self, registry: &str, side: Side) -> Result<reqwest::Client, Error> {
        self.client_builder(registry, self.skip_verify(registry, side))?
            .build()
            .map_err(|e| Error::Tls(e.to_string()))
    }

    /// Whether `--skip-tls-verify-registry` names `host`.
    fn skip_verify_host(&self, host: &str) -> bool {
        self.opts
            .skip_tls_verify_registries
            .iter()
            .any(|r| r == host)
    }

    fn client_builder(
        &self,
        registry: &str,
        skip_verify: bool,
    ) -> Result<reqwest::ClientBuilder, Error> {
        let mut b = httpclient::builder(&self.opts.resolver)
            .map_err(|e| Error::Tls(e.to_string()))?
            .user_agent(concat!("kaniko-rs/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(self.connect_timeout)
            .read_timeout(self.read_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .danger_accept_invalid_certs(skip_verify);
        for (reg, path) in &self.opts.ca_certs {
            if reg == registry {
                let pem = std::fs::read(path).map_err(|e| Error::Io(path.clone(), e))?;
                let certs = reqwest::Certificate::from_pem_bundle(&pem)
                    .map_err(|e| Error::Tls(format!("{}: {e}", path.display())))?;
                b = b.tls_certs_merge(certs);
            }
        }
        for (reg, cert, key) in &self.opts.client_certs {
            if reg == registry {
                let mut pem = std::fs::read(cert).map_err(|e| Error::Io(cert.clone(), e))?;
                pem.extend(std::fs::read(key).map_err(|e| Error::Io(key.clone(), e))?);
                let id = reqwest::Identity::from_pem(&pem)
                    .map_err(|e| Error::Tls(format!("{}: {e}", cert.display())))?;
                b = b.identity(id);
            }
        }
        Ok(b)
    }

    /// The endpoint for `registry`: https, or for an insecure (or local) registry https when
    /// it answers and plain http otherwise. Decided once per registry and side.
    pub async fn endpoint(&self, registry: &str, side: Side) -> Result<Endpoint, Error> {
        let key = (registry.to_string(), side);
        let cached = || self.cache.lock().ok().and_then(|c| c.get(&key).cloned());
        if let Some(e) = cached() {
            return Ok(e);
        }
        let _probing = self.probing.lock().await;
        if let Some(e) = cached() {
            return Ok(e);
        }
        let http = self.build_client(registry, side)?;
        let https = format!("https://{registry}");
        let http_base = format!("http://{registry}");
        // Without an answer either way, use https and decide again next time.
        let probe = self.read_timeout.min(Duration::from_secs(5));
        let (base, decided) =
            if !self.may_use_http(registry, side) || answers(&http, &https, probe).await {
                (https, true)
            } else if answers(&http, &http_base, probe).await {
                (http_base, true)
            } else {
                (https, false)
            };
        let ep = Endpoint { http, base };
        if decided {
            if let Ok(mut c) = self.cache.lock() {
                c.insert(key, ep.clone());
            }
        }
        Ok(ep)
    }
}

/// Whether `base` speaks HTTP on this scheme: `/v2/` gets any answer but 400 (what a TLS
/// server says to plain http, so it keeps https and its certificate error surfaces). A
/// registry answering 5xx is still reached this way, and the request itself is retried.
async fn answers(http: &reqwest::Client, base: &str, wait: Duration) -> bool {
    let probe = http.get(format!("{base}/v2/")).timeout(wait).send().await;
    probe.is_ok_and(|r| r.status().as_u16() != 400)
}

/// A loopback or RFC 1918 host (with or without a port), or `localhost`.
fn is_local(registry: &str) -> bool {
    let host = match registry.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => registry.rsplit_once(':').map_or(registry, |(h, _)| h),
    };
    if host == "localhost" {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback() || ip.is_private(),
        Ok(std::net::IpAddr::V6(ip)) => ip.is_loopback(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_hosts() {
        for h in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "10.1.2.3",
            "192.168.0.9:80",
            "[::1]:5000",
        ] {
            assert!(is_local(h), "{h}");
        }
        for h in [
            "gcr.io",
            "8.8.8.8:443",
            "index.docker.io",
            "localhost.example.com",
        ] {
            assert!(!is_local(h), "{h}");
        }
    }

    /// `--skip-tls-verify-pull` reaches image pulls only: a token service and an ADD <url>
    /// download still verify the certificate; `--skip-tls-verify-registry` naming the host
    /// reaches the download, never the token service.
    #[tokio::test]
    async fn credential_services_always_verify_tls() {
        let reg = testkit::registry::Registry::start(testkit::registry::Auth::None, true).unwrap();
        let url = format!("https://{}/v2/", reg.addr);
        let refused = |r: Result<reqwest::Response, reqwest::Error>| {
            let e = format!("{:?}", r.unwrap_err());
            assert!(
                e.contains("certificate") || e.contains("Certificate"),
                "{e}"
            );
        };
        let pull = Transports::new(
            Options {
                skip_tls_verify_pull: true,
                ..Options::default()
            },
            &Tuning::default(),
        );
        let images = pull.build_client(&reg.addr, Side::Pull).unwrap();
        images.get(&url).send().await.unwrap();
        refused(
            pull.service_client(&reg.addr)
                .unwrap()
                .get(&url)
                .send()
                .await,
        );
        refused(
            pull.download_client(&reg.addr)
                .unwrap()
                .get(&url)
                .send()
                .await,
        );
        let named = Transports::new(
            Options {
                skip_tls_verify_registries: vec![reg.addr.clone()],
                ..Options::default()
            },
            &Tuning::default(),
        );
        named
            .download_client(&reg.addr)
            .unwrap()
            .get(&url)
            .send()
            .await
            .unwrap();
        refused(
            named
                .service_client(&reg.addr)
                .unwrap()
                .get(&url)
                .send()
                .await,
        );
    }

    #[test]
    fn flags_per_side_and_registry() {
        let t = Transports::new(
            Options {
                insecure_pull: true,
                insecure_registries: vec!["a.example".into()],
                skip_tls_verify_push: true,
                skip_tls_verify_registries: vec!["b.example".into()],
                ..Options::default()
            },
            &Tuning::default(),
        );
        assert!(t.insecure("x.example", Side::Pull));
        assert!(!t.insecure("x.example", Side::Push));
        assert!(t.insecure("a.example", Side::Push));
        assert!(t.skip_verify("x.example", Side::Push));
        assert!(!t.skip_verify("x.example", Side::Pull));
        assert!(t.skip_verify("b.example", Side::Pull));
    }
}
