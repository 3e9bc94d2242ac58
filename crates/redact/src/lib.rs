//! URLs as they may be printed: a log line or an error never shows a URL's user and
//! password (left out), nor the value of a query parameter that carries a credential. One function for
//! one URL ([`url`]) and one for any text that may hold URLs ([`urls_in`]: every log line
//! and error message goes through it).
//!
//! A query parameter is a credential when its name (any case) is one of [`SECRET_NAMES`],
//! contains one of [`SECRET_PARTS`], or starts with `x-amz-` or `x-goog-` (S3 and GCS
//! presigned URLs). Its value becomes `***`; other parameters stay, so a URL is still
//! recognisable.

/// Parameter names that carry a credential (Azure SAS `sig`, API keys, OAuth codes).
pub const SECRET_NAMES: [&str; 7] = ["sig", "key", "apikey", "api_key", "auth", "code", "pwd"];

/// Parts of a name that mark a credential (`access_token`, `client_secret`, `X-Signature` …).
pub const SECRET_PARTS: [&str; 6] = [
    "token",
    "secret",
    "password",
    "passwd",
    "signature",
    "credential",
];

const MASK: &str = "***";

/// Whether a query parameter named `name` carries a credential.
pub fn is_secret_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    SECRET_NAMES.contains(&n.as_str())
        || SECRET_PARTS.iter().any(|p| n.contains(p))
        || n.starts_with("x-amz-")
        || n.starts_with("x-goog-")
}

/// `u` (`scheme://[user[:password]@]host/path?query#fragment`) without its user
/// information, and with the values of credential parameters replaced by `***`.
pub fn url(u: &str) -> String {
    let Some((scheme, rest)) = u.split_once("://") else {
        return u.to_string();
    };
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    let host = match authority.rfind('@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    let (before_frag, frag) = match tail.find('#') {
        Some(i) => tail.split_at(i),
        None => (tail, ""),
    };
    let tail = match before_frag.split_once('?') {
        Some((path, query)) => format!("{path}?{}{frag}", query_redacted(query)),
        None => format!("{before_frag}{frag}"),
    };
    format!("{scheme}://{host}{tail}")
}

fn query_redacted(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if is_secret_param(k) => format!("{k}={MASK}"),
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Where a URL found in text ends: at white space, a quote, a bracket or `>`.
fn url_end(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>' | ')' | ']' | '}' | '\\')
}

/// `text` with every URL in it (`scheme://…`) redacted by [`url`].
pub fn urls_in(text: &str) -> String {
    if !text.contains("://") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(sep) = rest.find("://") {
        // The scheme: letters, digits, `+`, `-`, `.` right before `://`.
        let start = rest[..sep]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |i| i + 1);
        let end = rest[sep + 3..]
            .find(url_end)
            .map_or(rest.len(), |i| sep + 3 + i);
        out.push_str(&rest[..start]);
        out.push_str(&url(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_information_and_credential_parameters_go() {
        assert_eq!(
            url("https://user:tok@host:8443/a/b.tgz?token=t1&x=1&X-Amz-Signature=abc#frag"),
            "https://host:8443/a/b.tgz?token=***&x=1&X-Amz-Signature=***#frag"
        );
        assert_eq!(url("git://me@h/r.git#main"), "git://h/r.git#main");
        assert_eq!(
            url("https://h/p?sig=s&sv=2020&access_token=a&client_secret=c&key=k"),
            "https://h/p?sig=***&sv=2020&access_token=***&client_secret=***&key=***"
        );
        assert_eq!(url("https://h/p/a@b"), "https://h/p/a@b");
        assert_eq!(url("not a url"), "not a url");
    }

    #[test]
    fn every_url_in_a_line() {
        let line = r#"ADD https://u:p@h/f?token=x /dst: error sending request for url (https://a:b@h2/f), see "s3://k@bucket/x""#;
        assert_eq!(
            urls_in(line),
            r#"ADD https://h/f?token=*** /dst: error sending request for url (https://h2/f), see "s3://bucket/x""#
        );
        assert_eq!(urls_in("no urls here"), "no urls here");
    }
}
