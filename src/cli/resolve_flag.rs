//! One flag's value resolved: parsed, defaulted, validated, with its environment fallback;
//! every error names the flag (or variable) and the value. `resolve` assembles them.

use super::options::*;
use super::values;
use super::CliError;
use std::path::PathBuf;

/// Looks up an environment variable (the process environment, or a test's map).
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

pub(super) fn invalid(flag: &'static str, value: &str, reason: impl Into<String>) -> CliError {
    CliError::Flag {
        flag,
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// One of `choices` by exact name; the error lists them ("want a, b or c").
pub(super) fn choose<T: Copy>(
    flag: &'static str,
    value: &str,
    choices: &[(&str, T)],
) -> Result<T, CliError> {
    if let Some((_, t)) = choices.iter().find(|(name, _)| *name == value) {
        return Ok(*t);
    }
    let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
    let want = match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("want {} or {last}", rest.join(", ")),
        _ => format!("want {}", names.join("")),
    };
    Err(invalid(flag, value, want))
}

/// A boolean flag, else its environment variable, else false.
pub(super) fn env_bool(
    flag: Option<bool>,
    var: &'static str,
    env: EnvLookup,
) -> Result<bool, CliError> {
    if let Some(b) = flag {
        return Ok(b);
    }
    match env(var) {
        Some(v) if !v.is_empty() => values::parse_bool(&v).map_err(|reason| CliError::Env {
            var,
            value: v.clone(),
            reason,
        }),
        _ => Ok(false),
    }
}

pub(super) fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

/// `--custom-platform` values: each a comma-separated list; empty words dropped.
pub(super) fn platform_list(vals: &[String]) -> Vec<String> {
    vals.iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// A repeated flag's values, empty ones left out (kaniko skips them).
pub(super) fn given(vals: Vec<String>) -> Vec<String> {
    vals.into_iter().filter(|v| !v.is_empty()).collect()
}

/// A path flag: an empty value means unset, as in kaniko.
pub(super) fn path(s: Option<String>) -> Option<PathBuf> {
    non_empty(s).map(PathBuf::from)
}

pub(super) fn count(flag: &'static str, v: Option<&str>) -> Result<u32, CliError> {
    match v {
        None => Ok(0),
        Some(v) => v
            .trim()
            .parse::<u32>()
            .map_err(|_| invalid(flag, v, "want a non-negative integer")),
    }
}

pub(super) fn ttl(v: Option<&str>) -> Result<std::time::Duration, CliError> {
    match v {
        None => Ok(DEFAULT_CACHE_TTL),
        Some(v) => values::parse_duration(v).map_err(|e| invalid("cache-ttl", v, e)),
    }
}

pub(super) fn compression_level(c: Compression, v: &str) -> Result<i32, CliError> {
    let level: i32 = v
        .trim()
        .parse()
        .map_err(|_| invalid("compression-level", v, "want an integer"))?;
    let (max, name) = match c {
        Compression::Gzip => (9, "gzip"),
        Compression::Zstd => (22, "zstd"),
        // Not a `--compression` value.
        Compression::None => (0, "no compression"),
    };
    if level < -1 || level > max {
        return Err(invalid(
            "compression-level",
            v,
            format!("want -1 (default) or 0..={max} for {name}"),
        ));
    }
    Ok(level)
}

pub(super) fn pairs(
    flag: &'static str,
    vals: &[String],
) -> Result<Vec<(String, String)>, CliError> {
    vals.iter()
        .map(|v| values::parse_key_value(v).map_err(|e| invalid(flag, v, e)))
        .collect()
}

/// `K=V` as given; `K` alone takes the environment's value (`None` when unset there).
pub(super) fn build_args(
    flag: &'static str,
    vals: &[String],
    env: EnvLookup,
) -> Result<Vec<(String, Option<String>)>, CliError> {
    vals.iter()
        .map(|v| {
            let (k, val) = values::parse_build_arg(v).map_err(|e| invalid(flag, v, e))?;
            let val = val.or_else(|| env(&k));
            Ok((k, val))
        })
        .collect()
}

/// `--context` (default /workspace/), or the deprecated `--bucket` when the context is empty
/// or remote, as kaniko does.
pub(super) fn context(ctx: Option<&str>, bucket: Option<&str>) -> Result<ContextSource, CliError> {
    let ctx = ctx.unwrap_or("/workspace/");
    let bucket = bucket.filter(|b| !b.is_empty());
    let (flag, value) = match bucket {
        Some(b) if ctx.is_empty() || ctx.contains("://") => (
            "bucket",
            if b.contains("://") {
                b.to_string()
            } else {
                format!("gs://{b}")
            },
        ),
        _ if ctx.is_empty() => {
            return Err(invalid("context", ctx, "want a build context path or URL"));
        }
        _ => ("context", ctx.to_string()),
    };
    let src = ContextSource::parse(&value).map_err(|e| invalid(flag, &value, e))?;
    match src {
        // As kaniko: a relative directory (`rel`, `dir://rel`) is taken from the working
        // directory, absolute ones are kept as written.
        ContextSource::Dir(p) if p.is_relative() => {
            let cwd = std::env::current_dir()
                .map_err(|e| invalid(flag, &value, format!("no working directory: {e}")))?;
            Ok(ContextSource::Dir(values::absolute(&p, &cwd)))
        }
        other => Ok(other),
    }
}

/// `--git` values: `key=value` items, comma-separated or repeated.
pub(super) fn git_options(vals: &[String]) -> Result<GitOptions, CliError> {
    let mut g = GitOptions::default();
    for v in vals {
        for item in v.split(',').filter(|i| !i.is_empty()) {
            let (k, val) = item
                .split_once('=')
                .ok_or_else(|| invalid("git", v, format!("{item:?}: want key=value")))?;
            let flag = |val: &str| {
                values::parse_bool(val).map_err(|e| invalid("git", v, format!("{k}: {e}")))
            };
            match k {
                "branch" => g.branch = Some(val.to_string()).filter(|b| !b.is_empty()),
                "single-branch" => g.single_branch = flag(val)?,
                "recurse-submodules" => g.recurse_submodules = flag(val)?,
                "insecure-skip-tls" => g.insecure_skip_tls = flag(val)?,
                _ => {
                    return Err(invalid(
                        "git",
                        v,
                        format!("unknown key {k:?}: want branch, single-branch, recurse-submodules or insecure-skip-tls"),
                    ))
                }
            }
        }
    }
    Ok(g)
}

/// `id=X[,src=path][,env=VAR][,type=file|env]`. Without src or env the value comes from the
/// environment variable named like the id.
pub(super) fn secret(v: &str) -> Result<Secret, CliError> {
    let (mut id, mut src, mut var, mut kind) = (None, None, None, None);
    for item in v.split(',').filter(|i| !i.is_empty()) {
        let (k, val) = item
            .split_once('=')
            .ok_or_else(|| invalid("secret", v, format!("{item:?}: want key=value")))?;
        match k {
            "id" => id = Some(val),
            "src" | "source" => src = Some(val),
            "env" => var = Some(val),
            "type" => kind = Some(val),
            _ => {
                return Err(invalid(
                    "secret",
                    v,
                    format!("unknown key {k:?}: want id, src, env or type"),
                ))
            }
        }
    }
    let id = id
        .filter(|i| !i.is_empty())
        .ok_or_else(|| invalid("secret", v, "missing id=..."))?;
    let source = match (kind, src, var) {
        (Some("file"), Some(p), None) | (None, Some(p), None) if !p.is_empty() => {
            SecretSource::File(PathBuf::from(p))
        }
        (Some("file"), _, _) => {
            return Err(invalid(
                "secret",
                v,
                "type=file needs src=path (and no env=)",
            ))
        }
        (Some("env"), None, None) | (None, None, None) => SecretSource::Env(id.to_string()),
        (Some("env"), Some(n), None) | (Some("env"), None, Some(n)) | (None, None, Some(n))
            if !n.is_empty() =>
        {
            SecretSource::Env(n.to_string())
        }
        (Some(t), _, _) if t != "env" => {
            return Err(invalid(
                "secret",
                v,
                format!("unknown type {t:?}: want file or env"),
            ))
        }
        _ => return Err(invalid("secret", v, "give one non-empty src= or env=")),
    };
    Ok(Secret {
        id: id.to_string(),
        source,
    })
}

/// `--credential-helpers`: not given means all; `""` means none. Names are split at commas;
/// an unknown name is warned about and skipped when the keychain is made, as kaniko does.
pub(super) fn credential_helpers(vals: &[String]) -> Result<Option<Vec<String>>, CliError> {
    if vals.is_empty() {
        return Ok(None);
    }
    let names = vals
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect();
    Ok(Some(names))
}
