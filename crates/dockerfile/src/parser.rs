//! Logical lines → typed instructions: flags, exec and shell forms, heredocs, and the
//! arguments of each of the eighteen instructions.

use crate::flags::{take_flags, Kind};
use crate::healthcheck::healthcheck;
use crate::lines::{split, Lines, Logical};
use crate::model::*;
use crate::run_copy::{copy, run};
use crate::syntax::{command_line, json_or_fields, keyword, words};
use crate::Error;

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

fn from(l: &Logical, index: usize, escape: char) -> Result<Stage, Error> {
    let (_, rest) = keyword(&l.text);
    let (flags, rest) = take_flags(rest, l.line, &[("platform", Kind::Str)], escape)?;
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

/// `ARG name[=default] ...`: names as written (Docker does not expand them).
fn arg(rest: &str, line: usize, escape: char) -> Result<Instruction, Error> {
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
    Ok(Instruction::Arg(args))
}

/// `VOLUME ["/a", "/b"]` or `VOLUME /a /b`.
fn volume(rest: &str, line: usize) -> Result<Instruction, Error> {
    let t = rest.trim();
    let vols = json_or_fields(t).map_err(|e| Error::new(line, format!("VOLUME: {e}")))?;
    if vols.is_empty() {
        return Err(Error::new(line, "VOLUME requires at least one argument"));
    }
    if vols.iter().any(|v| v.trim().is_empty()) {
        return Err(Error::new(
            line,
            "VOLUME specified can not be an empty string",
        ));
    }
    Ok(Instruction::Volume(vols))
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
        "RUN" => run(rest, l, lines, escape)?,
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
            arg(rest, line, escape)?
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
            volume(rest, line)?
        }
        "USER" => {
            need(rest)?;
            Instruction::User(rest.trim().to_string())
        }
        "WORKDIR" => {
            need(rest)?;
            Instruction::Workdir(rest.trim().to_string())
        }
        "COPY" | "ADD" => copy(&upper, rest, l, lines, escape)?,
        "SHELL" => shell(rest, line)?,
        "STOPSIGNAL" => {
            need(rest)?;
            Instruction::StopSignal(rest.trim().to_string())
        }
        "HEALTHCHECK" => healthcheck(rest, line, escape)?,
        "ONBUILD" => {
            need(rest)?;
            onbuild(rest, line, lines, escape)?
        }
        _ => return Err(Error::new(line, format!("unknown instruction: {upper}"))),
    };
    Ok(Command {
        line,
        original: l.text.trim().to_string(),
        instruction,
    })
}

/// `SHELL ["executable", "parameters"]`: JSON form only.
fn shell(rest: &str, line: usize) -> Result<Instruction, Error> {
    match serde_json::from_str::<Vec<String>>(rest.trim()) {
        Ok(v) if !v.is_empty() => Ok(Instruction::Shell(v)),
        _ => Err(Error::new(
            line,
            "SHELL requires the arguments to be in JSON form",
        )),
    }
}

/// `ONBUILD <instruction>`: any instruction but ONBUILD, FROM and MAINTAINER.
fn onbuild(
    rest: &str,
    line: usize,
    lines: &mut Lines<'_>,
    escape: char,
) -> Result<Instruction, Error> {
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
    Ok(Instruction::Onbuild(Box::new(command(
        &inner, lines, escape,
    )?)))
}
