//! Variable expansion with Docker's shell-word rules: quotes, escapes, `$v`, `${v}` and the
//! modifiers `:- - :+ + :? ? # ## % %% / //` and `${#v}`.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpandError(pub String);

impl fmt::Display for ExpandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ExpandError {}

type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Expands one word (quotes removed, no splitting).
pub fn expand_word(word: &str, escape: char, lookup: Lookup<'_>) -> Result<String, ExpandError> {
    let words = Lexer::new(word, escape, lookup).run(false)?;
    Ok(words.into_iter().next().unwrap_or_default())
}

/// Expands and splits on unquoted whitespace.
pub fn expand_words(
    word: &str,
    escape: char,
    lookup: Lookup<'_>,
) -> Result<Vec<String>, ExpandError> {
    Lexer::new(word, escape, lookup).run(true)
}

struct Lexer<'a> {
    chars: Vec<char>,
    pos: usize,
    escape: char,
    lookup: Lookup<'a>,
}

impl<'a> Lexer<'a> {
    fn new(s: &str, escape: char, lookup: Lookup<'a>) -> Self {
        Lexer {
            chars: s.chars().collect(),
            pos: 0,
            escape,
            lookup,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        self.pos += 1;
        c
    }

    fn run(mut self, split: bool) -> Result<Vec<String>, ExpandError> {
        let mut words = Vec::new();
        let mut cur = String::new();
        let mut in_word = false;
        while let Some(c) = self.peek() {
            if split && c.is_whitespace() {
                self.pos += 1;
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
                continue;
            }
            in_word = true;
            match c {
                '\'' => {
                    self.pos += 1;
                    cur.push_str(&self.single_quoted()?);
                }
                '"' => {
                    self.pos += 1;
                    cur.push_str(&self.double_quoted()?);
                }
                '$' => {
                    self.pos += 1;
                    let v = self.dollar()?;
                    if split {
                        // Unquoted expansions split on whitespace.
                        let mut parts = v.split(char::is_whitespace).peekable();
                        while let Some(p) = parts.next() {
                            cur.push_str(p);
                            if parts.peek().is_some() && !cur.is_empty() {
                                words.push(std::mem::take(&mut cur));
                            }
                        }
                    } else {
                        cur.push_str(&v);
                    }
                }
                c if c == self.escape => {
                    self.pos += 1;
                    match self.next() {
                        Some(n) => cur.push(n),
                        None => cur.push(c),
                    }
                }
                c => {
                    self.pos += 1;
                    cur.push(c);
                }
            }
        }
        if in_word || (!split && words.is_empty()) {
            words.push(cur);
        }
        Ok(words)
    }

    fn single_quoted(&mut self) -> Result<String, ExpandError> {
        let mut s = String::new();
        loop {
            match self.next() {
                Some('\'') => return Ok(s),
                Some(c) => s.push(c),
                None => {
                    return Err(ExpandError(
                        "unexpected end of statement while looking for matching single-quote"
                            .into(),
                    ))
                }
            }
        }
    }

    fn double_quoted(&mut self) -> Result<String, ExpandError> {
        let mut s = String::new();
        loop {
            match self.next() {
                Some('"') => return Ok(s),
                Some('$') => s.push_str(&self.dollar()?),
                Some(c) if c == self.escape => match self.peek() {
                    Some(n) if n == '"' || n == '$' || n == self.escape => {
                        self.pos += 1;
                        s.push(n);
                    }
                    _ => s.push(c),
                },
                Some(c) => s.push(c),
                None => {
                    return Err(ExpandError(
                        "unexpected end of statement while looking for matching double-quote"
                            .into(),
                    ))
                }
            }
        }
    }

    fn name(&mut self) -> String {
        let mut n = String::new();
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == '_' {
                n.push(c);
                self.pos += 1;
            } else {
                break;
            }
        }
        n
    }

    /// After a `$`.
    fn dollar(&mut self) -> Result<String, ExpandError> {
        match self.peek() {
            Some('{') => {
                self.pos += 1;
                self.braced()
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                let n = self.name();
                Ok((self.lookup)(&n).unwrap_or_default())
            }
            Some(c) if c.is_ascii_digit() => {
                self.pos += 1;
                Ok((self.lookup)(&c.to_string()).unwrap_or_default())
            }
            _ => Ok("$".into()),
        }
    }

