//! Registry errors: each names the request and the registry's answer, never a secret.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid reference {0:?}: {1}")]
    Reference(String, &'static str),
    #[error("{method} {url}: {status}{detail}")]
    Status {
        method: &'static str,
        url: String,
        status: u16,
        detail: String,
    },
    #[error("{method} {url}: {message}")]
    Http {
        method: &'static str,
        url: String,
        message: String,
    },
    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    Digest {
        what: String,
        expected: image::Digest,
        actual: image::Digest,
    },
    #[error("{0}")]
    Manifest(String),
    #[error("{0}")]
    Protocol(String),
    #[error("reading {0}: {1}")]
    Io(std::path::PathBuf, std::io::Error),
    #[error("docker config {0}: {1}")]
    Config(std::path::PathBuf, String),
    #[error("credential helper {0}: {1}")]
    Helper(String, String),
    #[error("TLS setup: {0}")]
    Tls(String),
    #[error("{method} {url}: timed out: {what}")]
    Timeout {
        method: &'static str,
        url: String,
        what: String,
    },
    #[error("{what} is larger than the limit of {limit} bytes (set {var} to change it)")]
    TooLarge {
        what: String,
        limit: u64,
        var: &'static str,
    },
    #[error("invalid value {value:?} for environment variable {var}: {reason}")]
    Setting {
        var: &'static str,
        value: String,
        reason: String,
    },
}

/// What registries say when a tag may not be moved (kaniko's list: Google Artifact
/// Registry, Amazon ECR).
const IMMUTABLE_TAG: &[&str] = &[
    "The repository has enabled tag immutability",
    "cannot be overwritten because the repository is immutable",
];

impl Error {
    /// A failed HTTP exchange, with the whole cause chain in one line (URLs left out).
    pub(crate) fn http(method: &'static str, url: impl Into<String>, e: reqwest::Error) -> Error {
        let e = e.without_url();
        let mut parts = vec![e.to_string()];
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            let t = s.to_string();
            if !parts.iter().any(|p| p.contains(&t)) {
                parts.push(t);
            }
            src = s.source();
        }
        Error::Http {
            method,
            url: url.into(),
            message: parts.join(": "),
        }
    }

    /// Whether a registry refused a manifest because its tag is immutable.
    pub fn is_immutable_tag(&self) -> bool {
        let text = self.to_string();
        IMMUTABLE_TAG.iter().any(|m| text.contains(m))
    }

    /// Whether trying again may help: no answer or a cut-off one, a timeout, 408, 429 and
    /// the 5xx statuses other than 501 and 505.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Status { status, .. } => crate::retry::transient_status(*status),
            Error::Http { .. } | Error::Timeout { .. } => true,
            _ => false,
        }
    }

    /// The status code of a registry answer, if this is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The registry's JSON error body as ` (CODE: message)`, or the start of the body.
pub(crate) fn detail(body: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Errs {
        errors: Vec<E>,
    }
    #[derive(serde::Deserialize)]
    struct E {
        code: Option<String>,
        message: Option<String>,
    }
    if let Ok(e) = serde_json::from_str::<Errs>(body) {
        let parts: Vec<String> = e
            .errors
            .iter()
            .map(|e| {
                format!(
                    "{}: {}",
                    e.code.as_deref().unwrap_or("?"),
                    e.message.as_deref().unwrap_or("")
                )
            })
            .collect();
        if !parts.is_empty() {
            return format!(" ({})", parts.join("; "));
        }
    }
    let t = body.trim();
    if t.is_empty() {
        String::new()
    } else {
        format!(" ({})", t.chars().take(200).collect::<String>())
    }
}
