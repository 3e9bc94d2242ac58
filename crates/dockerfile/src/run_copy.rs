//! Parsing RUN and COPY/ADD: their flags, mounts, heredocs and sources.

use crate::expand::expand_word;
use crate::flags::{take_flags, Kind};
use crate::heredocs::read_heredocs;
use crate::lines::{Lines, Logical};
use crate::model::*;
use crate::syntax::{command_line, json_or_fields};
use crate::{mounts, Error};

const RUN_FLAGS: [(&str, Kind); 3] = [
    ("mount", Kind::Many),
    ("network", Kind::Str),
    ("security", Kind::Str),
];

const COPY_FLAGS: [(&str, Kind); 6] = [
    ("from", Kind::Str),
    ("chown", Kind::Str),
    ("chmod", Kind::Str),
    ("link", Kind::Bool),
    ("parents", Kind::Bool),
    ("exclude", Kind::Many),
];

/// ADD's flags in current BuildKit (`instructions/parse.go`, `parseAdd`): no `--parents`.
const ADD_FLAGS: [(&str, Kind); 7] = [
    ("chown", Kind::Str),
    ("chmod", Kind::Str),
    ("link", Kind::Bool),
    ("checksum", Kind::Str),
    ("keep-git-dir", Kind::Bool),
    ("exclude", Kind::Many),
    ("unpack", Kind::Bool),
];

/// A word expanded with nothing in scope: only its quotes and escapes go.
fn plain(w: &str, escape: char, line: usize) -> Result<String, Error> {
    expand_word(w, escape, &|_| None).map_err(|e| Error::new(line, e.to_string()))
}

pub(crate) fn run(
    rest: &str,
    l: &Logical,
    lines: &mut Lines<'_>,
    escape: char,
) -> Result<Instruction, Error> {
    let line = l.line;
    let (flags, rest) = take_flags(rest, line, &RUN_FLAGS, escape)?;
    if rest.trim().is_empty() {
        return Err(Error::new(line, "RUN requires at least one argument"));
    }
    let heredocs = read_heredocs(rest, l, lines)?;
    let plain = |w: &str| plain(w, escape, line);
    let mounts = flags
        .all("mount")
        .iter()
        .map(|m| mounts::parse(m, line, &plain))
        .collect::<Result<_, _>>()?;
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
    Ok(Instruction::Run(Run {
        command: command_line(rest),
        heredocs,
        mounts,
        network: flags.get("network").cloned(),
        security: flags.get("security").cloned(),
    }))
}

pub(crate) fn copy(
    upper: &str,
    rest: &str,
    l: &Logical,
    lines: &mut Lines<'_>,
    escape: char,
) -> Result<Instruction, Error> {
    let line = l.line;
    let allowed: &[(&str, Kind)] = if upper == "COPY" {
        &COPY_FLAGS
    } else {
        &ADD_FLAGS
    };
    let (flags, rest) = take_flags(rest, line, allowed, escape)?;
    if let Some(f) = flags.get("from") {
        // Docker resolves --from before any variable is known, and refuses variables.
        if plain(f, escape, line)? != *f {
            return Err(Error::new(line, "variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround"));
        }
    }
    let heredocs = read_heredocs(rest, l, lines)?;
    let t = rest.trim();
    let parts = json_or_fields(t).map_err(|e| Error::new(line, format!("{upper}: {e}")))?;
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
        link: flags.on("link"),
        parents: flags.on("parents"),
        exclude: flags.all("exclude").to_vec(),
        checksum: flags.get("checksum").cloned(),
        keep_git_dir: flags.on("keep-git-dir"),
        unpack: flags.get("unpack").map(|v| v == "true"),
    };
    Ok(if upper == "COPY" {
        Instruction::Copy(c)
    } else {
        Instruction::Add(c)
    })
}
