//! Logical lines → typed instructions: flags, exec and shell forms, heredocs, and the
//! arguments of each of the eighteen instructions.

use crate::flags::{bool_flag, mount, take_flags};
use crate::lines::{split, Lines, Logical};
use crate::model::*;
use crate::Error;
use std::collections::BTreeMap;
use std::time::Duration;

pub fn parse(text: &str) -> Result<Dockerfile, Error> {
    let (directives, mut lines) = split(text)?;
    let escape = directives.escape;
    let mut df = Dockerfile {
        escape,
        syntax: directives.syntax,
        meta_args: Vec::new(),
        stages: Vec::new(),
    };
    let mut any = false;
    let mut names = std::collections::HashSet::new();
    while let Some(logical) = lines.next_logical() {
        any = true;
        if keyword(&logical.text).0.eq_ignore_ascii_case("FROM") {
            let stage = from(&logical, df.stages.len(), escape)?;
            if let Some(n) = &stage.name {
                if !names.insert(n.clone()) {
                    return Err(Error::new(
                        logical.line,
                        format!("duplicate stage name {n:?}"),
                    ));
                }
            }
            df.stages.push(stage);
            continue;
        }
        let cmd = command(&logical, &mut lines, escape)?;
        match cmd.instruction {
            Instruction::Arg(ref args) if df.stages.is_empty() => {
                df.meta_args.extend(args.iter().cloned())
            }
            _ => match df.stages.last_mut() {
                Some(s) => s.commands.push(cmd),
                None => {
                    return Err(Error::new(
                        logical.line,
                        "no build stage in current context",
                    ))
                }
            },
        }
    }
    if !any {
        return Err(Error::new(1, "file with no instructions"));
    }
    if df.stages.is_empty() {
        return Err(Error::new(1, "dockerfile contains no stages to build"));
    }
    Ok(df)
}

/// Splits a logical line into its keyword and the rest.
fn keyword(text: &str) -> (&str, &str) {
    let t = text.trim_start();
    match t.find(char::is_whitespace) {
        Some(i) => (&t[..i], t[i..].trim_start()),
        None => (t, ""),
    }
}

fn from(l: &Logical, index: usize, _escape: char) -> Result<Stage, Error> {
    let (_, rest) = keyword(&l.text);
    let (flags, rest) = take_flags(rest, l.line, &["platform"])?;
    let words: Vec<&str> = rest.split_whitespace().collect();
    let (base, name) = match words.as_slice() {
        [b] => (b.to_string(), None),
        [b, as_, n] if as_.eq_ignore_ascii_case("as") => {
            let valid = n.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
            if !valid {
                return Err(Error::new(l.line, format!("invalid name for build stage: {n:?}, name can't start with a number or contain symbols")));
            }
            // Docker keeps stage names in lower case.
            (b.to_string(), Some(n.to_ascii_lowercase()))
        }
        _ => {
            return Err(Error::new(
                l.line,
                "FROM requires either one or three arguments",
            ))
        }
    };
    Ok(Stage {
        index,
        name,
        base,
        platform: flags.get("platform").cloned(),
        line: l.line,
        commands: Vec::new(),
    })
}

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

