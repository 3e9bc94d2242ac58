//! Name resolution that never asks libc.
//!
//! The executor is a static glibc binary that unpacks untrusted base images over its own
//! root. glibc's `getaddrinfo` reads `/etc/nsswitch.conf` and `dlopen`s `libnss_*.so.2` from
//! that root, so a base image could run code inside the executor, and an image's
//! `/etc/hosts` or `/etc/resolv.conf` could redirect the registry's name. This crate reads
//! `/etc/hosts` and `/etc/resolv.conf` once, at start ([`Config::read_system`], before any
//! unpack), and resolves with hickory (a DNS stub resolver in Rust) from that configuration
//! only. Every HTTP client of the process gets the same [`Resolver`]:
//!
//! - reqwest (feature `reqwest`, async and blocking; `crates/httpclient` builds the
//!   process's clients with it): `ClientBuilder::dns_resolver(Arc::new(resolver.clone()))`;
//! - hyper-util's legacy client and tonic (feature `hyper`):
//!   `HttpConnector::new_with_resolver(resolver.clone())`;
//! - anything else: [`Resolver::lookup`].
//!
//! IP literals are returned as they are; `localhost` resolves to loopback even without an
//! `/etc/hosts` entry (RFC 6761, as hickory does).

mod adapters;
mod config;

pub use config::Config;

use hickory_resolver::config::ResolveHosts;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::TokioResolver;
use std::net::IpAddr;
use std::sync::Arc;

/// Why a name did not resolve.
#[derive(Debug, thiserror::Error)]
#[error("cannot resolve {host}: {cause}")]
pub struct Error {
    pub host: String,
    pub cause: String,
}

/// Resolves host names from the configuration read at start; cheap to clone (shared).
#[derive(Clone, Debug)]
pub struct Resolver {
    config: Arc<Config>,
}

/// A resolver that reads no file: IP literals, `localhost`, and a DNS server on 127.0.0.1
/// (glibc's default). What a value made without the start-up configuration gets (tests, and
/// any code path that forgot it: it can never read a file an image wrote).
impl Default for Resolver {
    fn default() -> Resolver {
        Resolver::new(Config::parse("", ""))
    }
}

impl Resolver {
    /// A resolver answering from `config` only.
    pub fn new(config: Config) -> Resolver {
        Resolver {
            config: Arc::new(config),
        }
    }

    /// A resolver for `/etc/hosts` and `/etc/resolv.conf` as they are now: call it at start.
    pub fn from_system() -> Resolver {
        Resolver::new(Config::read_system())
    }

    /// The addresses of `host` (a name, an IP literal, or a bracketed IPv6 literal).
    pub async fn lookup(&self, host: &str) -> Result<Vec<IpAddr>, Error> {
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        let fail = |cause: String| Error {
            host: host.to_string(),
            cause,
        };
        // As glibc's `hosts: files dns`: a name the hosts file has is not asked of the DNS.
        if let Some(ips) = self.config.static_host(bare) {
            tracing::trace!("resolved {host} from the hosts file: {ips:?}");
            return Ok(ips);
        }
        // A resolver per lookup: it is made from parsed values (no file is read) and holds
        // no connection that could outlive the runtime it was made on (the process runs
        // several). glibc keeps no cache either.
        let mut opts = self.config.opts.clone();
        opts.use_hosts_file = ResolveHosts::Never;
        let mut dns = TokioResolver::builder_with_config(
            self.config.dns.clone(),
            TokioRuntimeProvider::default(),
        )
        .with_options(opts)
        .build()
        .map_err(|e| fail(e.to_string()))?;
        dns.set_hosts(self.config.hosts.clone());
        let found = dns.lookup_ip(bare).await.map_err(|e| fail(e.to_string()))?;
        let ips: Vec<IpAddr> = found.iter().collect();
        tracing::trace!("resolved {host}: {ips:?}");
        if ips.is_empty() {
            return Err(fail("no address".into()));
        }
        Ok(ips)
    }
}

#[cfg(test)]
mod tests;
