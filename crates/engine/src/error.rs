//! The engine's error: where it happened (a Dockerfile line, a layer, a source) and why.

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Dockerfile(#[from] dockerfile::Error),
    #[error(transparent)]
    Context(#[from] crate::context::ContextError),
    #[error(transparent)]
    Registry(#[from] registry::Error),
    #[error(transparent)]
    Source(#[from] crate::source::SourceError),
    #[error(transparent)]
    Fs(#[from] rootfs::Error),
    #[error("Dockerfile line {line}: {instruction}: {message}")]
    Step {
        line: usize,
        instruction: String,
        message: String,
    },
    /// A RUN whose command exited non-zero; the executor exits with the same code.
    #[error("Dockerfile line {line}: {instruction}: {message}")]
    RunFailed {
        line: usize,
        instruction: String,
        message: String,
        code: i32,
    },
    #[error("{0}")]
    Other(String),
}

impl BuildError {
    /// The exit code a failing RUN asks the executor to exit with.
    pub fn exit_code(&self) -> Option<i32> {
        match self {
            BuildError::RunFailed { code, .. } => Some(*code),
            _ => None,
        }
    }

    pub(crate) fn step(cmd: &dockerfile::Command, message: impl std::fmt::Display) -> BuildError {
        BuildError::Step {
            line: cmd.line,
            instruction: cmd.original.clone(),
            message: message.to_string(),
        }
    }

    /// A blocking task that panicked or was cancelled.
    pub(crate) fn task(e: tokio::task::JoinError) -> BuildError {
        BuildError::Other(format!("internal task failed: {e}"))
    }
}
