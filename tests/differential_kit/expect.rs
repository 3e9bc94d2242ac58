//! Expected-output files: current BuildKit's answer for a case where the daemon's BuildKit
//! v0.8 answers otherwise (or cannot parse the Dockerfile). Each names its evidence in a
//! `# source: <file in moby/buildkit>: <what it does>` line; the other lines are checks on
//! our image:
//!
//! ```text
//! file /path "content as a JSON string"
//! mode /path 644            (permission bits, octal)
//! owner /path 1000:1000
//! mtime /path 1600000000    (seconds)
//! symlink /path target
//! absent /path
//! config Field <JSON>       (as in the image config; unset forms count as null)
//! fails                     (the build must fail)
//! ```

use super::compare::normal;
use super::image::{Image, Kind};

/// Whether the text names its source.
pub fn has_source(text: &str) -> bool {
    text.lines()
        .any(|l| l.starts_with("# source: ") && l.len() > 20)
}

/// Whether the file says the build must fail.
pub fn must_fail(text: &str) -> bool {
    text.lines().any(|l| l.trim() == "fails")
}

/// The checks `img` does not pass, one line each.
pub fn check(text: &str, img: &Image) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line == "fails" {
            continue;
        }
        let (kw, rest) = line.split_once(' ').unwrap_or((line, ""));
        let (path, arg) = rest.split_once(' ').unwrap_or((rest, ""));
        let node = img.files.get(path.trim_start_matches('/'));
        let got = match (kw, node) {
            ("config", _) => {
                let want: serde_json::Value = match serde_json::from_str(arg) {
                    Ok(v) => v,
                    Err(e) => {
                        out.push(format!("{line}: bad JSON: {e}"));
                        continue;
                    }
                };
                let got = normal(img.config["config"].get(path));
                (got != normal(Some(&want))).then(|| got.to_string())
            }
            ("absent", n) => n.map(super::compare::describe),
            (_, None) => Some("missing".into()),
            ("file", Some(n)) => {
                let want: String = serde_json::from_str(arg).unwrap_or_default();
                let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(want.as_bytes()));
                (n.kind != Kind::File || n.digest != digest)
                    .then(|| format!("{} ({} bytes)", super::compare::describe(n), n.size))
            }
            ("mode", Some(n)) => (format!("{:o}", n.mode) != arg).then(|| format!("{:o}", n.mode)),
            ("mtime", Some(n)) => (n.mtime.to_string() != arg).then(|| n.mtime.to_string()),
            ("owner", Some(n)) => {
                let o = format!("{}:{}", n.uid, n.gid);
                (o != arg).then_some(o)
            }
            ("symlink", Some(n)) => {
                (n.kind != Kind::Symlink || n.link != arg).then(|| super::compare::describe(n))
            }
            _ => Some("unknown check".into()),
        };
        if let Some(g) = got {
            out.push(format!("expected `{line}`, got {g}"));
        }
    }
    out
}
