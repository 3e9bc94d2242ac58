//! `RUN --mount` specifications, in two steps as BuildKit takes them. When the Dockerfile
//! is parsed: the comma-separated fields (CSV, so a field may be double-quoted), the known
//! keys, a literal `type`, and no variable in `from`. When the instruction runs: every
//! value expanded like any word (keys are not), a `type` given by a variable resolved (as
//! BuildKit's `parseMount` with its expander), then the values checked.

use crate::model::{Mount, MountKind};
use crate::Error;
use std::collections::BTreeMap;

/// Keys with a value of their own (everything else goes to `options`).
const OPTION_KEYS: [&str; 12] = [
    "id",
    "readonly",
    "ro",
    "rw",
    "readwrite",
    "sharing",
    "mode",
    "uid",
    "gid",
    "size",
    "required",
    "env",
];

/// Keys that may stand alone, meaning `=true`.
const FLAG_KEYS: [&str; 5] = ["readonly", "ro", "rw", "readwrite", "required"];

/// Splits one CSV record: fields separated by commas, a field that starts with `"` runs
/// to the next lone `"` (with `""` for a quote), any other `"` is an error.
fn csv_fields(s: &str) -> Result<Vec<String>, String> {
    let s = s.strip_suffix('\n').unwrap_or(s);
    let s = s.strip_suffix('\r').unwrap_or(s);
    if s.is_empty() {
        return Err("failed to parse csv mounts: EOF".into());
    }
    let mut fields = Vec::new();
    let mut rest = s;
    loop {
        if let Some(q) = rest.strip_prefix('"') {
            let mut field = String::new();
            let mut r = q;
            loop {
                let Some(i) = r.find('"') else {
                    return Err(
                        "failed to parse csv mounts: extraneous or missing \" in quoted-field"
                            .into(),
                    );
                };
                field.push_str(&r[..i]);
                r = &r[i + 1..];
                if let Some(more) = r.strip_prefix('"') {
                    field.push('"');
                    r = more;
                    continue;
                }
                break;
            }
            fields.push(field);
            match r.strip_prefix(',') {
                Some(more) => rest = more,
                None if r.is_empty() => return Ok(fields),
                None => {
                    return Err(
                        "failed to parse csv mounts: extraneous or missing \" in quoted-field"
                            .into(),
                    )
                }
            }
        } else {
            let (field, more) = match rest.find(',') {
                Some(i) => (&rest[..i], Some(&rest[i + 1..])),
                None => (rest, None),
            };
            if field.contains('"') {
                return Err("failed to parse csv mounts: bare \" in non-quoted-field".into());
            }
            fields.push(field.to_string());
            match more {
                Some(m) => rest = m,
                None => return Ok(fields),
            }
        }
    }
}

fn kind(v: &str) -> Option<MountKind> {
    Some(match v.to_ascii_lowercase().as_str() {
        "bind" => MountKind::Bind,
        "cache" => MountKind::Cache,
        "tmpfs" => MountKind::Tmpfs,
        "secret" => MountKind::Secret,
        "ssh" => MountKind::Ssh,
        _ => return None,
    })
}

/// At parse time: the fields with their values as written. `plain` expands a word with no
/// variables in scope (it only removes quotes), for `type`.
pub(crate) fn parse(
    spec: &str,
    line: usize,
    plain: &dyn Fn(&str) -> Result<String, Error>,
) -> Result<Mount, Error> {
    let fields = csv_fields(spec).map_err(|e| Error::new(line, e))?;
    // A type given by a variable is known only when the RUN runs: the keys it allows are
    // checked then (`resolve_type`).
    let typed_later = fields.iter().any(|f| {
        f.split_once('=')
            .is_some_and(|(k, v)| k.eq_ignore_ascii_case("type") && v.contains('$'))
    });
    let allowed = |kind: &MountKind, key: &str| match typed_later {
        true => Ok(()),
        false => allowed_for(kind, key, line),
    };
    let mut m = Mount {
        kind: MountKind::Bind,
        target: None,
        source: None,
        from: None,
        options: BTreeMap::new(),
    };
    for field in fields {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k.to_ascii_lowercase(), Some(v.to_string())),
            None => (field.to_ascii_lowercase(), None),
        };
        let Some(value) = value else {
            if !FLAG_KEYS.contains(&key.as_str()) {
                let msg = format!("invalid field '{field}' must be a key=value pair");
                return Err(Error::new(line, msg));
            }
            allowed(&m.kind, &key)?;
            m.options.insert(key, "true".into());
            continue;
        };
        match key.as_str() {
            "type" if typed_later => {
                m.options.insert(key, value);
            }
            "type" => {
                let v = plain(&value)?;
                m.kind = kind(&v)
                    .ok_or_else(|| Error::new(line, format!("unsupported mount type {v:?}")))?;
            }
            "from" => {
                if value.find('$').is_some_and(|i| i + 1 != value.len()) {
                    let msg =
                        "'from' doesn't support variable expansion, define alias stage instead";
                    return Err(Error::new(line, msg));
                }
                m.from = Some(value);
            }
            "source" | "src" => m.source = Some(value),
            "target" | "dst" | "destination" => m.target = Some(value),
            k if OPTION_KEYS.contains(&k) => {
                allowed(&m.kind, k)?;
                m.options.insert(key, value);
            }
            _ => {
                let msg = format!("unexpected key '{key}' in '{field}'");
                return Err(Error::new(line, msg));
            }
        }
    }
    Ok(m)
}

