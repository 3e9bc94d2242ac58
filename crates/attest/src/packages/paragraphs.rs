//! RFC 822-style stanzas as dpkg's status file and apk's installed database write them:
//! `Key: value` lines (apk: `K:value`), a blank line between packages; in dpkg a line
//! starting with a space or tab continues the previous field.

/// One stanza: its fields in order, continuation lines joined with `\n`.
#[derive(Debug, Default)]
pub(crate) struct Stanza {
    pub fields: Vec<(String, String)>,
}

impl Stanza {
    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The stanzas of `text`; `continuation` enables dpkg's folded lines.
pub(crate) fn stanzas(text: &str, continuation: bool) -> Vec<Stanza> {
    let mut out = Vec::new();
    let mut cur = Stanza::default();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.fields.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if continuation && line.starts_with([' ', '\t']) {
            if let Some((_, v)) = cur.fields.last_mut() {
                v.push('\n');
                v.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            cur.fields.push((k.to_string(), v.trim_start().to_string()));
        }
    }
    if !cur.fields.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_fields_and_blank_lines() {
        let s = stanzas(
            "Package: a\nConffiles:\n /etc/a 0123\n /etc/b 4567\nVersion: 1\n\n\nPackage: b\n",
            true,
        );
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].get("Conffiles"), Some("\n/etc/a 0123\n/etc/b 4567"));
        assert_eq!(s[0].get("Version"), Some("1"));
        assert_eq!(s[1].get("Package"), Some("b"));
    }
}
