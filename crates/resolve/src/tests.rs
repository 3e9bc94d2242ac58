use super::*;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::proto::op::{Message, ResponseCode};
use hickory_resolver::proto::rr::{rdata::A, RData, Record, RecordType};
use std::net::{Ipv4Addr, UdpSocket};
use std::time::Duration;

const HOSTS: &str = "127.0.0.1 localhost\n10.1.2.3 registry.internal reg\n::1 ip6-localhost\n";

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A DNS server on loopback answering `A` for `name` with `ip`, NXDOMAIN otherwise; it
/// counts the queries it got.
fn dns_server(name: &'static str, ip: Ipv4Addr) -> (u16, std::sync::Arc<std::sync::Mutex<u32>>) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let count = std::sync::Arc::new(std::sync::Mutex::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            let Ok(q) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            *seen.lock().unwrap() += 1;
            let Some(query) = q.queries.first().cloned() else {
                continue;
            };
            let mut r = Message::response(q.metadata.id, q.metadata.op_code);
            r.metadata.recursion_available = true;
            r.add_query(query.clone());
            if query.name().to_ascii().trim_end_matches('.') == name {
                if query.query_type() == RecordType::A {
                    r.add_answer(Record::from_rdata(
                        query.name().clone(),
                        60,
                        RData::A(A(ip)),
                    ));
                }
            } else {
                r.metadata.response_code = ResponseCode::NXDomain;
            }
            let _ = sock.send_to(&r.to_vec().unwrap(), from);
        }
    });
    (port, count)
}

/// A configuration with `hosts` and one DNS server on loopback at `port`.
fn config_with_server(hosts: &str, port: u16) -> Config {
    let mut c = Config::parse(hosts, "options timeout:1 attempts:1\n");
    let mut udp = ConnectionConfig::udp();
    udp.port = port;
    c.dns = ResolverConfig::from_parts(
        None,
        vec![],
        vec![NameServerConfig::new(
            Ipv4Addr::LOCALHOST.into(),
            true,
            vec![udp],
        )],
    );
    c.opts.timeout = Duration::from_secs(1);
    c
}

#[test]
fn ip_literals_need_no_lookup() {
    let r = Resolver::new(Config::parse("", ""));
    let rt = rt();
    assert_eq!(
        rt.block_on(r.lookup("127.0.0.1")).unwrap(),
        vec![IpAddr::from([127, 0, 0, 1])]
    );
    assert_eq!(
        rt.block_on(r.lookup("[::1]")).unwrap(),
        vec!["::1".parse::<IpAddr>().unwrap()]
    );
}

#[test]
fn hosts_entries_and_localhost() {
    let (port, queries) = dns_server("unused.example", Ipv4Addr::new(1, 1, 1, 1));
    let r = Resolver::new(config_with_server(HOSTS, port));
    let rt = rt();
    let v4 = |h: &str| rt.block_on(r.lookup(h)).unwrap();
    assert!(v4("registry.internal").contains(&IpAddr::from([10, 1, 2, 3])));
    assert!(v4("reg").contains(&IpAddr::from([10, 1, 2, 3])));
    assert!(v4("localhost").contains(&IpAddr::from([127, 0, 0, 1])));
    assert_eq!(*queries.lock().unwrap(), 0, "hosts entries asked the DNS");
    // localhost resolves without any hosts entry, and without DNS.
    let bare = Resolver::new(config_with_server("", port));
    assert!(rt
        .block_on(bare.lookup("localhost"))
        .unwrap()
        .contains(&IpAddr::from([127, 0, 0, 1])));
    assert_eq!(*queries.lock().unwrap(), 0);
}

#[test]
fn other_names_go_to_the_configured_server() {
    let (port, queries) = dns_server("build.example", Ipv4Addr::new(10, 9, 8, 7));
    let r = Resolver::new(config_with_server(HOSTS, port));
    let rt = rt();
    assert_eq!(
        rt.block_on(r.lookup("build.example")).unwrap(),
        vec![IpAddr::from([10, 9, 8, 7])]
    );
    assert!(*queries.lock().unwrap() >= 1);
    let err = rt.block_on(r.lookup("missing.example")).unwrap_err();
    assert!(err.to_string().contains("missing.example"), "{err}");
}

/// The files are read when the configuration is made, never again: a hosts file or
/// resolv.conf written later (as a base image's would be) changes nothing.
#[test]
fn files_are_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts");
    let resolv = dir.path().join("resolv.conf");
    std::fs::write(&hosts, "10.0.0.1 early.example\n").unwrap();
    std::fs::write(
        &resolv,
        "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
    )
    .unwrap();
    let r = Resolver::new(Config::read(&hosts, &resolv));
    std::fs::write(&hosts, "10.0.0.2 early.example\n10.0.0.3 late.example\n").unwrap();
    let rt = rt();
    assert_eq!(
        rt.block_on(r.lookup("early.example")).unwrap(),
        vec![IpAddr::from([10, 0, 0, 1])]
    );
    assert!(rt.block_on(r.lookup("late.example")).is_err());
}

#[test]
fn missing_files_mean_no_hosts_and_a_loopback_server() {
    let c = Config::read(
        std::path::Path::new("/nonexistent/hosts"),
        std::path::Path::new("/nonexistent/resolv.conf"),
    );
    let servers: Vec<IpAddr> = c.dns.name_servers().iter().map(|s| s.ip).collect();
    assert_eq!(servers, vec![IpAddr::from([127, 0, 0, 1])]);
    let search = Config::parse("", "search svc.cluster.local\nnameserver 10.96.0.10\n");
    let servers: Vec<IpAddr> = search.dns.name_servers().iter().map(|s| s.ip).collect();
    assert_eq!(servers, vec![IpAddr::from([10, 96, 0, 10])]);
    assert_eq!(search.dns.search().len(), 1);
}
