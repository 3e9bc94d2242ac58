//! HEALTHCHECK: `NONE`, or flags (Go durations, retries) and `CMD` in exec or shell form.

use crate::flags::{split_flags, take_flags, Flags, Kind};
use crate::model::{Healthcheck, Instruction};
use crate::syntax::{command_line, keyword};
use crate::Error;
use std::time::Duration;

const FLAGS: [(&str, Kind); 5] = [
    ("interval", Kind::Str),
    ("timeout", Kind::Str),
    ("start-period", Kind::Str),
    ("start-interval", Kind::Str),
    ("retries", Kind::Str),
];

pub(crate) fn healthcheck(rest: &str, line: usize, escape: char) -> Result<Instruction, Error> {
    // Docker reads no flag of `HEALTHCHECK NONE`.
    let (kind, args) = keyword(split_flags(rest, escape).1);
    if kind.eq_ignore_ascii_case("NONE") {
        if !args.trim().is_empty() {
            return Err(Error::new(line, "HEALTHCHECK NONE takes no arguments"));
        }
        return Ok(Instruction::Healthcheck(Healthcheck::None));
    }
    let (flags, rest) = take_flags(rest, line, &FLAGS, escape)?;
    let (kind, args) = keyword(rest);
    if kind.is_empty() {
        return Err(Error::new(
            line,
            "HEALTHCHECK requires at least one argument",
        ));
    }
    if !kind.eq_ignore_ascii_case("CMD") {
        return Err(Error::new(
            line,
            "Unknown type for HEALTHCHECK: want CMD or NONE",
        ));
    }
    if args.trim().is_empty() {
        return Err(Error::new(
            line,
            "HEALTHCHECK requires at least one argument",
        ));
    }
    let retries = match flags.get("retries") {
        Some(r) => Some(
            r.parse::<u32>()
                .map_err(|_| Error::new(line, format!("invalid value {r:?} for --retries")))?,
        ),
        None => None,
    };
    Ok(Instruction::Healthcheck(Healthcheck::Cmd {
        test: command_line(args),
        interval: duration(&flags, "interval", line)?,
        timeout: duration(&flags, "timeout", line)?,
        start_period: duration(&flags, "start-period", line)?,
        start_interval: duration(&flags, "start-interval", line)?,
        retries,
    }))
}

fn duration(flags: &Flags, name: &str, line: usize) -> Result<Option<Duration>, Error> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_go_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_go_duration("3x"), None);
    }
}
