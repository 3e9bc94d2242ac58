//! How to reach each registry: https or plain http, TLS verification, extra CAs and client
//! certificates, chosen per registry and per side (pull or push), as kaniko's flags say.

use crate::Error;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

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
    cache: Mutex<HashMap<(String, Side), Endpoint>>,
}

impl Transports {
    pub fn new(opts: Options) -> Transports {
        Transports {
            opts,
            cache: Mutex::new(HashMap::new()),
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

    fn skip_verify(&self, registry: &str, side: Side) -> bool {
        self.opts
            .skip_tls_verify_registries
            .iter()
            .any(|r| r == registry)
            || match side {
                Side::Pull => self.opts.skip_tls_verify_pull,
                Side::Push => self.opts.skip_tls_verify_push,
            }
    }

    fn build_client(&self, registry: &str, side: Side) -> Result<reqwest::Client, Error> {
        let mut b = reqwest::Client::builder()
            .user_agent(concat!("kaniko-rs/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(30))
            .danger_accept_invalid_certs(self.skip_verify(registry, side));
        for (reg, path) in &self.opts.ca_certs {
            if reg == registry {
                let pem = std::fs::read(path).map_err(|e| Error::Io(path.clone(), e))?;
                for cert in reqwest::Certificate::from_pem_bundle(&pem)
                    .map_err(|e| Error::Tls(format!("{}: {e}", path.display())))?
                {
                    b = b.add_root_certificate(cert);
                }
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
        b.build().map_err(|e| Error::Tls(e.to_string()))
    }

    /// The endpoint for `registry`: https, or for an insecure registry https when it answers
    /// and plain http otherwise.
    pub async fn endpoint(&self, registry: &str, side: Side) -> Result<Endpoint, Error> {
        let key = (registry.to_string(), side);
        if let Some(e) = self.cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return Ok(e);
        }
        let http = self.build_client(registry, side)?;
        let mut base = format!("https://{registry}");
        if self.insecure(registry, side) {
            let probe = http
                .get(format!("{base}/v2/"))
                .timeout(std::time::Duration::from_secs(5))
                .send()
                .await;
            if probe.is_err() {
                base = format!("http://{registry}");
            }
        }
        let ep = Endpoint { http, base };
        if let Ok(mut c) = self.cache.lock() {
            c.insert(key, ep.clone());
        }
        Ok(ep)
    }
}
