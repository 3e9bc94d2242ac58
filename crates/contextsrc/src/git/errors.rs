//! gix's errors turned into one line naming the cause: no such repository or ref, refused
//! credentials, an unreachable or untrusted server. The URL in them never has credentials
//! (they travel apart from it).

use super::link::Link;
use crate::Error;

/// The error chain of a gix error, as one line.
fn text(e: &gix::Error) -> String {
    crate::error::one_line(e)
}

pub(super) fn classify(e: &gix::Error, link: &Link, target: &str) -> Error {
    let t = text(e);
    tracing::debug!("git: {t}");
    let lower = t.to_ascii_lowercase();
    let location = link.location.clone();
    if status(&lower, "401") || lower.contains("authentication") || lower.contains("credentials") {
        let hint = if link.auth.is_some() {
            "the server refused the credentials (GIT_TOKEN, GIT_USERNAME/GIT_PASSWORD or the URL's user:token)"
        } else {
            "the server asks for credentials: set GIT_TOKEN, or GIT_USERNAME and GIT_PASSWORD"
        };
        return Error::Denied {
            location,
            hint: hint.into(),
        };
    }
    if status(&lower, "403") {
        return Error::Denied {
            location,
            hint: "HTTP 403 Forbidden".into(),
        };
    }
    if lower.contains("didn't have any ref") || lower.contains("couldn't find remote ref") {
        return Error::NotFound {
            location,
            what: format!("no such ref {target}"),
        };
    }
    if status(&lower, "404") || lower.contains("not found") && lower.contains("repository") {
        return Error::NotFound {
            location,
            what: format!("no such repository {}", link.url),
        };
    }
    if lower.contains("certificate") || lower.contains("tls") {
        return Error::Remote {
            location,
            cause: format!("TLS: {t} (use --git=insecure-skip-tls=true to skip verification)"),
        };
    }
    if crate::bucket::unreachable(&t) || lower.contains("connect") {
        return Error::Unreachable {
            location,
            endpoint: link.url.clone(),
            cause: t,
        };
    }
    Error::Remote { location, cause: t }
}

/// Whether the server refused to send a commit asked for by id.
pub(super) fn refused_by_id(e: &Error) -> bool {
    match e {
        Error::Remote { cause, .. } | Error::NotFound { what: cause, .. } => {
            let c = cause.to_ascii_lowercase();
            c.contains("not our ref") || c.contains("no such ref") || c.contains("want")
        }
        _ => false,
    }
}

/// Whether `text` holds the HTTP status `code` as a number of its own: not inside a longer
/// number and not a port (`127.0.0.1:34403` holds no 403).
fn status(text: &str, code: &str) -> bool {
    let bytes = text.as_bytes();
    text.match_indices(code).any(|(i, _)| {
        let before = i.checked_sub(1).map(|j| bytes[j]);
        let after = bytes.get(i + code.len()).copied();
        !before.is_some_and(|b| b.is_ascii_digit() || b == b':')
            && !after.is_some_and(|b| b.is_ascii_digit())
    })
}

#[cfg(test)]
mod status_tests {
    use super::status;

    #[test]
    fn statuses_are_numbers_of_their_own() {
        assert!(status("received http status 403 forbidden", "403"));
        assert!(status("http 401: unauthorized", "401"));
        assert!(!status(
            "https://127.0.0.1:34403/git/app.git: invalid certificate",
            "403"
        ));
        assert!(!status("https://127.0.0.1:44019/git/missing.git", "401"));
        assert!(!status("https://127.0.0.1:403/x", "403"));
        assert!(!status("error 4031", "403"));
    }
}
