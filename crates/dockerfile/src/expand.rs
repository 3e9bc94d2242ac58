//! Variable expansion with Docker's shell-word rules: quotes, escapes, `$v`, `${v}` and the
//! modifiers `:- - :+ + :? ? # ## % %% / //` and `${#v}`.

use crate::glob::{replace, trim};
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

/// How deeply `${...}` may nest (guards the stack against hostile input).
const MAX_DEPTH: usize = 64;
/// The longest word an expansion may produce (guards memory against `$a$a$a...`).
const MAX_LEN: usize = 1 << 20;

/// Appends an expansion result, refusing words over `MAX_LEN`.
pub(crate) fn push_checked(s: &mut String, v: &str) -> Result<(), ExpandError> {
    if s.len() + v.len() > MAX_LEN {
        return Err(ExpandError(format!(
            "expansion result longer than {MAX_LEN} bytes"
        )));
    }
    s.push_str(v);
    Ok(())
}

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
    depth: usize,
}

impl<'a> Lexer<'a> {
    fn new(s: &str, escape: char, lookup: Lookup<'a>) -> Self {
        Lexer {
            chars: s.chars().collect(),
            pos: 0,
            escape,
            lookup,
            depth: 0,
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
                            push_checked(&mut cur, p)?;
                            if parts.peek().is_some() && !cur.is_empty() {
                                words.push(std::mem::take(&mut cur));
                            }
                        }
                    } else {
                        push_checked(&mut cur, &v)?;
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
                Some('$') => {
                    let v = self.dollar()?;
                    push_checked(&mut s, &v)?;
                }
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

    /// The word after a modifier, up to the first unquoted closing brace (itself expanded;
    /// like Docker, braces do not nest: `${U:-{a}}` is `{a` then a literal `}`).
    fn modifier_word(&mut self, stop_at_slash: bool) -> Result<String, ExpandError> {
        let mut s = String::new();
        loop {
            match self.peek() {
                None => return Err(ExpandError("syntax error: missing '}'".into())),
                Some('}') => return Ok(s),
                Some('/') if stop_at_slash => return Ok(s),
                Some('$') => {
                    self.pos += 1;
                    let v = self.dollar()?;
                    push_checked(&mut s, &v)?;
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
                    self.pos += 1;
                    s.push(c);
                }
            }
        }
    }

    /// After `${`: one substitution, at most `MAX_DEPTH` deep.
    fn braced(&mut self) -> Result<String, ExpandError> {
        if self.depth >= MAX_DEPTH {
            return Err(ExpandError(format!(
                "bad substitution: nested more than {MAX_DEPTH} deep"
            )));
        }
        self.depth += 1;
        let r = self.substitution();
        self.depth -= 1;
        let v = r?;
        if v.len() > MAX_LEN {
            return Err(ExpandError(format!(
                "expansion result longer than {MAX_LEN} bytes"
            )));
        }
        Ok(v)
    }

    fn substitution(&mut self) -> Result<String, ExpandError> {
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
                trim(&v, &pat, c == '#', longest)?
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
                replace(&value.unwrap_or_default(), &pat, &rep, all)?
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
