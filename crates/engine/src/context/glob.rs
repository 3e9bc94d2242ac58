//! Path patterns as Docker matches them (Go's filepath.Match per component, plus `**` for any
//! number of components), for `.dockerignore` and COPY/ADD sources.

/// A compiled pattern over `/`-separated, cleaned, relative paths.
#[derive(Clone, Debug)]
pub struct Pattern {
    parts: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("bad pattern {0:?}")]
pub struct BadPattern(pub String);

impl Pattern {
    pub fn new(pattern: &str) -> Result<Pattern, BadPattern> {
        let cleaned = clean(pattern);
        let parts: Vec<String> = cleaned
            .split('/')
            .filter(|p| !p.is_empty())
            .map(String::from)
            .collect();
        for p in &parts {
            if p != "**" {
                component_match(p, "").map_err(|_| BadPattern(pattern.into()))?;
            }
        }
        Ok(Pattern { parts })
    }

    /// Whether the pattern matches `path` exactly.
    pub fn matches(&self, path: &str) -> bool {
        let comps: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        match_parts(&self.parts, &comps)
    }

    /// Whether the pattern matches `path` or one of its parent directories.
    pub fn matches_or_parent(&self, path: &str) -> bool {
        let comps: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        (1..=comps.len()).any(|n| match_parts(&self.parts, &comps[..n]))
    }

    /// Whether the pattern has wildcards at all.
    pub fn is_literal(&self) -> bool {
        !self.parts.iter().any(|p| p.contains(['*', '?', '[', '\\']))
    }
}

/// Cleans a path like Go's filepath.Clean, made relative (no leading `/`).
pub fn clean(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out.join("/")
}

fn match_parts(pat: &[String], path: &[&str]) -> bool {
    match pat.split_first() {
        None => path.is_empty(),
        Some((first, rest)) if first == "**" => {
            (0..=path.len()).any(|skip| match_parts(rest, &path[skip..]))
        }
        Some((first, rest)) => match path.split_first() {
            Some((p, prest)) => {
                component_match(first, p).unwrap_or(false) && match_parts(rest, prest)
            }
            None => false,
        },
    }
}

/// Go's filepath.Match for one path component; Err on a malformed pattern.
fn component_match(pat: &str, name: &str) -> Result<bool, ()> {
    let p: Vec<char> = pat.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Validate the whole pattern first so errors do not depend on the name.
    validate(&p)?;
    Ok(match_from(&p, &n))
}

fn validate(p: &[char]) -> Result<(), ()> {
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' => {
                if i + 1 >= p.len() {
                    return Err(());
                }
                i += 2;
            }
            '[' => {
                let (_, next) = parse_class(p, i, '\0')?;
                i = next;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

fn match_from(p: &[char], n: &[char]) -> bool {
    let (mut pi, mut ni) = (0, 0);
    let (mut star_p, mut star_n) = (None, 0);
    while ni < n.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star_p = Some(pi);
                    star_n = ni;
                    pi += 1;
                    continue;
                }
                '?' if n[ni] != '/' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' => {
                    if let Ok((true, next)) = parse_class(p, pi, n[ni]) {
                        pi = next;
                        ni += 1;
                        continue;
                    }
                }
                '\\' if pi + 1 < p.len() && p[pi + 1] == n[ni] => {
                    pi += 2;
                    ni += 1;
                    continue;
                }
                c if c != '\\' && c == n[ni] => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star_p {
            Some(sp) if n[star_n] != '/' => {
                star_n += 1;
                ni = star_n;
                pi = sp + 1;
            }
            _ => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Parses a `[...]` class at `start`; returns whether `c` is in it and the index after `]`.
fn parse_class(p: &[char], start: usize, c: char) -> Result<(bool, usize), ()> {
    let mut i = start + 1;
    let negate = i < p.len() && p[i] == '^';
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        if i >= p.len() {
            return Err(());
        }
        if p[i] == ']' && !first {
            return Ok((matched != negate, i + 1));
        }
        first = false;
        let lo = read_char(p, &mut i)?;
        let hi = if i + 1 < p.len() && p[i] == '-' && p[i + 1] != ']' {
            i += 1;
            read_char(p, &mut i)?
        } else {
            lo
        };
        if lo <= c && c <= hi {
            matched = true;
        }
    }
}

fn read_char(p: &[char], i: &mut usize) -> Result<char, ()> {
    let c = *p.get(*i).ok_or(())?;
    if c == '\\' {
        let e = *p.get(*i + 1).ok_or(())?;
        *i += 2;
        Ok(e)
    } else {
        *i += 1;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        Pattern::new(p).unwrap().matches(s)
    }

    #[test]
    fn go_match_semantics() {
        assert!(m("*.txt", "a.txt"));
        assert!(!m("*.txt", "d/a.txt"));
        assert!(m("d/*.txt", "d/a.txt"));
        assert!(m("a?c", "abc"));
        assert!(m("[a-c]x", "bx"));
        assert!(!m("[^a-c]x", "bx"));
        assert!(m("\\*", "*"));
        assert!(m("**/*.go", "a/b/c.go"));
        assert!(m("**/*.go", "c.go"));
        assert!(m("a/**", "a/b/c"));
        assert!(m("/abs/./x/../y", "abs/y"));
        assert!(Pattern::new("[").is_err());
        assert!(Pattern::new("a\\").is_err());
    }

    #[test]
    fn parent_match() {
        let p = Pattern::new("node_modules").unwrap();
        assert!(p.matches_or_parent("node_modules/x/y.js"));
        assert!(!p.matches_or_parent("src/node_modules"));
    }
}
