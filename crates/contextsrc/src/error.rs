//! One error type for every source: each variant renders as one line naming the source and
//! the cause, and none carries a credential.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The context string itself is malformed.
    #[error("invalid context {context}: {reason}")]
    Url { context: String, reason: String },
    /// A required setting is missing or malformed (a variable, a credentials file).
    #[error("{0}")]
    Config(String),
    /// The bucket, object, repository or ref does not exist.
    #[error("{location}: {what}")]
    NotFound { location: String, what: String },
    /// The server refused the credentials (or there were none).
    #[error("{location}: access denied: {hint}")]
    Denied { location: String, hint: String },
    /// The endpoint could not be reached or broke the connection.
    #[error("{location}: cannot reach {endpoint}: {cause}")]
    Unreachable {
        location: String,
        endpoint: String,
        cause: String,
    },
    /// The server answered with an error not covered above.
    #[error("{location}: {cause}")]
    Remote { location: String, cause: String },
    /// The archive could not be unpacked.
    #[error("unpacking the build context from {location}: {cause}")]
    Unpack { location: String, cause: String },
    /// A local context archive could not be opened.
    #[error("opening context archive {}: {source}", path.display())]
    Archive {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A local context archive could not be unpacked.
    #[error("unpacking the build context: {0}")]
    UnpackLocal(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Internal(String),
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

impl From<awsfiles::Error> for Error {
    fn from(e: awsfiles::Error) -> Error {
        Error::Config(format!("AWS shared file {e}"))
    }
}

/// The first line of an error chain's rendering, without its sources' repetitions: libraries
/// render causes in different ways, and a log line must stay one line.
pub(crate) fn one_line(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = cur {
        let text = err.to_string();
        let text = text.lines().next().unwrap_or_default().trim().to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = err.source();
    }
    parts.join(": ")
}

/// An error chain's whole text (every line of every cause), to search for server codes.
pub(crate) fn full_text(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(err) = cur {
        out.push('\n');
        out.push_str(&err.to_string());
        cur = err.source();
    }
    out
}
