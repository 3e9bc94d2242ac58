//! The shell-word lexer: one pass over a word that removes quotes and escapes and
//! substitutes parameters, rule for rule as BuildKit's `shell.Lex`.

use super::pattern;
use super::words::Words;
use super::{push_checked, ExpandError, Lookup, MAX_DEPTH};
use regex::Regex;
use std::sync::LazyLock;

/// A parameter name: all the decimal digits that follow (`$12` is parameter 12), or one
/// special parameter (`@ * # ? - $ !`), or letters, decimal digits and `_` (Unicode
/// letters and digits, as Go's `unicode.IsLetter`/`IsDigit`). Empty when none of these.
static NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:\p{Nd}+|[@*#?\-$!]|[\p{L}\p{Nd}_]*)").expect("constant regex")
});

fn err(msg: impl Into<String>) -> ExpandError {
    ExpandError(msg.into())
}

const MISSING_BRACE: &str = "syntax error: missing '}'";

fn unsupported(modifier: &str) -> ExpandError {
    err(format!("unsupported modifier ({modifier}) in substitution"))
}

pub(super) struct Lexer<'a> {
    s: &'a str,
    pos: usize,
    escape: char,
    lookup: Lookup<'a>,
    /// Quotes are plain characters (heredoc contents).
    skip_quotes: bool,
    /// Escape characters are kept in the result (inside patterns).
    raw_escapes: bool,
    depth: usize,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(s: &'a str, escape: char, lookup: Lookup<'a>, skip_quotes: bool) -> Self {
        Lexer {
            // Go's text/scanner skips a byte order mark at the start of its input.
            s: s.strip_prefix('\u{feff}').unwrap_or(s),
            pos: 0,
            escape,
            lookup,
            skip_quotes,
            raw_escapes: false,
            depth: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    /// The whole input: its expansion, and its words into `words`.
    pub(super) fn run(&mut self, words: &mut Words) -> Result<String, ExpandError> {
        self.until(None, false, words)
    }

    /// Up to `stop` (consumed; an error when never found) or the end of the input.
    fn until(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
        words: &mut Words,
    ) -> Result<String, ExpandError> {
        let saved = std::mem::replace(&mut self.raw_escapes, raw_escapes);
        let r = self.until_inner(stop, words);
        self.raw_escapes = saved;
        r
    }

    fn until_inner(
        &mut self,
        stop: Option<char>,
        words: &mut Words,
    ) -> Result<String, ExpandError> {
        let mut out = String::new();
        while let Some(ch) = self.peek() {
            if Some(ch) == stop {
                self.pos += ch.len_utf8();
                return Ok(out);
            }
            match ch {
                '$' => {
                    let v = self.dollar()?;
                    push_checked(&mut out, &v)?;
                    words.add_str(&v);
                }
                '<' => {
                    let v = self.heredoc_marker();
                    out.push_str(&v);
                    words.add_raw_str(&v);
                }
                '\'' | '"' if !self.skip_quotes => {
                    let v = if ch == '\'' {
                        self.single_quoted()?
                    } else {
                        self.double_quoted()?
                    };
                    push_checked(&mut out, &v)?;
                    words.add_raw_str(&v);
                }
                _ => {
                    self.pos += ch.len_utf8();
                    let mut c = ch;
                    if c == self.escape {
                        if self.raw_escapes {
                            words.add_raw_char(c);
                            out.push(c);
                        }
                        // An escape at the very end is dropped.
                        let Some(n) = self.next() else { break };
                        c = n;
                        words.add_raw_char(c);
                    } else {
                        words.add_char(c);
                    }
                    out.push(c);
                }
            }
        }
        match stop {
            Some(c) => Err(err(format!(
                "unexpected end of statement while looking for matching {c}"
            ))),
            None => Ok(out),
        }
    }

    /// `<<` and the blanks after it stay together in one word.
    fn heredoc_marker(&mut self) -> String {
        self.pos += 1;
        if self.peek() != Some('<') {
            return "<".into();
        }
        self.pos += 1;
        let mut s = String::from("<<");
        while let Some(c @ (' ' | '\t' | '\r')) = self.peek() {
            self.pos += 1;
            s.push(c);
        }
        s
    }

    fn single_quoted(&mut self) -> Result<String, ExpandError> {
        self.pos += 1;
        let start = self.pos;
        match self.s[start..].find('\'') {
            Some(i) => {
                self.pos = start + i + 1;
                Ok(self.s[start..start + i].to_string())
            }
            None => Err(err(
                "unexpected end of statement while looking for matching single-quote",
            )),
        }
    }

    fn double_quoted(&mut self) -> Result<String, ExpandError> {
        self.pos += 1;
        let mut s = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(err(
                        "unexpected end of statement while looking for matching double-quote",
                    ))
                }
                Some('"') => {
                    self.pos += 1;
                    return Ok(s);
                }
                Some('$') => {
                    let v = self.dollar()?;
                    push_checked(&mut s, &v)?;
                }
                Some(mut c) => {
                    self.pos += c.len_utf8();
                    if c == self.escape {
                        if self.raw_escapes {
                            s.push(c);
                        }
                        // Only `"`, `$` and the escape itself can be escaped here.
                        match self.peek() {
                            None => continue,
                            Some(n) if n == '"' || n == '$' || n == self.escape => {
                                self.pos += n.len_utf8();
                                c = n;
                            }
                            Some(_) => {}
                        }
                    }
                    s.push(c);
                }
            }
        }
    }

    fn name(&mut self) -> &'a str {
        let s: &'a str = self.s;
        let rest = &s[self.pos..];
        let n = NAME.find(rest).map_or(0, |m| m.end());
        self.pos += n;
        &rest[..n]
    }

    fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
    }

    /// At a `$`: a parameter, or a literal `$` when no name follows.
    fn dollar(&mut self) -> Result<String, ExpandError> {
        self.pos += 1;
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok("$".into());
            }
            return Ok(self.get(name).unwrap_or_default());
        }
        self.pos += 1;
        if self.depth >= MAX_DEPTH {
            return Err(err(format!(
                "bad substitution: nested more than {MAX_DEPTH} deep"
            )));
        }
        self.depth += 1;
        let r = self.braced();
        self.depth -= 1;
        r
    }

    /// After `${`.
    fn braced(&mut self) -> Result<String, ExpandError> {
        match self.peek() {
            None => return Err(err(MISSING_BRACE)),
            Some('{' | '}' | ':') => return Err(err("syntax error: bad substitution")),
            Some(_) => {}
        }
        let name = self.name();
        match self.next() {
            None => Err(err(MISSING_BRACE)),
            Some('}') => Ok(self.get(name).unwrap_or_default()),
            Some(':') => match self.next() {
                None => Err(err(MISSING_BRACE)),
                Some(m) => self.modifier(name, m, true),
            },
            Some(m @ ('+' | '-' | '?' | '#' | '%')) => self.modifier(name, m, false),
            Some('/') => self.replace(name),
            Some(other) => Err(unsupported(&other.to_string())),
        }
    }

    /// The word after a modifier, up to `stop`; at the end of the input the error is
    /// `at_end` whatever went wrong inside.
    fn word_until(&mut self, stop: char, raw: bool, at_end: &str) -> Result<String, ExpandError> {
        let mut none = Words::new(false);
        self.until(Some(stop), raw, &mut none)
            .map_err(|e| if self.at_end() { err(at_end) } else { e })
    }

    /// `${name<m>word}` and `${name:<m>word}` (`colon`: an empty value counts as unset).
    fn modifier(&mut self, name: &str, m: char, colon: bool) -> Result<String, ExpandError> {
        let shown = if colon {
            format!(":{m}")
        } else {
            m.to_string()
        };
        let pattern = m == '#' || m == '%';
        if colon && pattern {
            return Err(unsupported(&shown));
        }
        let word = self.word_until('}', pattern, MISSING_BRACE)?;
        let value = self.get(name);
        let unset = match &value {
            None => true,
            Some(v) => colon && v.is_empty(),
        };
        match m {
            '-' if unset => Ok(word),
            '-' => Ok(value.unwrap_or_default()),
            '+' if unset => Ok(String::new()),
            '+' => Ok(word),
            '?' => match value {
                Some(v) if !unset => Ok(v),
                v => {
                    let what = if v.is_none() { "unset" } else { "empty" };
                    let msg = match word.is_empty() {
                        true => format!("is not allowed to be {what}"),
                        false => word,
                    };
                    Err(err(format!("{name}: {msg}")))
                }
            },
            '#' | '%' => {
                // A doubled `##`/`%%` (seen after expansion) asks for the longest match.
                let (greedy, pat) = match word.strip_prefix(m) {
                    Some(p) => (true, p),
                    None => (false, word.as_str()),
                };
                let v = value.unwrap_or_default();
                match m {
                    '#' => pattern::trim_prefix(pat, &v, greedy),
                    _ => pattern::trim_suffix(pat, &v, greedy),
                }
            }
            _ => Err(unsupported(&shown)),
        }
    }

    /// `${name/pattern/replacement}` and `${name//pattern/replacement}`.
    fn replace(&mut self, name: &str) -> Result<String, ExpandError> {
        let all = self.peek() == Some('/');
        if all {
            self.pos += 1;
        }
        let pat = self.word_until('/', true, "syntax error: missing '/' in ${}")?;
        let rep = self.word_until('}', true, MISSING_BRACE)?;
        let value = self.get(name).unwrap_or_default();
        pattern::replace(&value, &pat, &rep, all)
    }
}
