use std::path::PathBuf;

/// What can go wrong reading a root or writing a document.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: larger than {limit} bytes")]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{path}: {message}")]
    Database { path: PathBuf, message: String },
    #[error("{0}")]
    Input(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn database(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        Error::Database {
            path: path.into(),
            message: message.to_string(),
        }
    }
}
