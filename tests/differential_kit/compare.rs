//! What must be equal between BuildKit's image and ours, and what is noise.
//!
//! Files: every path but those a container runtime makes or binds (`/etc/hosts`,
//! `/etc/resolv.conf`, `/etc/hostname`, `/.dockerenv`, `/proc`, `/sys`, `/dev`, and the
//! root itself) with its type, mode, owner, size, content, link target, and which other
//! paths are hard links to it. Times: a build writes "now", so the mtime of a file or
//! symlink is compared only where it is deterministic, when either side's mtime predates
//! the suite (a time copied from the context, which the suite sets to a fixed value, or one
//! kept from the base image). Directory times are not compared with the daemon: its
//! BuildKit v0.8 gives copied directories the time of the copy, current BuildKit the
//! source's (case `copy-directory-times` checks ours against the source), and the runtime's
//! files change the times of `/` and `/etc`.
//!
//! Config: `Env`, `Cmd`, `Entrypoint`, `WorkingDir`, `User`, `Labels`, `ExposedPorts`,
//! `Volumes`, `StopSignal`, `Healthcheck`, `Shell`, `OnBuild`, `ArgsEscaped`, and the
//! image's `author`, `architecture`, `os`; a field that is absent, null, `[]` or `{}` counts
//! as unset. History and `created` are not compared.

use super::image::{Image, Kind, Node};
use std::collections::{BTreeMap, BTreeSet};

const NOISE: [&str; 7] = [
    "etc/hosts",
    "etc/resolv.conf",
    "etc/hostname",
    ".dockerenv",
    "proc",
    "sys",
    "dev",
];

pub const CONFIG_FIELDS: [&str; 13] = [
    "Env",
    "Cmd",
    "Entrypoint",
    "WorkingDir",
    "User",
    "Labels",
    "ExposedPorts",
    "Volumes",
    "StopSignal",
    "Healthcheck",
    "Shell",
    "OnBuild",
    "ArgsEscaped",
];

pub fn is_noise(path: &str) -> bool {
    NOISE
        .iter()
        .any(|n| path == *n || path.starts_with(&format!("{n}/")))
}

/// The differences, one line each (empty when the images agree). `before` is a Unix time
/// no build of this run wrote.
pub fn compare(theirs: &Image, ours: &Image, before: u64) -> Vec<String> {
    let mut out = Vec::new();
    let paths: BTreeSet<&String> = theirs.files.keys().chain(ours.files.keys()).collect();
    for p in paths.into_iter().filter(|p| !is_noise(p)) {
        match (theirs.files.get(p), ours.files.get(p)) {
            (Some(t), None) => {
                out.push(format!("/{p}: only in BuildKit's image ({})", describe(t)))
            }
            (None, Some(o)) => out.push(format!("/{p}: only in ours ({})", describe(o))),
            (Some(t), Some(o)) => out.extend(node_diffs(p, t, o, before)),
            (None, None) => {}
        }
    }
    let (lt, lo) = (links(theirs), links(ours));
    for p in lt.keys().chain(lo.keys()).collect::<BTreeSet<_>>() {
        let (a, b) = (lt.get(p), lo.get(p));
        if a != b {
            out.push(format!("/{p}: hard links BuildKit {a:?}, ours {b:?}"));
        }
    }
    out.extend(config_diffs(&theirs.config, &ours.config));
    out
}

pub fn describe(n: &Node) -> String {
    match &n.kind {
        Kind::File => format!("file {:o} {}:{} {} bytes", n.mode, n.uid, n.gid, n.size),
        Kind::Symlink => format!("symlink -> {}", n.link),
        k => format!("{k:?} {:o} {}:{}", n.mode, n.uid, n.gid),
    }
}

fn node_diffs(p: &str, t: &Node, o: &Node, before: u64) -> Vec<String> {
    let mut d = Vec::new();
    let mut field = |name: &str, a: String, b: String| {
        if a != b {
            d.push(format!("/{p}: {name} BuildKit {a}, ours {b}"));
        }
    };
    field("type", format!("{:?}", t.kind), format!("{:?}", o.kind));
    if t.kind != o.kind {
        return d;
    }
    if t.kind != Kind::Symlink {
        field("mode", format!("{:o}", t.mode), format!("{:o}", o.mode));
    }
    field(
        "owner",
        format!("{}:{}", t.uid, t.gid),
        format!("{}:{}", o.uid, o.gid),
    );
    match t.kind {
        Kind::File if t.digest != o.digest => match (&t.text, &o.text) {
            (Some(a), Some(b)) => field("content", format!("{a:?}"), format!("{b:?}")),
            _ => field(
                "size/sha256",
                format!("{}/{}", t.size, &t.digest[..12]),
                format!("{}/{}", o.size, &o.digest[..12]),
            ),
        },
        Kind::Symlink => field("link target", t.link.clone(), o.link.clone()),
        _ => {}
    }
    if t.kind != Kind::Dir && (t.mtime < before || o.mtime < before) {
        field("mtime", t.mtime.to_string(), o.mtime.to_string());
    }
    d
}

/// For each path with hard links (outside the noise): the other paths of its inode.
fn links(img: &Image) -> BTreeMap<String, Vec<String>> {
    let mut by_inode: BTreeMap<usize, Vec<&String>> = BTreeMap::new();
    for (p, n) in img
        .files
        .iter()
        .filter(|(p, n)| n.kind == Kind::File && !is_noise(p))
    {
        by_inode.entry(n.inode).or_default().push(p);
    }
    let mut out = BTreeMap::new();
    for group in by_inode.values().filter(|g| g.len() > 1) {
        for p in group {
            let others = group
                .iter()
                .filter(|o| *o != p)
                .map(|o| o.to_string())
                .collect();
            out.insert(p.to_string(), others);
        }
    }
    out
}

/// A config value with unset forms (absent, null, `[]`, `{}`) as null.
pub fn normal(v: Option<&serde_json::Value>) -> serde_json::Value {
    match v {
        None | Some(serde_json::Value::Null) => serde_json::Value::Null,
        Some(serde_json::Value::Array(a)) if a.is_empty() => serde_json::Value::Null,
        Some(serde_json::Value::Object(o)) if o.is_empty() => serde_json::Value::Null,
        Some(v) => v.clone(),
    }
}

fn config_diffs(t: &serde_json::Value, o: &serde_json::Value) -> Vec<String> {
    let mut d = Vec::new();
    for f in CONFIG_FIELDS {
        let (a, b) = (normal(t["config"].get(f)), normal(o["config"].get(f)));
        if a != b {
            d.push(format!("config {f}: BuildKit {a}, ours {b}"));
        }
    }
    for f in ["author", "architecture", "os"] {
        let (a, b) = (normal(t.get(f)), normal(o.get(f)));
        if a != b {
            d.push(format!("image {f}: BuildKit {a}, ours {b}"));
        }
    }
    d
}