fn read_heredocs(text: &str, l: &Logical, lines: &mut Lines<'_>) -> Result<Vec<Heredoc>, Error> {
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

/// Exec form when the text is a JSON array of strings, else shell form.
fn command_line(rest: &str) -> CommandLine {
    let t = rest.trim();
    if t.starts_with('[') {
        if let Ok(v) = serde_json::from_str::<Vec<String>>(t) {
            return CommandLine::Exec(v);
        }
    }
    CommandLine::Shell(t.to_string())
}

/// Splits on whitespace outside quotes, keeping quotes and escapes (for later expansion).
fn words(s: &str, escape: char) -> Result<Vec<String>, String> {
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

/// `k=v k2=v2` or the legacy `k v` form (ENV, LABEL).
fn name_values(
    rest: &str,
    line: usize,
    instr: &str,
    escape: char,
) -> Result<Vec<(String, String)>, Error> {
    let ws = words(rest, escape).map_err(|e| Error::new(line, format!("{instr}: {e}")))?;
    if ws.is_empty() {
        return Err(Error::new(
            line,
            format!("{instr} requires at least one argument"),
        ));
    }
    if !ws[0].contains('=') {
        let (k, v) = keyword(rest);
        if v.is_empty() {
            return Err(Error::new(line, format!("{instr} must have two arguments")));
        }
        return Ok(vec![(k.to_string(), v.trim_end().to_string())]);
    }
    ws.iter()
        .map(|w| match w.split_once('=') {
            Some(("", _)) => Err(Error::new(line, format!("{instr} names can not be blank"))),
            Some((k, v)) => Ok((k.to_string(), v.to_string())),
            None => Err(Error::new(
                line,
                format!("Syntax error - can't find = in {w:?}. Must be of the form: name=value"),
            )),
        })
        .collect()
}

fn duration(
    flags: &BTreeMap<String, String>,
    name: &str,
    line: usize,
) -> Result<Option<Duration>, Error> {
    let Some(v) = flags.get(name) else {
        return Ok(None);
    };
    parse_go_duration(v).map(Some).ok_or_else(|| {
        Error::new(
            line,
            format!("invalid value {v:?} for --{name}: want a duration like 30s"),
        )
    })
}

/// Go duration syntax: `1h30m`, `10s`, `500ms`, `0`.
pub(crate) fn parse_go_duration(s: &str) -> Option<Duration> {
    if s == "0" {
        return Some(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let mult = match &rest[..u] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += num * mult;
        rest = &rest[u..];
    }
    Some(Duration::from_secs_f64(total))
}

pub(crate) fn command(l: &Logical, lines: &mut Lines<'_>, escape: char) -> Result<Command, Error> {
    let (kw, rest) = keyword(&l.text);
    let upper = kw.to_ascii_uppercase();
    let line = l.line;
    let need = |r: &str| -> Result<(), Error> {
        if r.trim().is_empty() {
            Err(Error::new(
                line,
                format!("{upper} requires at least one argument"),
            ))
        } else {
            Ok(())
        }
    };
    let instruction = match upper.as_str() {
        "RUN" => {
            let (flags, rest) = take_flags(rest, line, &["mount", "network", "security"])?;
            need(rest)?;
            let heredocs = read_heredocs(rest, l, lines)?;
            let mounts = match flags.get("mount") {
                Some(v) => v
                    .split('\n')
                    .map(|m| mount(m, line))
                    .collect::<Result<_, _>>()?,
                None => Vec::new(),
            };
            if let Some(n) = flags.get("network") {
                if !["default", "none", "host"].contains(&n.as_str()) {
                    return Err(Error::new(
                        line,
                        format!("unsupported network mode {n:?}: want default, none or host"),
                    ));
                }
            }
            if let Some(s) = flags.get("security") {
                if !["sandbox", "insecure"].contains(&s.as_str()) {
                    return Err(Error::new(
                        line,
                        format!("unsupported security mode {s:?}: want sandbox or insecure"),
                    ));
                }
            }
            Instruction::Run(Run {
                command: command_line(rest),
                heredocs,
                mounts,
                network: flags.get("network").cloned(),
                security: flags.get("security").cloned(),
            })
        }
        "CMD" | "ENTRYPOINT" => {
            let cl = command_line(rest);
            if upper == "CMD" {
                Instruction::Cmd(cl)
            } else {
                Instruction::Entrypoint(cl)
            }
        }
        "ENV" => Instruction::Env(name_values(rest, line, "ENV", escape)?),
        "LABEL" => Instruction::Label(name_values(rest, line, "LABEL", escape)?),
        "ARG" => {
            need(rest)?;
            let ws = words(rest, escape).map_err(|e| Error::new(line, format!("ARG: {e}")))?;
            let args = ws
                .into_iter()
                .map(|w| match w.split_once('=') {
                    Some((k, v)) => ArgDecl {
                        name: k.to_string(),
                        default: Some(v.to_string()),
                    },
                    None => ArgDecl {
                        name: w,
                        default: None,
                    },
                })
                .collect::<Vec<_>>();
            if args.iter().any(|a| a.name.is_empty()) {
                return Err(Error::new(line, "ARG names can not be blank"));
            }
            Instruction::Arg(args)
        }
        "MAINTAINER" => {
            need(rest)?;
            Instruction::Maintainer(rest.trim().to_string())
        }
        "EXPOSE" => {
            need(rest)?;
            Instruction::Expose(rest.split_whitespace().map(String::from).collect())
        }
        "VOLUME" => {
            need(rest)?;
            let t = rest.trim();
            let vols = match serde_json::from_str::<Vec<String>>(t) {
                Ok(v) if t.starts_with('[') => v,
                _ => words(t, escape).map_err(|e| Error::new(line, format!("VOLUME: {e}")))?,
            };
            if vols.is_empty() {
                return Err(Error::new(line, "VOLUME requires at least one argument"));
            }
            if vols.iter().any(|v| v.trim().is_empty()) {
                return Err(Error::new(
                    line,
                    "VOLUME specified can not be an empty string",
                ));
            }
            Instruction::Volume(vols)
        }
        "USER" => {
            need(rest)?;
            Instruction::User(rest.trim().to_string())
        }
        "WORKDIR" => {
            need(rest)?;
            Instruction::Workdir(rest.trim().to_string())
        }
        "COPY" | "ADD" => {
            let allowed: &[&str] = if upper == "COPY" {
                &["from", "chown", "chmod", "link", "parents", "exclude"]
            } else {
                &[
                    "chown",
                    "chmod",
                    "link",
                    "checksum",
                    "keep-git-dir",
                    "exclude",
                    "parents",
                ]
            };
            let (flags, rest) = take_flags(rest, line, allowed)?;
            let heredocs = read_heredocs(rest, l, lines)?;
            let t = rest.trim();
            let parts = match serde_json::from_str::<Vec<String>>(t) {
                Ok(v) if t.starts_with('[') => v,
                _ => words(t, escape).map_err(|e| Error::new(line, format!("{upper}: {e}")))?,
            };
            if parts.len() < 2 {
                return Err(Error::new(line, format!("{upper} requires at least two arguments, but only one was provided. Destination could not be determined.")));
            }
            let (dest, sources) = parts
                .split_last()
                .map(|(d, s)| (d.clone(), s.to_vec()))
                .unwrap_or_default();
            let c = Copy {
                sources,
                dest,
                heredocs,
                from: flags.get("from").cloned(),
                chown: flags.get("chown").cloned(),
                chmod: flags.get("chmod").cloned(),
                link: bool_flag(&flags, "link", line)?,
                parents: bool_flag(&flags, "parents", line)?,
                exclude: flags
                    .get("exclude")
                    .map(|v| v.split('\n').map(String::from).collect())
                    .unwrap_or_default(),
                checksum: flags.get("checksum").cloned(),
                keep_git_dir: bool_flag(&flags, "keep-git-dir", line)?,
            };
            if upper == "COPY" {
                Instruction::Copy(c)
            } else {
                Instruction::Add(c)
            }
        }
        "SHELL" => {
            let t = rest.trim();
            match serde_json::from_str::<Vec<String>>(t) {
                Ok(v) if !v.is_empty() => Instruction::Shell(v),
                _ => {
                    return Err(Error::new(
                        line,
                        "SHELL requires the arguments to be in JSON form",
                    ))
                }
            }
        }
        "STOPSIGNAL" => {
            need(rest)?;
            Instruction::StopSignal(rest.trim().to_string())
        }
        "HEALTHCHECK" => {
            let (flags, rest) = take_flags(
                rest,
                line,
                &[
                    "interval",
                    "timeout",
                    "start-period",
                    "start-interval",
                    "retries",
                ],
            )?;
            let (kind, args) = keyword(rest);
            match kind.to_ascii_uppercase().as_str() {
                "NONE" if args.trim().is_empty() && flags.is_empty() => {
                    Instruction::Healthcheck(Healthcheck::None)
                }
                "NONE" => return Err(Error::new(line, "HEALTHCHECK NONE takes no arguments")),
                "CMD" => {
                    need(args)?;
                    let retries = match flags.get("retries") {
                        Some(r) => Some(r.parse::<u32>().map_err(|_| {
                            Error::new(line, format!("invalid value {r:?} for --retries"))
                        })?),
                        None => None,
                    };
                    Instruction::Healthcheck(Healthcheck::Cmd {
                        test: command_line(args),
                        interval: duration(&flags, "interval", line)?,
                        timeout: duration(&flags, "timeout", line)?,
                        start_period: duration(&flags, "start-period", line)?,
                        start_interval: duration(&flags, "start-interval", line)?,
                        retries,
                    })
                }
                _ => {
                    return Err(Error::new(
                        line,
                        "Unknown type for HEALTHCHECK: want CMD or NONE",
                    ))
                }
            }
        }
        "ONBUILD" => {
            need(rest)?;
            let (inner_kw, _) = keyword(rest);
            let inner_upper = inner_kw.to_ascii_uppercase();
            if ["ONBUILD", "FROM", "MAINTAINER"].contains(&inner_upper.as_str()) {
                return Err(Error::new(
                    line,
                    format!("{inner_upper} isn't allowed as an ONBUILD trigger"),
                ));
            }
            let inner = Logical {
                line,
                text: rest.to_string(),
            };
            Instruction::Onbuild(Box::new(command(&inner, lines, escape)?))
        }
        _ => return Err(Error::new(line, format!("unknown instruction: {upper}"))),
    };
    Ok(Command {
        line,
        original: l.text.trim().to_string(),
        instruction,
    })
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

    #[test]
    fn durations() {
        assert_eq!(parse_go_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_go_duration("3x"), None);
    }
}