/// After expansion: a `type` given by a variable becomes the mount's kind, and the keys are
/// checked against it.
pub(crate) fn resolve_type(m: &mut Mount, line: usize) -> Result<(), Error> {
    let Some(t) = m.options.remove("type") else {
        return Ok(());
    };
    m.kind = kind(&t).ok_or_else(|| Error::new(line, format!("unsupported mount type {t:?}")))?;
    for k in m.options.keys() {
        allowed_for(&m.kind, k, line)?;
    }
    Ok(())
}

/// `required` and `size` need the mount type given before them (BuildKit reads the
/// fields in order).
fn allowed_for(kind: &MountKind, key: &str, line: usize) -> Result<(), Error> {
    let ok = match key {
        "required" => matches!(kind, MountKind::Secret | MountKind::Ssh),
        "size" => *kind == MountKind::Tmpfs,
        _ => true,
    };
    if ok {
        return Ok(());
    }
    let t = format!("{kind:?}").to_ascii_lowercase();
    let msg = format!("unexpected key '{key}' for mount type '{t}'");
    Err(Error::new(line, msg))
}

/// Go's strconv.ParseBool.
fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// docker/go-units RAMInBytes syntax: `64m`, `1.5GiB`, `1024`.
fn is_ram_size(v: &str) -> bool {
    let num_end = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (num, unit) = v.split_at(num_end);
    let parts: Vec<&str> = num.split('.').collect();
    let num_ok = parts.len() <= 2 && parts.iter().all(|p| !p.is_empty());
    let unit = unit.strip_prefix(' ').unwrap_or(unit).to_ascii_lowercase();
    let unit = unit.strip_suffix('b').unwrap_or(&unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    num_ok && (unit.is_empty() || (unit.len() == 1 && "kmgtp".contains(unit)))
}

/// After expansion: the values checked as BuildKit checks them.
pub(crate) fn check(m: &Mount, line: usize) -> Result<(), Error> {
    let t = format!("{:?}", m.kind).to_ascii_lowercase();
    let bad = |msg: String| Err(Error::new(line, msg));
    for (k, v) in &m.options {
        let ok = match k.as_str() {
            "readonly" | "ro" | "rw" | "readwrite" | "required" => parse_bool(v).is_some(),
            "size" => is_ram_size(v),
            "sharing" => {
                if !["shared", "private", "locked"].contains(&v.to_ascii_lowercase().as_str()) {
                    return bad(format!("unsupported sharing value {v:?}"));
                }
                true
            }
            "mode" => u32::from_str_radix(v, 8).is_ok() && !v.starts_with('+'),
            "uid" | "gid" => v.parse::<u32>().is_ok() && !v.starts_with('+'),
            _ => true,
        };
        if !ok {
            return match k.as_str() {
                "mode" | "uid" | "gid" => bad(format!("invalid value {v} for {k}")),
                _ => bad(format!("invalid value for {k}: {v}")),
            };
        }
    }
    if matches!(m.kind, MountKind::Bind | MountKind::Tmpfs) {
        for k in ["mode", "uid", "gid"] {
            if m.options.contains_key(k) {
                return bad(format!("{k} not allowed for {t:?} type mounts"));
            }
        }
    }
    if m.kind == MountKind::Secret {
        let id = m.options.get("id").is_some_and(|v| !v.is_empty());
        let set = |o: &Option<String>| o.as_deref().is_some_and(|v| !v.is_empty());
        if set(&m.from) {
            return bad("secret mount should not have a from".into());
        }
        if m.options.get("sharing").is_some_and(|v| !v.is_empty()) {
            return bad("secret mount should not define sharing".into());
        }
        if !set(&m.source) && !set(&m.target) && !id {
            return bad("invalid secret mount. one of source, target required".into());
        }
        if set(&m.source) && id {
            return bad("both source and id can't be set".into());
        }
    }
    if m.kind != MountKind::Cache && m.options.get("sharing").is_some_and(|v| !v.is_empty()) {
        return bad(format!("invalid cache sharing set for {t} mount"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv() {
        assert_eq!(
            csv_fields("a,b=\"c\"").unwrap_err(),
            "failed to parse csv mounts: bare \" in non-quoted-field"
        );
        assert_eq!(csv_fields("\"a,b\",c").unwrap(), vec!["a,b", "c"]);
        assert_eq!(csv_fields("\"a\"\"b\"").unwrap(), vec!["a\"b"]);
        assert_eq!(csv_fields("a,,b").unwrap(), vec!["a", "", "b"]);
        assert!(csv_fields("\"a\"b").is_err());
        assert!(csv_fields("").is_err());
    }

    #[test]
    fn sizes() {
        for ok in ["64m", "1024", "1.5GiB", "10 MB", "2k", "3Kb"] {
            assert!(is_ram_size(ok), "{ok}");
        }
        for bad in ["", "m", "1x", "1..5m", "1.2.3", "-1m", "1mm"] {
            assert!(!is_ram_size(bad), "{bad}");
        }
    }
}