    /// The word after a modifier, up to the closing brace (itself expanded).
    fn modifier_word(&mut self, stop_at_slash: bool) -> Result<String, ExpandError> {
        let mut s = String::new();
        let mut depth = 0;
        loop {
            match self.peek() {
                None => return Err(ExpandError("syntax error: missing '}'".into())),
                Some('}') if depth == 0 => return Ok(s),
                Some('/') if stop_at_slash && depth == 0 => return Ok(s),
                Some('$') => {
                    self.pos += 1;
                    s.push_str(&self.dollar()?);
                }
                Some('\'') => {
                    self.pos += 1;
                    s.push_str(&self.single_quoted()?);
                }
                Some('"') => {
                    self.pos += 1;
                    s.push_str(&self.double_quoted()?);
                }
                Some(c) if c == self.escape => {
                    self.pos += 1;
                    if let Some(n) = self.next() {
                        s.push(n);
                    }
                }
                Some(c) => {
                    if c == '{' {
                        depth += 1;
                    }
                    self.pos += 1;
                    s.push(c);
                }
            }
        }
    }

    fn braced(&mut self) -> Result<String, ExpandError> {
        let length = self.peek() == Some('#');
        if length {
            self.pos += 1;
        }
        let name = self.name();
        if name.is_empty() {
            return Err(ExpandError(
                "bad substitution: empty or invalid variable name".into(),
            ));
        }
        let value = (self.lookup)(&name);
        if length {
            return match self.next() {
                Some('}') => Ok(value.unwrap_or_default().chars().count().to_string()),
                _ => Err(ExpandError(format!(
                    "bad substitution: ${{#{name}...}} takes no modifier"
                ))),
            };
        }
        let c = self
            .next()
            .ok_or_else(|| ExpandError("syntax error: missing '}'".into()))?;
        let result = match c {
            '}' => return Ok(value.unwrap_or_default()),
            ':' => {
                let m = self
                    .next()
                    .ok_or_else(|| ExpandError("syntax error: missing '}'".into()))?;
                let word = self.modifier_word(false)?;
                let empty = value.as_deref().unwrap_or("").is_empty();
                match m {
                    '-' => {
                        if empty {
                            word
                        } else {
                            value.unwrap_or_default()
                        }
                    }
                    '+' => {
                        if empty {
                            String::new()
                        } else {
                            word
                        }
                    }
                    '?' => {
                        if empty {
                            let msg = if word.is_empty() {
                                "is not allowed to be unset".to_string()
                            } else {
                                word
                            };
                            return Err(ExpandError(format!("{name}: {msg}")));
                        }
                        value.unwrap_or_default()
                    }
                    other => {
                        return Err(ExpandError(format!(
                            "unsupported modifier ({other}) in substitution"
                        )))
                    }
                }
            }
            '-' => {
                let word = self.modifier_word(false)?;
                value.unwrap_or(word)
            }
            '+' => {
                let word = self.modifier_word(false)?;
                if value.is_some() {
                    word
                } else {
                    String::new()
                }
            }
            '?' => {
                let word = self.modifier_word(false)?;
                match value {
                    Some(v) => v,
                    None => {
                        let msg = if word.is_empty() {
                            "is not allowed to be unset".to_string()
                        } else {
                            word
                        };
                        return Err(ExpandError(format!("{name}: {msg}")));
                    }
                }
            }
            '#' | '%' => {
                let longest = self.peek() == Some(c);
                if longest {
                    self.pos += 1;
                }
                let pat = self.modifier_word(false)?;
                let v = value.unwrap_or_default();
                trim(&v, &pat, c == '#', longest)
            }
            '/' => {
                let all = self.peek() == Some('/');
                if all {
                    self.pos += 1;
                }
                let pat = self.modifier_word(true)?;
                let rep = if self.peek() == Some('/') {
                    self.pos += 1;
                    self.modifier_word(false)?
                } else {
                    String::new()
                };
                replace(&value.unwrap_or_default(), &pat, &rep, all)
            }
            other => {
                return Err(ExpandError(format!(
                    "unsupported modifier ({other}) in substitution"
                )))
            }
        };
        match self.next() {
            Some('}') => Ok(result),
            _ => Err(ExpandError("syntax error: missing '}'".into())),
        }
    }
}

/// Removes the shortest or longest prefix (or suffix) matching the glob `pat`.
fn trim(v: &str, pat: &str, prefix: bool, longest: bool) -> String {
    let idx: Vec<usize> = v
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(v.len()))
        .collect();
    let cands: Box<dyn Iterator<Item = usize>> = if longest == prefix {
        Box::new(idx.clone().into_iter().rev())
    } else {
        Box::new(idx.clone().into_iter())
    };
    for i in cands {
        let (part, rest) = if prefix {
            (&v[..i], &v[i..])
        } else {
            (&v[i..], &v[..i])
        };
        if glob(pat, part) {
            return rest.to_string();
        }
    }
    v.to_string()
}

