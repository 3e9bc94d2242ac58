//! The shapes words take on a Dockerfile line, shared by every instruction's parser: the
//! keyword and the rest, exec or shell form, JSON-or-fields lists, and words split at
//! whitespace outside quotes.

use crate::model::CommandLine;

/// Splits a logical line into its keyword and the rest.
pub(crate) fn keyword(text: &str) -> (&str, &str) {
    let t = text.trim_start();
    match t.find(char::is_whitespace) {
        Some(i) => (&t[..i], t[i..].trim_start()),
        None => (t, ""),
    }
}

/// Exec form when the text is a JSON array of strings, else shell form.
pub(crate) fn command_line(rest: &str) -> CommandLine {
    let t = rest.trim();
    if t.starts_with('[') {
        if let Ok(v) = serde_json::from_str::<Vec<String>>(t) {
            return CommandLine::Exec(v);
        }
    }
    CommandLine::Shell(t.to_string())
}

/// The arguments of COPY, ADD and VOLUME as BuildKit's `parseMaybeJSONToList` reads them:
/// a JSON array of strings, else the text split at whitespace, quotes or not (expansion
/// then processes each word's quotes, so `"a b"` is two words and an unmatched quote).
pub(crate) fn json_or_fields(t: &str) -> Result<Vec<String>, String> {
    if t.starts_with('[') {
        if let Ok(v) = serde_json::from_str::<Vec<serde_json::Value>>(t) {
            return v
                .into_iter()
                .map(|x| match x {
                    serde_json::Value::String(s) => Ok(s),
                    _ => Err(
                        "when using JSON array syntax, arrays must be comprised of strings only"
                            .to_string(),
                    ),
                })
                .collect();
        }
    }
    Ok(t.split_whitespace().map(String::from).collect())
}

/// Splits on whitespace outside quotes, keeping quotes and escapes (for later expansion).
pub(crate) fn words(s: &str, escape: char) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    let mut in_word = false;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                cur.push(c);
                if c == escape && q == '"' {
                    if let Some(n) = chars.next() {
                        cur.push(n);
                    }
                } else if c == q {
                    quote = None;
                }
            }
            None if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None => {
                in_word = true;
                cur.push(c);
                if c == escape {
                    if let Some(n) = chars.next() {
                        cur.push(n);
                    }
                } else if c == '"' || c == '\'' {
                    quote = Some(c);
                }
            }
        }
    }
    if quote.is_some() {
        return Err("unterminated quote".into());
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}
