//! The INI dialect of AWS's shared files, line by line as the Go SDK v2 tokenizes it:
//! sections, properties, continuations; comments and blank lines skipped.

use std::collections::BTreeMap;

/// Sections by name (`profile ci`, `default`), each a map of lowercase keys to values.
pub(crate) type Sections = BTreeMap<String, BTreeMap<String, String>>;

/// A line that is no section, property or continuation.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("line {line}: not a [section], key = value or continuation line")]
pub struct ParseError {
    pub line: usize,
}

/// The sections of `text`. Properties before the first section are ignored; a section
/// named twice is one section; a key set twice keeps its last value.
pub(crate) fn sections(text: &str) -> Result<Sections, ParseError> {
    let mut out = Sections::new();
    let mut section: Option<String> = None;
    let mut key: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start_matches([' ', '\t']);
        if trimmed.trim().is_empty() || trimmed.starts_with(['#', ';']) {
            continue;
        }
        let indented = trimmed.len() != line.len();
        if let Some(name) = section_name(line) {
            out.entry(name.clone()).or_default();
            section = Some(name);
            key = None;
        } else if !indented {
            let (k, v) = property(line).ok_or(ParseError { line: i + 1 })?;
            if let Some(s) = &section {
                out.entry(s.clone()).or_default().insert(k.clone(), v);
                key = Some(k);
            }
        } else if !trimmed.contains(['=', ':']) {
            // A continuation adds a line to a non-empty value; an indented `k = v` is a
            // sub-property (nested settings these files use for services), not a value.
            let value = section
                .as_ref()
                .zip(key.as_ref())
                .and_then(|(s, k)| out.get_mut(s).and_then(|m| m.get_mut(k)));
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                v.push('\n');
                v.push_str(trimmed);
            }
        }
    }
    Ok(out)
}

/// Everything before a `#` or `;`.
fn without_comment(line: &str) -> &str {
    line.split(['#', ';']).next().unwrap_or_default()
}

/// `[ type name ]` as `type name` (one space between), or `[ name ]` as `name`.
fn section_name(line: &str) -> Option<String> {
    let inner = without_comment(line)
        .trim_end_matches([' ', '\t'])
        .strip_prefix('[')?
        .strip_suffix(']')?
        .trim();
    Some(match inner.split_once([' ', '\t']) {
        Some((kind, name)) => format!("{kind} {}", name.trim_start_matches([' ', '\t'])),
        None => inner.to_string(),
    })
}

/// `key = value` or `key: value` (whichever separator comes first), the key lowercased
/// and the value unquoted.
fn property(line: &str) -> Option<(String, String)> {
    let text = without_comment(line).trim_end_matches([' ', '\t']);
    let at = text.find(['=', ':'])?;
    let (k, v) = (text[..at].trim(), text[at + 1..].trim());
    Some((k.to_ascii_lowercase(), unquote(v)))
}

/// A value without its surrounding quotes, with `\"`, `\'` and `\n` expanded.
fn unquote(v: &str) -> String {
    let quoted = v.len() > 2
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')));
    let v = if quoted { &v[1..v.len() - 1] } else { v };
    v.replace("\\\"", "\"")
        .replace("\\'", "'")
        .replace("\\n", "\n")
}
