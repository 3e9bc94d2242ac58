//! A database's license text as SPDX takes it: a valid SPDX expression (strict: listed
//! identifiers, exact case) stays as written; anything else (`GPLv2+`, `MIT BSD`) becomes a
//! `LicenseRef-` whose extracted text is the database's words, unchanged.

use super::model::ExtractedLicense;
use std::collections::BTreeMap;

#[derive(Default)]
pub(crate) struct Licenses {
    /// LicenseRef id → the text it stands for.
    refs: BTreeMap<String, String>,
    by_text: BTreeMap<String, String>,
}

impl Licenses {
    /// The `licenseDeclared` value for `text`.
    pub fn declared(&mut self, text: &str) -> String {
        let text = text.trim();
        let lower = text.to_ascii_lowercase();
        let refers = lower.contains("licenseref-") || lower.contains("documentref-");
        if !refers && spdx::Expression::parse(text).is_ok() {
            return text.to_string();
        }
        if let Some(id) = self.by_text.get(text) {
            return id.clone();
        }
        let base: String = text
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let base = format!("LicenseRef-{}", base.trim_matches('-'));
        let mut id = base.clone();
        let mut n = 1;
        while self.refs.contains_key(&id) {
            n += 1;
            id = format!("{base}-{n}");
        }
        self.refs.insert(id.clone(), text.to_string());
        self.by_text.insert(text.to_string(), id.clone());
        id
    }

    pub fn extracted(self) -> Vec<ExtractedLicense> {
        self.refs
            .into_iter()
            .map(|(license_id, text)| ExtractedLicense {
                license_id,
                name: text.clone(),
                extracted_text: text,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_stay_other_text_becomes_refs() {
        let mut l = Licenses::default();
        assert_eq!(l.declared("MIT AND BSD-3-Clause"), "MIT AND BSD-3-Clause");
        assert_eq!(l.declared("GPL-2.0-or-later"), "GPL-2.0-or-later");
        assert_eq!(l.declared("GPLv2+"), "LicenseRef-GPLv2");
        assert_eq!(l.declared("GPLv2-"), "LicenseRef-GPLv2-2");
        assert_eq!(l.declared("GPLv2+"), "LicenseRef-GPLv2");
        // A reference this document does not define is text like any other.
        assert_eq!(l.declared("LicenseRef-x"), "LicenseRef-LicenseRef-x");
        let x = l.extracted();
        assert_eq!(x.len(), 3);
        assert_eq!(x[0].extracted_text, "GPLv2+");
    }
}
