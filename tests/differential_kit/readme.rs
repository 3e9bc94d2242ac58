//! The lists in README.md the suite keeps true: between `<!-- conformance:NAME -->` and
//! `<!-- /conformance:NAME -->`, one bullet per case, the case's name first in backticks
//! (`` - `copy-foo`: why ``).

use std::collections::BTreeMap;

/// Case name → the rest of its bullet, for the list `name`.
pub fn list(readme: &str, name: &str) -> BTreeMap<String, String> {
    let open = format!("<!-- conformance:{name} -->");
    let close = format!("<!-- /conformance:{name} -->");
    let body = readme
        .split_once(&open)
        .and_then(|(_, rest)| rest.split_once(&close))
        .map(|(b, _)| b)
        .unwrap_or_else(|| panic!("README.md has no {open} … {close} list"));
    let mut out = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in body.lines() {
        if let Some(item) = line.strip_prefix("- `") {
            let (case, why) = item.split_once('`').unwrap_or((item, ""));
            let why = why.trim_start_matches(':').trim().to_string();
            out.insert(case.to_string(), why);
            current = Some(case.to_string());
        } else if let (Some(c), false) = (&current, line.trim().is_empty()) {
            let e = out.entry(c.clone()).or_default();
            e.push(' ');
            e.push_str(line.trim());
        }
    }
    out
}
