//! Heredoc markers (`<<EOF`, `<<-EOF`, `<<'EOF'`, `3<<EOF`) in an instruction and the
//! bodies that follow it.

use crate::lines::{Lines, Logical};
use crate::model::Heredoc;
use crate::Error;

/// The `<<NAME` markers in an instruction's text: (name, strip_tabs, expand). A marker
/// starts a word (optionally after a file descriptor number, as in `3<<EOF`).
fn heredoc_markers(text: &str) -> Vec<(String, bool, bool)> {
    let b: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut quote: Option<char> = None;
    while i + 1 < b.len() {
        let c = b[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '<'
                && b[i + 1] == '<'
                && at_word_start(&b, i)
                && b.get(i + 2) != Some(&'<') =>
            {
                let mut j = i + 2;
                let strip = b.get(j) == Some(&'-');
                if strip {
                    j += 1;
                }
                let q = match b.get(j) {
                    Some('"') | Some('\'') => {
                        j += 1;
                        Some(b[j - 1])
                    }
                    _ => None,
                };
                let start = j;
                while j < b.len() && is_heredoc_name_char(b[j]) {
                    j += 1;
                }
                if j > start && (q.is_none() || b.get(j) == q.as_ref()) {
                    out.push((b[start..j].iter().collect(), strip, q.is_none()));
                    i = if q.is_some() { j + 1 } else { j };
                    continue;
                }
            }
            None => {}
        }
        i += 1;
    }
    out
}

/// Whether position `i` begins a word, allowing a leading file descriptor number.
fn at_word_start(b: &[char], i: usize) -> bool {
    let mut j = i;
    while j > 0 && b[j - 1].is_ascii_digit() {
        j -= 1;
    }
    j == 0 || b[j - 1].is_whitespace()
}

fn is_heredoc_name_char(c: char) -> bool {
    !c.is_whitespace() && !"<>|;&()'\"`$".contains(c)
}

pub(crate) fn read_heredocs(
    text: &str,
    l: &Logical,
    lines: &mut Lines<'_>,
) -> Result<Vec<Heredoc>, Error> {
    let mut out = Vec::new();
    for (name, strip_tabs, expand) in heredoc_markers(text) {
        let content = lines
            .heredoc_body(&name, strip_tabs)
            .ok_or_else(|| Error::new(l.line, format!("unterminated heredoc {name}")))?;
        out.push(Heredoc {
            name,
            content,
            expand,
            strip_tabs,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers() {
        assert_eq!(heredoc_markers("<<EOF"), vec![("EOF".into(), false, true)]);
        assert_eq!(
            heredoc_markers("cat <<-'X' <<Y > f"),
            vec![("X".into(), true, false), ("Y".into(), false, true)]
        );
        assert!(heredoc_markers("echo '<<EOF' <<< x").is_empty());
    }
}
