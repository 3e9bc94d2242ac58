//! The patterns of `${v#p}`, `${v%p}` and `${v/p/r}` as Docker reads them: `*` and `?`
//! are wildcards, `\*`, `\?` and `\\` escape them, `\}` and `\/` stand for `}` and `/`,
//! any other backslash is an error and everything else (brackets included) is literal.
//! A pattern becomes a regular expression matched leftmost-first, as Go's regexp does;
//! `%` matches the reversed pattern against the reversed value.

use super::{push_checked, ExpandError};
use regex::{Regex, RegexBuilder};
use std::sync::LazyLock;

/// The largest compiled pattern (guards memory against a hostile pattern).
const MAX_REGEX_BYTES: usize = 1 << 22;

fn invalid(pattern: &str, why: impl std::fmt::Display) -> ExpandError {
    ExpandError(format!(
        "invalid pattern ({pattern}) in substitution: {why}"
    ))
}

/// The pattern as a regular expression: `*` is `.*` (or `.*?` when not `greedy`), `?` is
/// `.`, anchored at the start when `anchored`. Like Go's text/scanner, a leading byte
/// order mark is skipped.
fn to_regex(pattern: &str, greedy: bool, anchored: bool) -> Result<Regex, ExpandError> {
    let mut re = String::with_capacity(pattern.len() + 4);
    if anchored {
        re.push('^');
    }
    let star = if greedy { ".*" } else { ".*?" };
    let body = pattern.strip_prefix('\u{feff}').unwrap_or(pattern);
    let mut chars = body.chars().peekable();
    let mut buf = [0u8; 4];
    while let Some(c) = chars.next() {
        match c {
            '*' => re.push_str(star),
            '?' => re.push('.'),
            '\\' if matches!(chars.peek(), Some('}' | '/')) => {}
            '\\' => match chars.next() {
                Some(e @ ('*' | '?' | '\\')) => {
                    re.push('\\');
                    re.push(e);
                }
                other => {
                    let shown = other.unwrap_or('\u{fffd}');
                    return Err(invalid(pattern, format!("invalid escape '\\{shown}'")));
                }
            },
            c => re.push_str(&regex::escape(c.encode_utf8(&mut buf))),
        }
    }
    RegexBuilder::new(&re)
        .size_limit(MAX_REGEX_BYTES)
        .build()
        .map_err(|e| invalid(pattern, e))
}

/// `${v#p}` / `${v##p}`: removes the shortest (longest when `greedy`) matching prefix.
pub(super) fn trim_prefix(pattern: &str, value: &str, greedy: bool) -> Result<String, ExpandError> {
    let re = to_regex(pattern, greedy, true)?;
    Ok(match re.find(value) {
        Some(m) => value[m.end()..].to_string(),
        None => value.to_string(),
    })
}

/// `${v%p}` / `${v%%p}`: the same on the reversed value with the reversed pattern.
pub(super) fn trim_suffix(pattern: &str, value: &str, greedy: bool) -> Result<String, ExpandError> {
    let reversed: String = value.chars().rev().collect();
    let trimmed = trim_prefix(&reverse_pattern(pattern), &reversed, greedy)?;
    Ok(trimmed.chars().rev().collect())
}

/// Reverses a pattern keeping each `\x` escape in front of the character it escapes.
fn reverse_pattern(pattern: &str) -> String {
    let p: Vec<char> = pattern.chars().collect();
    let mut out = p.clone();
    let Some(last) = p.len().checked_sub(1) else {
        return String::new();
    };
    let mut i = 0;
    while i <= last {
        let at = last - i;
        if p[i] == '\\' && i != last {
            out[at - 1] = '\\';
            out[at] = p[i + 1];
            i += 2;
        } else {
            out[at] = p[i];
            i += 1;
        }
    }
    out.into_iter().collect()
}

