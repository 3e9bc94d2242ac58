//! Variable expansion with Docker's shell-word rules (BuildKit's `shell.Lex`): single and
//! double quotes, the escape character, `$name` and `${name}` with the modifiers
//! `:- - :+ + :? ? # ## % %% / //`.
//!
//! Names are looked up as written, so positional and special parameters (`$0`…`$9`,
//! `$12`, `$@ $* $# $? $- $$ $!` and their braced forms) expand to the value of a variable
//! of that name, which a build never has unless an ARG or ENV declares it: they are empty,
//! and `${1:-x}` is `x`. A `$` followed by no name stays a `$`; `${#v}` is not a length
//! (Docker rejects it); patterns have `*` and `?` but no brackets.

mod lexer;
mod pattern;
mod words;

use lexer::Lexer;
use std::fmt;
use words::Words;

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

/// Expands one word (quotes and escapes removed, no splitting).
pub fn expand_word(word: &str, escape: char, lookup: Lookup<'_>) -> Result<String, ExpandError> {
    Lexer::new(word, escape, lookup, false).run(&mut Words::new(false))
}

/// Expands and splits on unquoted whitespace, including whitespace inside values.
pub fn expand_words(
    word: &str,
    escape: char,
    lookup: Lookup<'_>,
) -> Result<Vec<String>, ExpandError> {
    let mut words = Words::new(true);
    Lexer::new(word, escape, lookup, false).run(&mut words)?;
    Ok(words.finish())
}

/// Expands the body of a COPY/ADD heredoc whose marker is unquoted: quotes are plain
/// text, a backslash escapes the next character whatever the `escape` directive says.
pub fn expand_heredoc(body: &str, lookup: Lookup<'_>) -> Result<String, ExpandError> {
    Lexer::new(body, '\\', lookup, true).run(&mut Words::new(false))
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
            "1" => Some("one".into()),
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
            ("${U:-def}", "def"),
            ("${E:-def}", "def"),
            ("${E-def}", ""),
            ("${A:+alt}", "alt"),
            ("${E+alt}", "alt"),
            ("${U+alt}", ""),
            ("${P#*/}", "usr/local/bin/tool.tar.gz"),
            ("${P##*/}", "tool.tar.gz"),
            ("${P%.*}", "/usr/local/bin/tool.tar"),
            ("${P%%.*}", "/usr/local/bin/tool"),
            ("${A/l/L}", "heLlo"),
            ("${A//l/L}", "heLLo"),
            ("'$A'", "$A"),
            ("\"\\$A\"", "$A"),
            ("${U:-${A}}", "hello"),
            ("$", "$"),
            ("a\\", "a"),
            ("\"a\\b\"", "a\\b"),
            // Positional and special parameters are names like any other.
            ("$1", "one"),
            ("$12", ""),
            ("$2x", "x"),
            ("$@x", "x"),
            ("${#}", ""),
            ("${?:-q}", "q"),
            ("$$$", "$"),
            ("${!:+set}", ""),
            ("$안녕", ""),
        ];
        for (w, want) in cases {
            assert_eq!(x(w).unwrap(), want, "{w}");
        }
        for bad in [
            "${A", "${}", "${A:x}", "'abc", "\"abc", "${U?}", "${A!}", "${#A}",
        ] {
            assert!(x(bad).is_err(), "{bad}");
        }
        assert_eq!(x("${U:?must set}").unwrap_err().0, "U: must set");
        assert_eq!(x("${E:?}").unwrap_err().0, "E: is not allowed to be empty");
    }

    #[test]
    fn splitting() {
        assert_eq!(
            expand_words("$S 'd e' f\\ g", '\\', &env).unwrap(),
            vec!["a", "b", "c", "d e", "f g"]
        );
        assert_eq!(expand_words("", '\\', &env).unwrap(), Vec::<String>::new());
        assert_eq!(expand_words("a '' b", '\\', &env).unwrap(), vec!["a", "b"]);
        assert_eq!(expand_word("`$A", '`', &env).unwrap(), "$A");
    }

    #[test]
    fn heredoc_bodies() {
        let h = |b: &str| expand_heredoc(b, &env).unwrap();
        assert_eq!(h("'$A' \"$A\"\n"), "'hello' \"hello\"\n");
        assert_eq!(h("\\$A \\n"), "$A n");
    }
}
