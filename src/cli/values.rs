//! Small parsers for flag values in Go's and kaniko's syntax: booleans (`strconv.ParseBool`),
//! durations (`time.ParseDuration`), `k=v` pairs and the registry flags' compound forms.
//! Each returns a plain message; the caller adds the flag's name.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

/// Go's `filepath.Abs`: `p` joined to `cwd` when relative, then cleaned lexically (`.` and
/// `..` resolved, `..` stopping at `/`).
pub fn absolute(p: &Path, cwd: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in cwd.join(p).components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// Go's `strconv.ParseBool`: 1, t, T, TRUE, true, True and their false twins.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!("invalid boolean {s:?}: want true or false")),
    }
}

/// Go's `time.ParseDuration` for non-negative values: "336h", "1h30m", "1.5s", "250ms", "0".
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("invalid duration {s:?}: want e.g. 336h, 30m, 1h30m or 10s");
    let (negative, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total_nanos: u128 = 0;
    let mut rest = rest;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(num_len);
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let per_unit: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(bad()),
        };
        total_nanos += scaled(num, per_unit).ok_or_else(bad)?;
        rest = tail;
    }
    if negative && total_nanos > 0 {
        return Err(format!("invalid duration {s:?}: must not be negative"));
    }
    let secs = u64::try_from(total_nanos / 1_000_000_000).map_err(|_| bad())?;
    // The remainder of a division by 1e9 always fits in u32.
    Ok(Duration::new(secs, (total_nanos % 1_000_000_000) as u32))
}

/// `num` (decimal, maybe with a fraction) times `per_unit` nanoseconds, truncated.
fn scaled(num: &str, per_unit: u128) -> Option<u128> {
    let (int, frac) = match num.split_once('.') {
        Some((i, f)) => (i, f),
        None => (num, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut value: u128 = if int.is_empty() {
        0
    } else {
        int.parse::<u128>().ok()?.checked_mul(per_unit)?
    };
    let mut scale = per_unit;
    for d in frac.chars() {
        scale /= 10;
        value += u128::from(d.to_digit(10)?) * scale;
    }
    Some(value)
}

/// `k=v` with a non-empty key; the value may be empty.
pub fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err("want key=value".to_string()),
    }
}

/// A build arg: `K=V`, or `K` alone (value looked up later).
pub fn parse_build_arg(s: &str) -> Result<(String, Option<String>), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), Some(v.to_string()))),
        None if !s.is_empty() => Ok((s.to_string(), None)),
        _ => Err("want KEY=VALUE or KEY".to_string()),
    }
}

/// `registry=/path/ca.crt`.
pub fn parse_registry_certificate(s: &str) -> Result<(String, PathBuf), String> {
    match s.split_once('=') {
        Some((r, p)) if !r.is_empty() && !p.is_empty() => Ok((r.to_string(), PathBuf::from(p))),
        _ => Err("want my.registry.url=/path/to/the/certificate".to_string()),
    }
}

/// `registry=/path/cert,/path/key`.
pub fn parse_registry_client_cert(s: &str) -> Result<(String, PathBuf, PathBuf), String> {
    let want = || "want my.registry.url=/path/to/client/cert,/path/to/client/key".to_string();
    let (r, files) = s.split_once('=').ok_or_else(want)?;
    let (cert, key) = files.split_once(',').ok_or_else(want)?;
    if r.is_empty() || cert.is_empty() || key.is_empty() || key.contains(',') {
        return Err(want());
    }
    Ok((r.to_string(), PathBuf::from(cert), PathBuf::from(key)))
}

/// `orig=remap[;orig2=remap2]`, merged into `maps` (a registry may map to several).
pub fn add_registry_maps(maps: &mut Vec<(String, Vec<String>)>, s: &str) -> Result<(), String> {
    for part in s.split(';').filter(|p| !p.is_empty()) {
        let (orig, remap) = match part.split_once('=') {
            Some((o, r)) if !o.is_empty() && !r.is_empty() => (o, r),
            _ => return Err("want original=remapped[;original2=remapped2]".to_string()),
        };
        match maps.iter_mut().find(|(o, _)| o == orig) {
            Some((_, remaps)) => remaps.push(remap.to_string()),
            None => maps.push((orig.to_string(), vec![remap.to_string()])),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bools_follow_go() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_bool(t), Ok(true), "{t}");
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_bool(f), Ok(false), "{f}");
        }
        for bad in ["", "yes", "tRuE", "2", "on"] {
            assert!(parse_bool(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_follow_go() {
        let cases = [
            ("336h", Duration::from_secs(336 * 3600)),
            ("30m", Duration::from_secs(1800)),
            ("1h30m", Duration::from_secs(5400)),
            ("10s", Duration::from_secs(10)),
            ("1.5s", Duration::from_millis(1500)),
            (".5m", Duration::from_secs(30)),
            ("250ms", Duration::from_millis(250)),
            ("3us", Duration::from_micros(3)),
            ("3µs", Duration::from_micros(3)),
            ("7ns", Duration::from_nanos(7)),
            ("1h0m0s", Duration::from_secs(3600)),
            ("0", Duration::ZERO),
            ("+2m", Duration::from_secs(120)),
            ("-0", Duration::ZERO),
            ("-0s", Duration::ZERO),
        ];
        for (s, want) in cases {
            assert_eq!(parse_duration(s), Ok(want), "{s}");
        }
        for bad in [
            "", "10", "h", "1d", "1hh", "-1h", "1.h2", ".s", "1 h", "abc",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn key_values() {
        assert_eq!(parse_key_value("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert_eq!(parse_key_value("a="), Ok(("a".into(), String::new())));
        assert!(parse_key_value("a").is_err());
        assert!(parse_key_value("=b").is_err());
    }

    #[test]
    fn build_args() {
        assert_eq!(
            parse_build_arg("K=V=W"),
            Ok(("K".into(), Some("V=W".into())))
        );
        assert_eq!(parse_build_arg("K="), Ok(("K".into(), Some(String::new()))));
        assert_eq!(parse_build_arg("K"), Ok(("K".into(), None)));
        assert!(parse_build_arg("").is_err());
        assert!(parse_build_arg("=V").is_err());
    }

    #[test]
    fn registry_certificates() {
        assert_eq!(
            parse_registry_certificate("r.io=/ca.crt"),
            Ok(("r.io".into(), PathBuf::from("/ca.crt")))
        );
        assert!(parse_registry_certificate("r.io").is_err());
        assert!(parse_registry_certificate("r.io=").is_err());
        assert_eq!(
            parse_registry_client_cert("r.io=/c.pem,/k.pem"),
            Ok((
                "r.io".into(),
                PathBuf::from("/c.pem"),
                PathBuf::from("/k.pem")
            ))
        );
        for bad in ["r.io=/c.pem", "r.io=/c,/k,/x", "=/c,/k", "r.io=,/k", "r.io"] {
            assert!(parse_registry_client_cert(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn registry_maps_merge() {
        let mut maps = Vec::new();
        add_registry_maps(&mut maps, "index.docker.io=m1.io;gcr.io=m2.io").unwrap();
        add_registry_maps(&mut maps, "index.docker.io=m3.io").unwrap();
        assert_eq!(
            maps,
            vec![
                (
                    "index.docker.io".to_string(),
                    vec!["m1.io".to_string(), "m3.io".to_string()]
                ),
                ("gcr.io".to_string(), vec!["m2.io".to_string()]),
            ]
        );
        assert!(add_registry_maps(&mut maps, "nomap").is_err());
        assert!(add_registry_maps(&mut maps, "a=").is_err());
    }
}
