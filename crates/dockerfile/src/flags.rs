//! Instruction flags as Docker reads them: the leading words that start with `--` (quotes
//! removed and escapes applied inside them, so `--chown="1:1"` is `--chown=1:1`), up to
//! the first other word or a lone `--`; then each checked against the instruction's set.

use crate::Error;
use std::collections::BTreeMap;

/// What a flag takes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `--x`, `--x=true`, `--x=false` (any case).
    Bool,
    /// `--x=value`, at most once.
    Str,
    /// `--x=value`, any number of times.
    Many,
}

/// The flags of one instruction: name → values in order.
#[derive(Debug, Default)]
pub(crate) struct Flags(BTreeMap<String, Vec<String>>);

impl Flags {
    pub(crate) fn get(&self, name: &str) -> Option<&String> {
        self.0.get(name).and_then(|v| v.last())
    }

    pub(crate) fn all(&self, name: &str) -> &[String] {
        self.0.get(name).map_or(&[], Vec::as_slice)
    }

    /// A boolean flag (already checked to be `true` or `false`).
    pub(crate) fn on(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| v == "true")
    }
}

/// The leading flag words of `rest` and the text after them.
pub(crate) fn split_flags(rest: &str, escape: char) -> (Vec<String>, &str) {
    let mut words = Vec::new();
    let mut s = rest;
    loop {
        s = s.trim_start();
        if !s.starts_with("--") {
            return (words, s);
        }
        let mut word = String::new();
        let mut quote: Option<char> = None;
        let mut chars = s.char_indices();
        let mut end = s.len();
        while let Some((i, c)) = chars.next() {
            match quote {
                None if c.is_whitespace() => {
                    end = i;
                    break;
                }
                None if c == '\'' || c == '"' => quote = Some(c),
                Some(q) if c == q => quote = None,
                _ if c == escape => {
                    // An escape at the very end is dropped; otherwise it keeps the next
                    // character (inside single quotes too).
                    if let Some((_, n)) = chars.next() {
                        word.push(n);
                    }
                }
                _ => word.push(c),
            }
        }
        s = &s[end..];
        if word == "--" {
            return (words, s.trim_start());
        }
        words.push(word);
    }
}

/// Takes the flags off `rest`, checking each against `allowed`.
pub(crate) fn take_flags<'a>(
    rest: &'a str,
    line: usize,
    allowed: &[(&str, Kind)],
    escape: char,
) -> Result<(Flags, &'a str), Error> {
    let (words, rest) = split_flags(rest, escape);
    let mut flags = Flags::default();
    for w in words {
        let body = &w[2..];
        let (name, value) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (body, None),
        };
        let Some(&(_, kind)) = allowed.iter().find(|(n, _)| *n == name) else {
            return Err(Error::new(line, format!("unknown flag: --{name}")));
        };
        let missing = || Error::new(line, format!("missing a value on flag: --{name}"));
        let value = match (kind, value) {
            (Kind::Bool, None) => "true".to_string(),
            (Kind::Bool, Some("")) => return Err(missing()),
            (Kind::Bool, Some(v)) => match v.to_ascii_lowercase().as_str() {
                b @ ("true" | "false") => b.to_string(),
                _ => {
                    return Err(Error::new(
                        line,
                        format!("expecting boolean value for flag --{name}, not: {v}"),
                    ))
                }
            },
            (_, None) => return Err(missing()),
            (_, Some(v)) => v.to_string(),
        };
        let values = flags.0.entry(name.to_string()).or_default();
        if kind != Kind::Many && !values.is_empty() {
            return Err(Error::new(
                line,
                format!("duplicate flag specified: --{name}"),
            ));
        }
        values.push(value);
    }
    Ok((flags, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        let (w, rest) = split_flags(r#"--a="x y" --b='1'\ 2 --c=a\"b -- --d e"#, '\\');
        assert_eq!(w, vec!["--a=x y", "--b=1 2", "--c=a\"b"]);
        assert_eq!(rest, "--d e");
        let (w, rest) = split_flags("  --x=1   cmd --y", '\\');
        assert_eq!((w, rest), (vec!["--x=1".to_string()], "cmd --y"));
        let (w, rest) = split_flags("--x=`\"a`\" b", '`');
        assert_eq!((w, rest), (vec!["--x=\"a\"".to_string()], "b"));
    }
}
