//! Instruction flags: leading `--name[=value]` options checked against each instruction's
//! allowed set, boolean values, and `RUN --mount` specifications.

use crate::model::{Mount, MountKind};
use crate::Error;
use std::collections::BTreeMap;

/// Flags that may be given without a value (`--link` means `--link=true`).
const BOOL_FLAGS: [&str; 3] = ["link", "parents", "keep-git-dir"];

/// Leading `--name[=value]` flags, checked against `allowed`; a repeated flag keeps all
/// values joined by '\n'. A lone `--` ends the flags and is dropped.
pub(crate) fn take_flags<'a>(
    rest: &'a str,
    line: usize,
    allowed: &[&str],
) -> Result<(BTreeMap<String, String>, &'a str), Error> {
    let mut flags = BTreeMap::new();
    let mut rest = rest.trim_start();
    while let Some(body) = rest.strip_prefix("--") {
        let end = body.find(char::is_whitespace).unwrap_or(body.len());
        let token = &body[..end];
        if token.is_empty() {
            rest = body.trim_start();
            break;
        }
        let (name, value) = match token.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (token, None),
        };
        if !allowed.contains(&name) {
            return Err(Error::new(line, format!("unknown flag: --{name}")));
        }
        let value = match value {
            Some(v) => v,
            None if BOOL_FLAGS.contains(&name) => String::from("true"),
            None => {
                return Err(Error::new(
                    line,
                    format!("missing a value on flag: --{name}"),
                ))
            }
        };
        flags
            .entry(name.to_string())
            .and_modify(|v: &mut String| {
                v.push('\n');
                v.push_str(&value);
            })
            .or_insert(value);
        rest = body[end..].trim_start();
    }
    Ok((flags, rest))
}

pub(crate) fn bool_flag(
    flags: &BTreeMap<String, String>,
    name: &str,
    line: usize,
) -> Result<bool, Error> {
    match flags.get(name).map(String::as_str) {
        None => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(v) => Err(Error::new(
            line,
            format!("invalid value {v:?} for --{name}: want true or false"),
        )),
    }
}

pub(crate) fn mount(spec: &str, line: usize) -> Result<Mount, Error> {
    let mut kind = MountKind::Bind;
    let mut options = BTreeMap::new();
    let (mut target, mut source, mut from) = (None, None, None);
    for part in spec.split(',').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').map_or((part, "true"), |(k, v)| (k, v));
        match k.to_ascii_lowercase().as_str() {
            "type" => {
                kind = match v {
                    "bind" => MountKind::Bind,
                    "cache" => MountKind::Cache,
                    "tmpfs" => MountKind::Tmpfs,
                    "secret" => MountKind::Secret,
                    "ssh" => MountKind::Ssh,
                    _ => return Err(Error::new(line, format!("unsupported mount type {v:?}"))),
                }
            }
            "target" | "dst" | "destination" => target = Some(v.to_string()),
            "source" | "src" => source = Some(v.to_string()),
            "from" => from = Some(v.to_string()),
            "id" | "readonly" | "ro" | "rw" | "readwrite" | "sharing" | "mode" | "uid" | "gid"
            | "size" | "required" | "env" => {
                options.insert(k.to_ascii_lowercase(), v.to_string());
            }
            other => {
                return Err(Error::new(
                    line,
                    format!("unexpected key '{other}' in '{part}'"),
                ))
            }
        }
    }
    if let Some(s) = options.get("sharing") {
        if !["shared", "private", "locked"].contains(&s.as_str()) {
            return Err(Error::new(line, format!("unsupported sharing value {s:?}")));
        }
    }
    if target.is_none() && !matches!(kind, MountKind::Secret | MountKind::Ssh) {
        return Err(Error::new(line, "mount target must be specified"));
    }
    Ok(Mount {
        kind,
        target,
        source,
        from,
        options,
    })
}
