//! How much the client accepts and how long it waits: size caps on the bodies it holds in
//! memory, connect/read/overall timeouts, retry pacing and how many blobs move at once.
//! kaniko has no flags for these, so each has a `KANIKO_REGISTRY_*` environment variable.

use crate::Error;
use std::time::Duration;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tuning {
    /// Largest manifest or index accepted.
    pub max_manifest_bytes: u64,
    /// Largest image config accepted (and any other blob read into memory).
    pub max_config_bytes: u64,
    /// Largest token-service answer accepted.
    pub max_token_bytes: u64,
    /// How much of a registry's error answer is read for the message (the rest is dropped).
    pub max_error_bytes: u64,
    pub connect_timeout: Duration,
    /// Longest wait for the next bytes of an answer (headers or body).
    pub read_timeout: Duration,
    /// Longest exchange for everything but blob transfers, body included.
    pub request_timeout: Duration,
    /// Longest single blob upload or download request, body included.
    pub blob_timeout: Duration,
    /// The first wait before a retry; each further retry doubles it.
    pub retry_initial: Duration,
    /// The longest single wait, `Retry-After` included.
    pub retry_max: Duration,
    /// Blobs uploaded at once, and blobs downloaded at once.
    pub max_transfers: usize,
    /// Largest `ADD <url>` body accepted.
    pub add_max_bytes: u64,
    /// Longest `ADD <url>` download, body included.
    pub add_timeout: Duration,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            max_manifest_bytes: 4 * MIB,
            max_config_bytes: 8 * MIB,
            max_token_bytes: MIB,
            max_error_bytes: 64 * KIB,
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(300),
            blob_timeout: Duration::from_secs(3600),
            retry_initial: Duration::from_secs(1),
            retry_max: Duration::from_secs(60),
            max_transfers: 4,
            add_max_bytes: 16 * 1024 * MIB,
            add_timeout: Duration::from_secs(3600),
        }
    }
}

type Set = fn(&mut Tuning, &str) -> Result<(), String>;

/// Every variable, what it sets, and how its value is read.
pub const VARIABLES: &[(&str, &str)] = &[
    (
        "KANIKO_REGISTRY_MAX_MANIFEST_SIZE",
        "manifest and index size cap (4MiB)",
    ),
    (
        "KANIKO_REGISTRY_MAX_CONFIG_SIZE",
        "image config size cap (8MiB)",
    ),
    (
        "KANIKO_REGISTRY_MAX_TOKEN_SIZE",
        "token answer size cap (1MiB)",
    ),
    (
        "KANIKO_REGISTRY_MAX_ERROR_SIZE",
        "bytes of an error answer read (64KiB)",
    ),
    ("KANIKO_REGISTRY_CONNECT_TIMEOUT", "connect timeout (30s)"),
    (
        "KANIKO_REGISTRY_READ_TIMEOUT",
        "longest wait for the next bytes (60s)",
    ),
    (
        "KANIKO_REGISTRY_REQUEST_TIMEOUT",
        "longest non-blob request (300s)",
    ),
    (
        "KANIKO_REGISTRY_BLOB_TIMEOUT",
        "longest blob request (3600s)",
    ),
    (
        "KANIKO_REGISTRY_RETRY_BACKOFF",
        "first wait before a retry (1s)",
    ),
    (
        "KANIKO_REGISTRY_RETRY_MAX_WAIT",
        "longest wait, Retry-After included (60s)",
    ),
    (
        "KANIKO_REGISTRY_MAX_TRANSFERS",
        "blobs moved at once per direction (4)",
    ),
    ("KANIKO_ADD_MAX_SIZE", "ADD <url> body size cap (16GiB)"),
    (
        "KANIKO_ADD_TIMEOUT",
        "longest ADD <url> download, body included (3600s)",
    ),
];

