//! Words that are not flags, as kaniko's cobra/pflag command line treats them. CI tools pass
//! `''` where an optional parameter is unset (a Tekton Task's empty `EXTRA_ARGS`, GitLab's
//! proxy recipe, the Woodpecker plugin): cobra skips empty words when it looks for
//! subcommands (`stripFlags`), and a root command with subcommands refuses only a
//! non-empty stray word (`legacyArgs`: `unknown command "true" for "executor"`). A flag's
//! separate value (`--destination ''`) is a value, not a word, and stays.

use super::CliError;
use clap::Command;
use std::ffi::OsString;

/// `args` (program name first) without the empty words, or kaniko's error for the first
/// stray word. A subcommand's words are filtered with its own flags; words after `--`
/// are left to clap.
pub fn drop_empty(cmd: &Command, args: Vec<OsString>) -> Result<Vec<OsString>, CliError> {
    let mut out = Vec::with_capacity(args.len());
    let mut it = args.into_iter();
    out.extend(it.next());
    filter(cmd, &mut it, &mut out, cmd.get_name())?;
    Ok(out)
}

fn filter(
    cmd: &Command,
    it: &mut impl Iterator<Item = OsString>,
    out: &mut Vec<OsString>,
    path: &str,
) -> Result<(), CliError> {
    let mut value_next = false;
    while let Some(word) = it.next() {
        if value_next {
            value_next = false;
            out.push(word);
            continue;
        }
        if word.is_empty() {
            continue;
        }
        let text = word.to_string_lossy().into_owned();
        if text == "--" {
            out.push(word);
            out.extend(it);
            return Ok(());
        }
        if text.starts_with('-') && text.len() > 1 {
            value_next = takes_separate_value(cmd, &text);
            out.push(word);
            continue;
        }
        match cmd.find_subcommand(&text) {
            Some(sub) => {
                out.push(word);
                return filter(sub, it, out, &format!("{path} {}", sub.get_name()));
            }
            // Arguments a command declares (`login REGISTRY`) are its own.
            None if cmd.get_positionals().next().is_some() => out.push(word),
            None => return Err(CliError::UnknownCommand(text, path.to_string())),
        }
    }
    Ok(())
}

/// Whether `word` (a flag without `=`) takes the next word as its value, as pflag reads
/// it: a flag that needs a value; booleans (`--cache true`) never do.
fn takes_separate_value(cmd: &Command, word: &str) -> bool {
    if word.contains('=') {
        return false;
    }
    let arg = match word.strip_prefix("--") {
        Some(long) => cmd.get_arguments().find(|a| {
            a.get_long() == Some(long) || a.get_all_aliases().is_some_and(|al| al.contains(&long))
        }),
        // Only `-f value`: `-fvalue` carries its value.
        None => {
            let mut chars = word[1..].chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => cmd.get_arguments().find(|a| a.get_short() == Some(c)),
                _ => None,
            }
        }
    };
    arg.is_some_and(|a| {
        a.get_action().takes_values()
            && !a.is_require_equals_set()
            && a.get_num_args().is_none_or(|n| n.min_values() > 0)
    })
}
