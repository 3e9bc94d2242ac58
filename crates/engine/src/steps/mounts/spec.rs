//! One `RUN --mount` as BuildKit reads it once expanded: its target (relative ones taken
//! from WORKDIR, a secret's and an ssh socket's from `/`), read-only default by type (bind, secret and ssh read-only; cache and tmpfs
//! writable), the cache id (the target as written), the secret id (`id`, else `source`, else
//! the target's base name) and default target (`/run/secrets/<id>` unless only `env` is
//! given), sizes in go-units' binary units.

use dockerfile::{Mount, MountKind};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sharing {
    Shared,
    Private,
    Locked,
}

#[derive(Clone, Debug)]
pub struct Spec {
    pub kind: MountKind,
    /// The absolute container path; `None` for a secret given as an environment variable only.
    pub target: Option<String>,
    /// The path inside `from` (cleaned, relative; "" is its root).
    pub source: String,
    pub from: Option<String>,
    pub id: String,
    pub readonly: bool,
    pub sharing: Sharing,
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// tmpfs size in bytes.
    pub size: Option<u64>,
    pub required: bool,
    /// A secret's environment variable.
    pub env: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("invalid mount target {0:?}")]
    Target(String),
    #[error("invalid value for {0}: {1}")]
    Value(String, String),
    #[error("ssh does not support source")]
    SshSource,
}

/// Go's strconv.ParseBool.
fn parse_bool(k: &str, v: &str) -> Result<bool, SpecError> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(SpecError::Value(k.into(), v.into())),
    }
}

