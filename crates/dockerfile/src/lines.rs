//! From text to logical lines: parser directives, comments, line continuations with the
//! escape character, and heredoc bodies.

use crate::Error;

pub struct Directives {
    pub escape: char,
    pub syntax: Option<String>,
    pub check: Option<String>,
}

/// One instruction's text: its first line number and the joined content.
pub struct Logical {
    pub line: usize,
    pub text: String,
}

pub struct Lines<'a> {
    lines: Vec<&'a str>,
    pos: usize,
    pub escape: char,
}

/// Splits text into physical lines (BOM and CR stripped) and reads the directives.
pub fn split(text: &str) -> Result<(Directives, Lines<'_>), Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut d = Directives {
        escape: '\\',
        syntax: None,
        check: None,
    };
    let mut seen = std::collections::HashSet::new();
    for (i, raw) in lines.iter().enumerate() {
        let Some(body) = raw.trim_start().strip_prefix('#') else {
            break;
        };
        let Some((k, v)) = body.split_once('=') else {
            break;
        };
        let key = k.trim().to_ascii_lowercase();
        if key.is_empty()
            || !key.chars().all(|c| c.is_ascii_alphanumeric())
            || k.trim().contains(' ')
        {
            break;
        }
        let value = v.trim().to_string();
        if !seen.insert(key.clone()) {
            return Err(Error::new(
                i + 1,
                format!("only one {key} parser directive can be used"),
            ));
        }
        match key.as_str() {
            "escape" => {
                d.escape = match value.as_str() {
                    "\\" => '\\',
                    "`" => '`',
                    _ => {
                        return Err(Error::new(
                            i + 1,
                            format!("invalid escape token '{value}' does not match ` or \\"),
                        ))
                    }
                }
            }
            "syntax" => d.syntax = Some(value),
            "check" => d.check = Some(value),
            _ => break,
        }
    }
    let escape = d.escape;
    Ok((
        d,
        Lines {
            lines,
            pos: 0,
            escape,
        },
    ))
}

fn is_comment(l: &str) -> bool {
    l.trim_start().starts_with('#')
}

impl Lines<'_> {
    /// The next logical line, continuations joined, comments and blank lines skipped.
    pub fn next_logical(&mut self) -> Option<Logical> {
        while self.pos < self.lines.len() {
            let l = self.lines[self.pos];
            if l.trim().is_empty() || is_comment(l) {
                self.pos += 1;
                continue;
            }
            break;
        }
        if self.pos >= self.lines.len() {
            return None;
        }
        let line = self.pos + 1;
        let mut text = String::new();
        let mut cur = self.lines[self.pos].trim_start();
        self.pos += 1;
        loop {
            let trimmed = cur.trim_end();
            match trimmed.strip_suffix(self.escape) {
                Some(body) => {
                    text.push_str(body);
                    // Comment and empty lines inside a continuation are skipped.
                    while self.pos < self.lines.len()
                        && (is_comment(self.lines[self.pos])
                            || self.lines[self.pos].trim().is_empty())
                    {
                        self.pos += 1;
                    }
                    if self.pos >= self.lines.len() {
                        break;
                    }
                    cur = self.lines[self.pos];
                    self.pos += 1;
                }
                None => {
                    text.push_str(cur);
                    break;
                }
            }
        }
        Some(Logical { line, text })
    }

    /// Reads a heredoc body up to its terminator line; None at end of input.
    pub fn heredoc_body(&mut self, name: &str, strip_tabs: bool) -> Option<String> {
        let mut body = String::new();
        while self.pos < self.lines.len() {
            let raw = self.lines[self.pos];
            self.pos += 1;
            let l = if strip_tabs {
                raw.trim_start_matches('\t')
            } else {
                raw
            };
            if l == name {
                return Some(body);
            }
            body.push_str(l);
            body.push('\n');
        }
        None
    }
}
