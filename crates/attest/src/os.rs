//! The distribution, from `/etc/os-release` (or `/usr/lib/os-release`), as os-release(5)
//! defines the file: `KEY=value` lines, values optionally quoted, `#` comments.

use crate::inroot::Root;
use crate::Error;

/// The fields of os-release the documents use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OsRelease {
    /// `ID`: `debian`, `alpine`, `fedora` …
    pub id: String,
    /// `VERSION_ID`: `12`, `3.19.1` …
    pub version_id: Option<String>,
    /// `PRETTY_NAME`, else `NAME`.
    pub pretty_name: Option<String>,
}

impl OsRelease {
    /// `id-version_id` as Package URLs' `distro` qualifier writes it (`debian-12`).
    pub fn distro(&self) -> String {
        match &self.version_id {
            Some(v) => format!("{}-{}", self.id, v),
            None => self.id.clone(),
        }
    }
}

const MAX_OS_RELEASE: u64 = 64 << 10;

pub(crate) fn read(root: &Root) -> Result<Option<OsRelease>, Error> {
    for p in ["/etc/os-release", "/usr/lib/os-release"] {
        if let Some(bytes) = root.read(p, MAX_OS_RELEASE)? {
            return Ok(parse(&String::from_utf8_lossy(&bytes)));
        }
    }
    Ok(None)
}

/// The os-release fields of `text`; `None` without an `ID`.
pub fn parse(text: &str) -> Option<OsRelease> {
    let mut out = OsRelease::default();
    let mut name = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = unquote(value.trim());
        match key.trim() {
            "ID" => out.id = value,
            "VERSION_ID" => out.version_id = Some(value),
            "PRETTY_NAME" => out.pretty_name = Some(value),
            "NAME" => name = Some(value),
            _ => {}
        }
    }
    if out.pretty_name.is_none() {
        out.pretty_name = name;
    }
    (!out.id.is_empty()).then_some(out)
}

/// A shell-style value: single quotes literal, double quotes with `\` escapes, or bare.
fn unquote(v: &str) -> String {
    let bytes = v.as_bytes();
    match bytes.first() {
        Some(b'\'') if v.len() >= 2 && v.ends_with('\'') => v[1..v.len() - 1].to_string(),
        Some(b'"') if v.len() >= 2 && v.ends_with('"') => {
            let mut out = String::new();
            let mut chars = v[1..v.len() - 1].chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                } else {
                    out.push(c);
                }
            }
            out
        }
        _ => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_and_alpine() {
        let d = parse(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n\
             VERSION_ID=\"12\"\nID=debian\n# comment\n",
        )
        .unwrap();
        assert_eq!(d.id, "debian");
        assert_eq!(d.distro(), "debian-12");
        assert_eq!(
            d.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        let a = parse("NAME='Alpine Linux'\nID=alpine\nVERSION_ID=3.19.1\n").unwrap();
        assert_eq!(a.distro(), "alpine-3.19.1");
        assert_eq!(a.pretty_name.as_deref(), Some("Alpine Linux"));
        assert_eq!(parse("NAME=x\n"), None);
        assert_eq!(unquote(r#""a \"b\" c""#), "a \"b\" c");
    }
}
