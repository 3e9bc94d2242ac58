//! EXPOSE port specs read as Docker reads them (go-connections' `nat.ParsePortSpec`):
//! `[[ip:]host:]port[-end][/proto]`, numbers up to 65535, protocols tcp, udp and sctp. Only
//! the container side ends up in the image: one `port/proto` key per port of a range.

/// The image's `ExposedPorts` keys for one EXPOSE word, or why Docker refuses it.
pub fn port_keys(spec: &str) -> Result<Vec<String>, String> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (host, container) = match parts.as_slice() {
        [c] => ("", *c),
        [.., h, c] => (*h, *c),
        [] => ("", ""),
    };
    if parts.len() > 2 {
        let ip = parts[..parts.len() - 2].join(":");
        let bare = ip.trim_start_matches('[').trim_end_matches(']');
        if bare.parse::<std::net::IpAddr>().is_err() {
            return Err(format!("invalid IP address: {ip}"));
        }
    }
    let (proto, port) = split_proto(container);
    if port.is_empty() {
        return Err(format!("no port specified: {spec}<empty>"));
    }
    let (lo, hi) = range(port).ok_or_else(|| format!("invalid containerPort: {port}"))?;
    if !host.is_empty() {
        let (hlo, hhi) = range(host).ok_or_else(|| format!("invalid hostPort: {host}"))?;
        if hi - lo != hhi - hlo && hi != lo {
            return Err(format!(
                "invalid ranges specified for container and host Ports: {port} and {host}"
            ));
        }
    }
    let proto = proto.to_ascii_lowercase();
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!("invalid proto: {proto}"));
    }
    Ok((lo..=hi).map(|n| format!("{n}/{proto}")).collect())
}

/// `port/proto` → (proto, port); tcp when none is given.
fn split_proto(s: &str) -> (&str, &str) {
    let mut parts = s.split('/');
    let port = parts.next().unwrap_or("");
    match parts.next() {
        Some(p) if !p.is_empty() && !port.is_empty() => (p, port),
        _ => ("tcp", port),
    }
}

/// `n` or `lo-hi` (Go's `ParsePortRange`: 16-bit decimal numbers, `hi >= lo`).
fn range(s: &str) -> Option<(u32, u32)> {
    let num = |t: &str| {
        (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse::<u16>().ok())
            .flatten()
            .map(u32::from)
    };
    match s.split_once('-') {
        None => num(s).map(|n| (n, n)),
        Some((lo, rest)) => {
            let hi = rest.split('-').next().unwrap_or("");
            let (lo, hi) = (num(lo)?, num(hi)?);
            (hi >= lo).then_some((lo, hi))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_as_docker_writes_them() {
        assert_eq!(port_keys("80").unwrap(), ["80/tcp"]);
        assert_eq!(port_keys("53/UDP").unwrap(), ["53/udp"]);
        assert_eq!(port_keys("9/sctp").unwrap(), ["9/sctp"]);
        assert_eq!(port_keys("80/").unwrap(), ["80/tcp"]);
        assert_eq!(
            port_keys("8000-8002").unwrap(),
            ["8000/tcp", "8001/tcp", "8002/tcp"]
        );
        assert_eq!(port_keys("8080:80").unwrap(), ["80/tcp"]);
        assert_eq!(port_keys("127.0.0.1:8080:80/udp").unwrap(), ["80/udp"]);
        assert_eq!(port_keys("0").unwrap(), ["0/tcp"]);
        assert_eq!(port_keys("[::1]:8080:80").unwrap(), ["80/tcp"]);
    }

    #[test]
    fn refusals_as_docker_words_them() {
        for (spec, err) in [
            ("notaport", "invalid containerPort: notaport"),
            ("65536", "invalid containerPort: 65536"),
            ("+80", "invalid containerPort: +80"),
            ("90-80", "invalid containerPort: 90-80"),
            ("80/foo", "invalid proto: foo"),
            ("", "no port specified: <empty>"),
            ("x:80", "invalid hostPort: x"),
            ("a:1:80", "invalid IP address: a"),
            (
                "1-3:1-2",
                "invalid ranges specified for container and host Ports: 1-2 and 1-3",
            ),
        ] {
            assert_eq!(port_keys(spec).unwrap_err(), err, "{spec}");
        }
    }
}
