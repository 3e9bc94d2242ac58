//! URLs as the client handles them: locations made absolute, query parameters added,
//! queries kept out of messages (upload state and digests), form values encoded, and the
//! origin test that decides where credentials may go.

/// `loc` (absolute, or relative to `base`) as an absolute URL.
pub(crate) fn absolute(base: &reqwest::Url, loc: &str) -> String {
    base.join(loc)
        .map(|u| u.to_string())
        .unwrap_or_else(|_| loc.to_string())
}

/// `url` with `param=value` appended, whether or not it already has a query string.
pub(crate) fn with_query(url: &str, param: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{param}={value}")
}

/// A URL without its query (upload state and digests stay out of messages).
pub(crate) fn strip_query(u: &str) -> String {
    u.split('?').next().unwrap_or(u).to_string()
}

/// Percent-encodes all but RFC 3986's unreserved bytes (form and query values).
pub(crate) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Whether `url` has the scheme, host and port of `base` (default ports made explicit).
pub(crate) fn same_origin(url: &str, base: &str) -> bool {
    match (reqwest::Url::parse(url), reqwest::Url::parse(base)) {
        (Ok(u), Ok(b)) => {
            u.scheme() == b.scheme()
                && u.host_str().map(str::to_ascii_lowercase)
                    == b.host_str().map(str::to_ascii_lowercase)
                && u.port_or_known_default() == b.port_or_known_default()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_and_queries() {
        let base = reqwest::Url::parse("https://r.example:5000/v2/a/blobs/uploads/").unwrap();
        assert_eq!(
            absolute(&base, "/v2/a/blobs/uploads/u1?_state=x"),
            "https://r.example:5000/v2/a/blobs/uploads/u1?_state=x"
        );
        assert_eq!(
            absolute(&base, "https://other.example/up/1"),
            "https://other.example/up/1"
        );
        assert_eq!(
            with_query("http://h/u?_state=x", "digest", "d"),
            "http://h/u?_state=x&digest=d"
        );
        assert_eq!(
            with_query("http://h/u", "digest", "d"),
            "http://h/u?digest=d"
        );
        assert_eq!(strip_query("http://h/u?_state=secret"), "http://h/u");
    }

    #[test]
    fn origins() {
        let base = "https://r.example:5000";
        assert!(same_origin(
            "https://r.example:5000/v2/a/blobs/uploads/1",
            base
        ));
        assert!(same_origin("https://R.EXAMPLE:5000/v2/", base));
        assert!(!same_origin("http://r.example:5000/v2/", base));
        assert!(!same_origin("https://r.example/v2/", base));
        assert!(!same_origin("https://storage.example:5000/b", base));
        assert!(same_origin(
            "https://hub.example:443/v2/",
            "https://hub.example"
        ));
        assert!(!same_origin("not a url", base));
    }
}