/// `${v/p/r}` (first match) and `${v//p/r}` (every match, where `$0`, `${0}` stand for
/// the match, `$$` for `$`, and other `$name` for nothing, as in Go's ReplaceAllString).
pub(super) fn replace(
    value: &str,
    pattern: &str,
    replacement: &str,
    all: bool,
) -> Result<String, ExpandError> {
    let re = to_regex(pattern, true, false)?;
    if !all {
        return Ok(match re.find(value) {
            Some(m) => {
                let mut out = value[..m.start()].to_string();
                push_checked(&mut out, replacement)?;
                push_checked(&mut out, &value[m.end()..])?;
                out
            }
            None => value.to_string(),
        });
    }
    let mut out = String::new();
    let (mut last_end, mut search) = (0, 0);
    while search <= value.len() {
        let Some(m) = re.find_at(value, search) else {
            break;
        };
        push_checked(&mut out, &value[last_end..m.start()])?;
        // An empty match right after another match is not replaced.
        if m.end() > last_end || m.start() == 0 {
            push_checked(&mut out, &template(replacement, m.as_str()))?;
        }
        last_end = m.end();
        // Advance past the match, and by at least one character.
        let width = value[search..].chars().next().map_or(0, char::len_utf8);
        search = if search + width > m.end() {
            search + width
        } else if search + 1 > m.end() {
            search + 1
        } else {
            m.end()
        };
    }
    push_checked(&mut out, &value[last_end..])?;
    Ok(out)
}

/// A `$` template name: letters, decimal digits and `_`.
static TEMPLATE_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\p{L}\p{Nd}_]*").expect("constant regex"));

/// Go's regexp template expansion for a pattern without groups: `$$` is `$`, `$0` and
/// `${0}` the whole match, any other well-formed `$name`/`${name}` nothing, and a
/// malformed one a literal `$`.
fn template(t: &str, matched: &str) -> String {
    let mut out = String::new();
    let mut rest = t;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('$') {
            out.push('$');
            rest = r;
            continue;
        }
        let (braced, body) = match rest.strip_prefix('{') {
            Some(b) => (true, b),
            None => (false, rest),
        };
        let n = TEMPLATE_NAME.find(body).map_or(0, |m| m.end());
        let closed = !braced || body[n..].starts_with('}');
        if n == 0 || !closed {
            out.push('$');
            continue;
        }
        if &body[..n] == "0" {
            out.push_str(matched);
        }
        rest = &body[n + usize::from(braced)..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims() {
        let v = "/usr/lib/a.tar.gz";
        assert_eq!(trim_prefix("*/", v, false).unwrap(), "usr/lib/a.tar.gz");
        assert_eq!(trim_prefix("*/", v, true).unwrap(), "a.tar.gz");
        assert_eq!(trim_suffix(".*", v, false).unwrap(), "/usr/lib/a.tar");
        assert_eq!(trim_suffix(".*", v, true).unwrap(), "/usr/lib/a");
        assert_eq!(trim_prefix("h?", "héllo", false).unwrap(), "llo");
        // Brackets are literal, as in Docker.
        assert_eq!(trim_prefix("[a]", "[a]b", false).unwrap(), "b");
        assert_eq!(trim_suffix("\\*", "a*", false).unwrap(), "a");
        assert!(trim_prefix("\\x", "a", false).is_err());
        assert!(trim_prefix("a\\", "a", false).is_err());
    }

    #[test]
    fn reverses_patterns() {
        assert_eq!(reverse_pattern("a\\*c"), "c\\*a");
        assert_eq!(reverse_pattern("ab\\"), "\\ba");
        assert_eq!(reverse_pattern("\\\\b"), "b\\\\");
        assert_eq!(reverse_pattern(""), "");
    }

    #[test]
    fn replaces() {
        assert_eq!(replace("aXbXc", "X", "-", false).unwrap(), "a-bXc");
        assert_eq!(replace("aXbXc", "X", "-", true).unwrap(), "a-b-c");
        assert_eq!(replace("abc", "*", "z", true).unwrap(), "z");
        assert_eq!(replace("abc", "", "-", true).unwrap(), "-a-b-c-");
        assert_eq!(
            replace("abc", "b", "[$0|$$|$x|${0}|$]", true).unwrap(),
            "a[b|$||b|$]c"
        );
        assert_eq!(replace("abc", "b", "$0", false).unwrap(), "a$0c");
    }
}
