//! The Dockerfile front end: text → a typed model of stages and instructions (`parse`), the
//! variable semantics of a build (`GlobalScope`, `StageScope`, expanded at execution time),
//! the stage graph (`stages`: one lookup of stages by name or index, what each reads) and
//! the `--dryrun` plan.

mod expand;
mod expand_instruction;
mod flags;
mod healthcheck;
mod heredocs;
mod lines;
mod model;
mod mounts;
mod parser;
mod plan;
mod ports;
mod run_copy;
mod scope;
mod stages;
mod syntax;

pub use expand::{expand_heredoc, expand_word, expand_words, ExpandError};
pub use model::*;
pub use parser::parse;
pub use plan::plan;
pub use ports::port_keys;
pub use scope::{is_proxy_var, BuildArgs, GlobalScope, PlatformArgs, StageScope, PROXY_KINDS};
pub use stages::{StageBase, StageRead};

/// An error with the 1-based line it comes from.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("dockerfile parse error on line {line}: {message}")]
pub struct Error {
    pub line: usize,
    pub message: String,
}

impl Error {
    pub fn new(line: usize, message: impl Into<String>) -> Error {
        Error {
            line,
            message: message.into(),
        }
    }
}