const SETTERS: &[Set] = &[
    |t, v| size(v).map(|n| t.max_manifest_bytes = n),
    |t, v| size(v).map(|n| t.max_config_bytes = n),
    |t, v| size(v).map(|n| t.max_token_bytes = n),
    |t, v| size(v).map(|n| t.max_error_bytes = n),
    |t, v| duration(v).map(|d| t.connect_timeout = d),
    |t, v| duration(v).map(|d| t.read_timeout = d),
    |t, v| duration(v).map(|d| t.request_timeout = d),
    |t, v| duration(v).map(|d| t.blob_timeout = d),
    |t, v| duration(v).map(|d| t.retry_initial = d),
    |t, v| duration(v).map(|d| t.retry_max = d),
    |t, v| count(v).map(|n| t.max_transfers = n),
    |t, v| size(v).map(|n| t.add_max_bytes = n),
    |t, v| duration(v).map(|d| t.add_timeout = d),
];

impl Tuning {
    /// The defaults with every `KANIKO_REGISTRY_*` variable that `env` knows applied; a
    /// value that does not parse is an error naming the variable.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Tuning, Error> {
        let mut t = Tuning::default();
        for ((var, _), set) in VARIABLES.iter().zip(SETTERS) {
            if let Some(v) = env(var).filter(|v| !v.trim().is_empty()) {
                set(&mut t, v.trim()).map_err(|reason| Error::Setting {
                    var,
                    value: v.clone(),
                    reason,
                })?;
            }
        }
        Ok(t)
    }
}

/// The leading number of `v` and the unit after it; `want` says what was expected.
fn number_and_unit<'a>(v: &'a str, want: &str) -> Result<(u64, &'a str), String> {
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n = num.parse().map_err(|_| format!("want {want}"))?;
    Ok((n, unit.trim()))
}

/// `4194304`, `512KiB`, `4MiB`, `1GiB` (also `K`, `M`, `G`, `KB`, `MB`, `GB` as binary units).
fn size(v: &str) -> Result<u64, String> {
    let (n, unit) = number_and_unit(v, "a byte count such as 4194304 or 4MiB")?;
    let mult = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => KIB,
        "m" | "mb" | "mib" => MIB,
        "g" | "gb" | "gib" => 1024 * MIB,
        other => return Err(format!("unknown size unit {other:?}")),
    };
    n.checked_mul(mult)
        .filter(|n| *n > 0)
        .ok_or_else(|| "want a size above zero that fits 64 bits".into())
}

/// `30` (seconds), `500ms`, `30s`, `5m`, `1h`.
fn duration(v: &str) -> Result<Duration, String> {
    let (n, unit) = number_and_unit(v, "a duration such as 30s, 500ms or 5m")?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        other => return Err(format!("unknown duration unit {other:?}")),
    };
    if d.is_zero() {
        return Err("want a duration above zero".into());
    }
    Ok(d)
}

fn count(v: &str) -> Result<usize, String> {
    v.parse::<usize>()
        .ok()
        .filter(|n| (1..=64).contains(n))
        .ok_or_else(|| "want a whole number from 1 to 64".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(size("4MiB"), Ok(4 << 20));
        assert_eq!(size("512k"), Ok(512 << 10));
        assert_eq!(size("100"), Ok(100));
        assert!(size("0").is_err() && size("4XB").is_err() && size("MiB").is_err());
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(duration("2m"), Ok(Duration::from_secs(120)));
        assert!(duration("0s").is_err() && duration("1d").is_err() && duration("-1").is_err());
        assert_eq!(count("8"), Ok(8));
        assert!(count("0").is_err() && count("x").is_err());
    }

    #[test]
    fn environment_overrides_and_names_bad_values() {
        let env = |k: &str| match k {
            "KANIKO_REGISTRY_READ_TIMEOUT" => Some("2s".to_string()),
            "KANIKO_REGISTRY_MAX_MANIFEST_SIZE" => Some("1KiB".to_string()),
            _ => None,
        };
        let t = Tuning::from_env(&env).unwrap();
        assert_eq!(t.read_timeout, Duration::from_secs(2));
        assert_eq!(t.max_manifest_bytes, 1024);
        assert_eq!(t.blob_timeout, Tuning::default().blob_timeout);
        let bad = |k: &str| (k == "KANIKO_REGISTRY_BLOB_TIMEOUT").then(|| "soon".to_string());
        let err = Tuning::from_env(&bad).unwrap_err().to_string();
        assert!(
            err.contains("KANIKO_REGISTRY_BLOB_TIMEOUT") && err.contains("soon"),
            "{err}"
        );
        assert_eq!(VARIABLES.len(), SETTERS.len());
    }
}