/// docker/go-units RAMInBytes: `64m`, `1.5GiB`, `1024` (binary units).
pub fn ram_bytes(v: &str) -> Option<u64> {
    let end = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (num, unit) = v.split_at(end);
    let num: f64 = num.parse().ok()?;
    let unit = unit.trim_start().to_ascii_lowercase();
    let unit = unit.strip_suffix('b').unwrap_or(&unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    let power = match unit {
        "" => 0,
        "k" => 1,
        "m" => 2,
        "g" => 3,
        "t" => 4,
        "p" => 5,
        _ => return None,
    };
    let bytes = num * 1024f64.powi(power);
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

impl Spec {
    /// Reads an expanded mount of a RUN whose working directory is `workdir`.
    pub fn new(m: &Mount, workdir: &str) -> Result<Spec, SpecError> {
        let opt = |k: &str| m.options.get(k).map(String::as_str);
        let num = |k: &str, radix: u32| {
            opt(k)
                .map(|v| {
                    u32::from_str_radix(v, radix).map_err(|_| SpecError::Value(k.into(), v.into()))
                })
                .transpose()
        };
        let mut readonly = !matches!(m.kind, MountKind::Cache | MountKind::Tmpfs);
        for k in ["readonly", "ro"] {
            if let Some(v) = opt(k) {
                readonly = parse_bool(k, v)?;
            }
        }
        for k in ["readwrite", "rw"] {
            if let Some(v) = opt(k) {
                readonly = !parse_bool(k, v)?;
            }
        }
        let required = opt("required")
            .map(|v| parse_bool("required", v))
            .transpose()?;
        let size = opt("size")
            .map(|v| ram_bytes(v).ok_or_else(|| SpecError::Value("size".into(), v.into())))
            .transpose()?;
        let sharing = match opt("sharing").map(str::to_ascii_lowercase).as_deref() {
            Some("private") => Sharing::Private,
            Some("locked") => Sharing::Locked,
            _ => Sharing::Shared,
        };
        let written = m.target.clone().unwrap_or_default();
        let source = crate::context::glob::clean(m.source.as_deref().unwrap_or(""));
        let env = opt("env").map(String::from);
        let id = opt("id").unwrap_or("").to_string();
        let (id, target) = id_and_target(m, id, &written, env.as_deref())?;
        // BuildKit takes relative targets from WORKDIR, but a secret's or ssh socket's from /.
        let base = match m.kind {
            MountKind::Secret | MountKind::Ssh => "/",
            _ => workdir,
        };
        let target = match target {
            Some(t) => {
                let abs = clean_abs(&crate::steps::copy::spec::absolute_dest(&t, base));
                if abs == "/" {
                    return Err(SpecError::Target(abs));
                }
                Some(abs)
            }
            None => None,
        };
        Ok(Spec {
            kind: m.kind.clone(),
            target,
            source,
            from: m.from.clone().filter(|f| !f.is_empty()),
            id,
            readonly,
            sharing,
            mode: num("mode", 8)?,
            uid: num("uid", 10)?,
            gid: num("gid", 10)?,
            size,
            required: required.unwrap_or(false),
            env,
        })
    }
}

/// The mount's id and its target as written (before it is made absolute): a secret's id
/// falls back to its source, then its target's name; a secret exposed as an env variable
/// alone has no target; a cache's id defaults to its target.
fn id_and_target(
    m: &Mount,
    id: String,
    written: &str,
    env: Option<&str>,
) -> Result<(String, Option<String>), SpecError> {
    Ok(match m.kind {
        MountKind::Secret => {
            let id = match (id.is_empty(), m.source.as_deref()) {
                (false, _) => id,
                (true, Some(s)) if !s.is_empty() => s.to_string(),
                _ => base_name(written),
            };
            let target = match (env, written.is_empty()) {
                (Some(_), true) => None,
                (_, true) => Some(format!("/run/secrets/{}", base_name(&id))),
                (_, false) => Some(written.to_string()),
            };
            (id, target)
        }
        MountKind::Ssh => {
            if m.source.as_deref().is_some_and(|s| !s.is_empty()) {
                return Err(SpecError::SshSource);
            }
            let id = if id.is_empty() { "default".into() } else { id };
            (id, (!written.is_empty()).then(|| written.to_string()))
        }
        MountKind::Cache if id.is_empty() => (go_clean(written), Some(written.to_string())),
        _ => (id, Some(written.to_string())),
    })
}

/// `/`-rooted and cleaned, as Go's path.Clean("/" + p).
fn clean_abs(p: &str) -> String {
    format!("/{}", crate::context::glob::clean(p))
}

/// Go's path.Clean: a leading `/` kept, "" for nothing is ".".
fn go_clean(p: &str) -> String {
    let c = crate::context::glob::clean(p);
    match (p.starts_with('/'), c.is_empty()) {
        (true, _) => format!("/{c}"),
        (false, true) => ".".into(),
        (false, false) => c,
    }
}

/// Go's path.Base.
fn base_name(p: &str) -> String {
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return if p.is_empty() { ".".into() } else { "/".into() };
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mount(kind: MountKind, target: Option<&str>, opts: &[(&str, &str)]) -> Mount {
        Mount {
            kind,
            target: target.map(String::from),
            source: None,
            from: None,
            options: opts
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn defaults_by_type() {
        let s = Spec::new(&mount(MountKind::Secret, None, &[("id", "tok")]), "/").unwrap();
        assert_eq!(s.target.as_deref(), Some("/run/secrets/tok"));
        assert!(s.readonly && !s.required);
        let s = Spec::new(
            &mount(MountKind::Secret, None, &[("id", "tok"), ("env", "T")]),
            "/",
        )
        .unwrap();
        assert_eq!(s.target, None);
        let s = Spec::new(&mount(MountKind::Secret, Some("/etc/x.key"), &[]), "/").unwrap();
        assert_eq!(s.id, "x.key");
        let s = Spec::new(&mount(MountKind::Secret, Some("k"), &[]), "/app").unwrap();
        assert_eq!(s.target.as_deref(), Some("/k"));
        let c = Spec::new(
            &mount(MountKind::Cache, Some("cache/"), &[("sharing", "LOCKED")]),
            "/app",
        )
        .unwrap();
        assert_eq!(
            (c.id.as_str(), c.target.as_deref()),
            ("cache", Some("/app/cache"))
        );
        assert_eq!(c.sharing, Sharing::Locked);
        assert!(!c.readonly);
        let b = Spec::new(
            &mount(MountKind::Bind, Some("/src"), &[("rw", "true")]),
            "/",
        )
        .unwrap();
        assert!(!b.readonly);
        let t = Spec::new(
            &mount(MountKind::Tmpfs, Some("/t"), &[("size", "1.5k")]),
            "/",
        )
        .unwrap();
        assert_eq!(t.size, Some(1536));
        assert!(Spec::new(&mount(MountKind::Bind, None, &[]), "/").is_err());
        assert_eq!(
            Spec::new(&mount(MountKind::Bind, None, &[]), "/w")
                .unwrap()
                .target
                .as_deref(),
            Some("/w")
        );
        let ssh = Spec::new(&mount(MountKind::Ssh, None, &[]), "/").unwrap();
        assert_eq!((ssh.id.as_str(), ssh.target), ("default", None));
    }

    #[test]
    fn sizes() {
        assert_eq!(ram_bytes("64m"), Some(64 << 20));
        assert_eq!(ram_bytes("1GiB"), Some(1 << 30));
        assert_eq!(ram_bytes("10 MB"), Some(10 << 20));
        assert_eq!(ram_bytes("512"), Some(512));
        assert_eq!(ram_bytes("1x"), None);
    }
}
