//! The resolver's configuration: `/etc/hosts` and `/etc/resolv.conf`, parsed once.

use hickory_resolver::config::{ResolverConfig, ResolverOpts};
use hickory_resolver::proto::op::Query;
use hickory_resolver::proto::rr::{Name, RecordType};
use hickory_resolver::Hosts;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

/// What glibc uses when `/etc/resolv.conf` names no server: a resolver on loopback.
const DEFAULT_NAMESERVER: &str = "nameserver 127.0.0.1\n";

/// Static host entries and the DNS settings, as read at start.
#[derive(Debug)]
pub struct Config {
    pub(crate) hosts: Arc<Hosts>,
    pub(crate) dns: ResolverConfig,
    pub(crate) opts: ResolverOpts,
}

impl Config {
    /// `/etc/hosts` and `/etc/resolv.conf` as they are now.
    pub fn read_system() -> Config {
        Config::read(Path::new("/etc/hosts"), Path::new("/etc/resolv.conf"))
    }

    /// The hosts file and resolv.conf at these paths; a missing or unreadable file counts
    /// as empty (a warning says why, unless it is simply missing).
    pub fn read(hosts: &Path, resolv_conf: &Path) -> Config {
        Config::parse(&read_text(hosts), &read_text(resolv_conf))
    }

    /// Parses the two files' contents. A resolv.conf that names no server gets glibc's
    /// default (127.0.0.1).
    pub fn parse(hosts: &str, resolv_conf: &str) -> Config {
        let mut table = Hosts::default();
        if let Err(e) = table.read_hosts_conf(hosts.as_bytes()) {
            tracing::warn!("ignoring the hosts file: {e}");
        }
        let (dns, opts) = parse_resolv_conf(resolv_conf);
        Config {
            hosts: Arc::new(table),
            dns,
            opts,
        }
    }

    /// The hosts file's addresses for `name` (IPv4 first), if it names it.
    pub(crate) fn static_host(&self, name: &str) -> Option<Vec<IpAddr>> {
        let name = Name::from_str_relaxed(name).ok()?;
        let ips: Vec<IpAddr> = [RecordType::A, RecordType::AAAA]
            .into_iter()
            .filter_map(|t| {
                self.hosts
                    .lookup_static_host(&Query::query(name.clone(), t))
            })
            .flat_map(|l| {
                l.answers()
                    .iter()
                    .filter_map(|r| r.data.ip_addr())
                    .collect::<Vec<_>>()
            })
            .collect();
        (!ips.is_empty()).then_some(ips)
    }
}

fn parse_resolv_conf(text: &str) -> (ResolverConfig, ResolverOpts) {
    let names_a_server = text
        .lines()
        .any(|l| l.split_whitespace().next() == Some("nameserver"));
    let text = if names_a_server {
        text.to_string()
    } else {
        format!("{text}\n{DEFAULT_NAMESERVER}")
    };
    match hickory_resolver::system_conf::parse_resolv_conf(&text) {
        Ok(parsed) => parsed,
        Err(e) => {
            tracing::warn!("ignoring /etc/resolv.conf: {e}");
            hickory_resolver::system_conf::parse_resolv_conf(DEFAULT_NAMESERVER).unwrap_or_default()
        }
    }
}

fn read_text(path: &Path) -> String {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            tracing::warn!("cannot read {}: {e}", path.display());
            String::new()
        }
    }
}
