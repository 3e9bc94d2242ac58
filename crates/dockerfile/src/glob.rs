//! Shell glob patterns for `${v#p}`, `${v%p}` and `${v/p/r}`: `*`, `?`, `[...]` and
//! backslash escapes, matched by simulating the pattern's states over the text (no
//! backtracking), within a step budget.

use crate::expand::{push_checked, ExpandError};

/// Pattern-matching steps one `#`, `%` or `/` substitution may take (`${v//a*a*b/x}` on a
/// long value is quadratic, as in any shell; past this it fails instead of hanging).
const MAX_MATCH_STEPS: usize = 20_000_000;

fn too_expensive() -> ExpandError {
    ExpandError("bad substitution: pattern matching too expensive".into())
}

/// Removes the shortest or longest prefix (or suffix) matching the glob `pat`.
pub(crate) fn trim(v: &str, pat: &str, prefix: bool, longest: bool) -> Result<String, ExpandError> {
    let mut chars: Vec<char> = v.chars().collect();
    let mut toks = compile(pat);
    if !prefix {
        chars.reverse();
        toks.reverse();
    }
    let mut budget = MAX_MATCH_STEPS;
    let ends = match_lengths(&toks, &chars, &mut budget)?;
    let k = if longest {
        ends.iter().rposition(|&m| m)
    } else {
        ends.iter().position(|&m| m)
    };
    Ok(match k {
        Some(k) if prefix => chars[k..].iter().collect(),
        Some(k) => chars[k..].iter().rev().collect(),
        None => v.to_string(),
    })
}

/// Replaces the first (or every) longest non-empty match of `pat`.
pub(crate) fn replace(v: &str, pat: &str, rep: &str, all: bool) -> Result<String, ExpandError> {
    if pat.is_empty() {
        return Ok(v.to_string());
    }
    let mut budget = MAX_MATCH_STEPS;
    let toks = compile(pat);
    let chars: Vec<char> = v.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut replaced = false;
    while i < chars.len() {
        if !replaced || all {
            let ends = match_lengths(&toks, &chars[i..], &mut budget)?;
            if let Some(k) = ends.iter().rposition(|&m| m).filter(|&k| k > 0) {
                push_checked(&mut out, rep)?;
                i += k;
                replaced = true;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    Ok(out)
}

/// One element of a shell glob.
#[derive(Clone, Debug)]
enum Tok {
    Star,
    Any,
    Lit(char),
    /// `[...]`: negated, and inclusive ranges (a single char is a range of one).
    Class(bool, Vec<(char, char)>),
}

/// Shell glob syntax: `*`, `?`, `[...]` (`!` or `^` negates), backslash escapes.
fn compile(pat: &str) -> Vec<Tok> {
    let p: Vec<char> = pat.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '*' => {
                if !matches!(out.last(), Some(Tok::Star)) {
                    out.push(Tok::Star);
                }
                i += 1;
            }
            '?' => {
                out.push(Tok::Any);
                i += 1;
            }
            '\\' if i + 1 < p.len() => {
                out.push(Tok::Lit(p[i + 1]));
                i += 2;
            }
            '[' => match p[i + 1..].iter().position(|&c| c == ']') {
                Some(off) => {
                    let mut class = &p[i + 1..i + 1 + off];
                    let neg = matches!(class.first(), Some('!') | Some('^'));
                    if neg {
                        class = &class[1..];
                    }
                    let mut ranges = Vec::new();
                    let mut j = 0;
                    while j < class.len() {
                        if j + 2 < class.len() && class[j + 1] == '-' {
                            ranges.push((class[j], class[j + 2]));
                            j += 3;
                        } else {
                            ranges.push((class[j], class[j]));
                            j += 1;
                        }
                    }
                    out.push(Tok::Class(neg, ranges));
                    i += off + 2;
                }
                None => {
                    out.push(Tok::Lit('['));
                    i += 1;
                }
            },
            c => {
                out.push(Tok::Lit(c));
                i += 1;
            }
        }
    }
    out
}

fn accepts(t: &Tok, c: char) -> bool {
    match t {
        Tok::Star | Tok::Any => true,
        Tok::Lit(l) => *l == c,
        Tok::Class(neg, ranges) => ranges.iter().any(|(a, b)| *a <= c && c <= *b) != *neg,
    }
}

/// For each k in 0..=text.len(): whether `text[..k]` matches the whole glob. A linear
/// simulation over the pattern's states (no backtracking), stopping once no state is live;
/// each character costs `toks.len() + 1` steps from `budget`.
fn match_lengths(
    toks: &[Tok],
    text: &[char],
    budget: &mut usize,
) -> Result<Vec<bool>, ExpandError> {
    let m = toks.len();
    let close = |st: &mut Vec<bool>| {
        for s in 0..m {
            if st[s] && matches!(toks[s], Tok::Star) {
                st[s + 1] = true;
            }
        }
    };
    let mut res = vec![false; text.len() + 1];
    let mut cur = vec![false; m + 1];
    cur[0] = true;
    close(&mut cur);
    res[0] = cur[m];
    for (k, &c) in text.iter().enumerate() {
        *budget = budget.checked_sub(m + 1).ok_or_else(too_expensive)?;
        let mut next = vec![false; m + 1];
        let mut live = false;
        for s in 0..m {
            if !cur[s] {
                continue;
            }
            if matches!(toks[s], Tok::Star) {
                next[s] = true;
                live = true;
            } else if accepts(&toks[s], c) {
                next[s + 1] = true;
                live = true;
            }
        }
        if !live {
            break;
        }
        close(&mut next);
        res[k + 1] = next[m];
        cur = next;
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_replaces() {
        let v = "/usr/lib/a.tar.gz";
        assert_eq!(trim(v, "*/", true, false).unwrap(), "usr/lib/a.tar.gz");
        assert_eq!(trim(v, "*/", true, true).unwrap(), "a.tar.gz");
        assert_eq!(trim(v, ".*", false, false).unwrap(), "/usr/lib/a.tar");
        assert_eq!(trim(v, ".*", false, true).unwrap(), "/usr/lib/a");
        assert_eq!(trim("héllo", "h?", true, false).unwrap(), "llo");
        assert_eq!(replace("a-b-c", "[!a-b]", "+", true).unwrap(), "a+b++");
        assert_eq!(replace("aXbXc", "\\X", "", false).unwrap(), "abXc");
        assert_eq!(replace("abc", "*", "z", true).unwrap(), "z");
    }

    #[test]
    fn hostile_patterns_hit_the_budget() {
        let v = "a".repeat(10_000);
        assert!(replace(&v, "a*a*b", "x", true).is_err());
        assert_eq!(trim(&v, "*a*a*b", true, true).unwrap(), v);
    }
}