fn replace(v: &str, pat: &str, rep: &str, all: bool) -> String {
    if pat.is_empty() {
        return v.to_string();
    }
    let mut out = String::new();
    let mut i = 0;
    let mut replaced = false;
    let bytes_idx: Vec<usize> = v
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(v.len()))
        .collect();
    while i < v.len() {
        if !replaced || all {
            // Longest match starting at i.
            let found = bytes_idx
                .iter()
                .rev()
                .filter(|&&j| j > i)
                .find(|&&j| glob(pat, &v[i..j]));
            if let Some(&j) = found {
                out.push_str(rep);
                i = j;
                replaced = true;
                continue;
            }
        }
        let ch = v[i..].chars().next().unwrap_or_default();
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// Shell glob: `*`, `?`, `[...]`, backslash escapes.
fn glob(pat: &str, s: &str) -> bool {
    let p: Vec<char> = pat.chars().collect();
    let t: Vec<char> = s.chars().collect();
    fn rec(p: &[char], t: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('*') => (0..=t.len()).any(|k| rec(&p[1..], &t[k..])),
            Some('?') => !t.is_empty() && rec(&p[1..], &t[1..]),
            Some('\\') if p.len() > 1 => t.first() == Some(&p[1]) && rec(&p[2..], &t[1..]),
            Some('[') => {
                let Some(end) = p.iter().skip(1).position(|&c| c == ']').map(|e| e + 1) else {
                    return t.first() == Some(&'[') && rec(&p[1..], &t[1..]);
                };
                let Some(&c) = t.first() else { return false };
                let class = &p[1..end];
                let (neg, class) = match class.first() {
                    Some('!') | Some('^') => (true, &class[1..]),
                    _ => (false, class),
                };
                let mut hit = false;
                let mut i = 0;
                while i < class.len() {
                    if i + 2 < class.len() && class[i + 1] == '-' {
                        hit |= class[i] <= c && c <= class[i + 2];
                        i += 3;
                    } else {
                        hit |= class[i] == c;
                        i += 1;
                    }
                }
                hit != neg && rec(&p[end + 1..], &t[1..])
            }
            Some(&c) => t.first() == Some(&c) && rec(&p[1..], &t[1..]),
        }
    }
    rec(&p, &t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(k: &str) -> Option<String> {
        match k {
            "A" => Some("hello".into()),
            "E" => Some(String::new()),
            "P" => Some("/usr/local/bin/tool.tar.gz".into()),
            "S" => Some("a b  c".into()),
            _ => None,
        }
    }

    fn x(w: &str) -> Result<String, ExpandError> {
        expand_word(w, '\\', &env)
    }

    #[test]
    fn forms() {
        let cases = [
            ("$A", "hello"),
            ("${A}", "hello"),
            ("x${A}y", "xhelloy"),
            ("$A$A", "hellohello"),
            ("${U:-def}", "def"),
            ("${E:-def}", "def"),
            ("${E-def}", ""),
            ("${U-def}", "def"),
            ("${A:+alt}", "alt"),
            ("${E:+alt}", ""),
            ("${E+alt}", "alt"),
            ("${U+alt}", ""),
            ("${#A}", "5"),
            ("${#U}", "0"),
            ("${P#*/}", "usr/local/bin/tool.tar.gz"),
            ("${P##*/}", "tool.tar.gz"),
            ("${P%.*}", "/usr/local/bin/tool.tar"),
            ("${P%%.*}", "/usr/local/bin/tool"),
            ("${A/l/L}", "heLlo"),
            ("${A//l/L}", "heLLo"),
            ("${A/xyz/q}", "hello"),
            ("'$A'", "$A"),
            ("\"$A\"", "hello"),
            ("\\$A", "$A"),
            ("\"\\$A\"", "$A"),
            ("${U:-${A}}", "hello"),
            ("$", "$"),
            ("a$ b", "a$ b"),
            ("$1", ""),
            ("\"a\\b\"", "a\\b"),
        ];
        for (w, want) in cases {
            assert_eq!(x(w).unwrap(), want, "{w}");
        }
        for bad in [
            "${A",
            "${}",
            "${A:x}",
            "'abc",
            "\"abc",
            "${U:?must set}",
            "${U?}",
            "${A!}",
        ] {
            assert!(x(bad).is_err(), "{bad}");
        }
        assert_eq!(x("${U:?must set}").unwrap_err().0, "U: must set");
    }

    #[test]
    fn splitting() {
        assert_eq!(
            expand_words("$S 'd e' f\\ g", '\\', &env).unwrap(),
            vec!["a", "b", "c", "d e", "f g"]
        );
        assert_eq!(expand_words("", '\\', &env).unwrap(), Vec::<String>::new());
        assert_eq!(expand_word("`$A", '`', &env).unwrap(), "$A");
    }
}
