//! The executor's command line: kaniko's flags (names, short forms, deprecated aliases,
//! defaults, `KANIKO_*` environment fallbacks) parsed into typed [`Options`], plus the
//! `version`, `login` and `index` subcommands and the warmer (`executor warmer ...`, or a
//! binary named `warmer`).
//!
//! Two layers, as in ripgrep: `flags` is what clap parses, raw; `resolve` turns that into
//! the plain `options` a run uses.

mod attestations;
mod convert;
mod environment;
mod flags;
mod options;
mod positionals;
mod resolve;
mod resolve_flag;
mod resolve_index;
mod values;

#[cfg(test)]
mod context_tests;
#[cfg(test)]
mod index_tests;
#[cfg(test)]
mod positionals_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod warmer_tests;

pub use environment::{config_dir, Environment};
pub use options::*;

use clap::{CommandFactory, Parser};
use flags::{ExecutorCli, SubCommand, WarmerCli};
use resolve_flag::EnvLookup;
use std::ffi::OsString;
use std::path::Path;

/// What the command line asks for.
#[derive(Debug)]
pub enum Invocation {
    Build(Box<Options>),
    Version,
    Warmer(Box<WarmerOptions>),
    Login(LoginOptions),
    Index(Box<IndexOptions>),
    Attestations(Box<ReadAttestations>),
}

/// A command line that cannot run: clap's own errors (unknown flag, bad boolean, `--help`)
/// and ours (a value that does not parse, named with its flag).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Clap(#[from] clap::Error),
    #[error("invalid value {value:?} for --{flag}: {reason}")]
    Flag {
        flag: &'static str,
        value: String,
        reason: String,
    },
    #[error("invalid value {value:?} for environment variable {var}: {reason}")]
    Env {
        var: &'static str,
        value: String,
        reason: String,
    },
    #[error("{0}")]
    Usage(String),
    /// A stray word, in kaniko's words: `unknown command "true" for "executor"`.
    #[error("unknown command {0:?} for {1:?}")]
    UnknownCommand(String, String),
}

impl CliError {
    /// Prints the error (or the help text clap was asked for) where it belongs.
    pub fn print(&self) -> std::io::Result<()> {
        match self {
            CliError::Clap(e) => e.print(),
            CliError::UnknownCommand(_, path) => {
                use std::io::Write;
                let mut err = std::io::stderr();
                writeln!(err, "Error: {self}")?;
                writeln!(err, "Run '{path} --help' for usage.")
            }
            other => {
                use std::io::Write;
                writeln!(std::io::stderr(), "error: {other}")
            }
        }
    }

    /// False for `--help` and `help`, which are not failures.
    pub fn use_stderr(&self) -> bool {
        match self {
            CliError::Clap(e) => e.use_stderr(),
            _ => true,
        }
    }
}

/// Parses the process's command line (`args[0]` included), reading the process environment.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Invocation, CliError> {
    parse_with_env(args, &|k| std::env::var(k).ok())
}

/// [`parse`] with an explicit environment lookup.
pub fn parse_with_env(
    args: impl IntoIterator<Item = OsString>,
    env: EnvLookup,
) -> Result<Invocation, CliError> {
    let args: Vec<OsString> = args.into_iter().collect();
    let as_warmer = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .is_some_and(|n| n == "warmer");
    if as_warmer {
        let args = positionals::drop_empty(&WarmerCli::command(), args)?;
        let cli = WarmerCli::try_parse_from(args)?;
        return Ok(Invocation::Warmer(Box::new(resolve::warmer_options(
            cli.warmer, env,
        )?)));
    }
    let args = positionals::drop_empty(&ExecutorCli::command(), args)?;
    let cli = ExecutorCli::try_parse_from(args)?;
    match cli.command {
        Some(SubCommand::Version) => Ok(Invocation::Version),
        Some(SubCommand::Warmer(w)) => Ok(Invocation::Warmer(Box::new(resolve::warmer_options(
            *w, env,
        )?))),
        Some(SubCommand::Login(l)) => Ok(Invocation::Login(resolve::login_options(l, env)?)),
        Some(SubCommand::Index(i)) => Ok(Invocation::Index(Box::new(
            resolve_index::index_options(*i, env)?,
        ))),
        Some(SubCommand::Attestations(a)) => Ok(Invocation::Attestations(Box::new(
            resolve::read_attestations(*a, env)?,
        ))),
        None => Ok(Invocation::Build(Box::new(resolve::build_options(
            cli.build, env,
        )?))),
    }
}
