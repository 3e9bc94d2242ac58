//! Paths the build never unpacks over nor snapshots: mount points, the kaniko dir,
//! `--ignore-path`, /var/run.

use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Default)]
pub struct IgnoreList {
    paths: Vec<PathBuf>,
}

impl IgnoreList {
    pub fn new(paths: impl IntoIterator<Item = PathBuf>) -> Self {
        let mut l = IgnoreList::default();
        for p in paths {
            l.add(p);
        }
        l
    }

    /// Mount points listed in /proc/self/mountinfo text (field 5, octal escapes decoded).
    pub fn from_mountinfo(text: &str) -> Vec<PathBuf> {
        text.lines()
            .filter_map(|l| l.split(' ').nth(4))
            .map(|p| PathBuf::from(unescape(p)))
            .collect()
    }

    pub fn add(&mut self, p: PathBuf) {
        let p = normalize(&p);
        if p != Path::new("/") && !self.paths.contains(&p) {
            self.paths.push(p);
        }
    }

    /// Whether the container path, or a directory above it, is ignored.
    pub fn is_ignored(&self, container_path: &Path) -> bool {
        if self.paths.is_empty() {
            return false;
        }
        if is_clean(container_path) {
            // The common case (walks, resolved paths): no allocation.
            return self.paths.iter().any(|i| container_path.starts_with(i));
        }
        let p = normalize(container_path);
        self.paths.iter().any(|i| p.starts_with(i))
    }

    /// Whether an ignored path lies strictly below `container_path` (replacing or removing
    /// it must then spare them).
    pub fn has_ignored_below(&self, container_path: &Path) -> bool {
        let p = normalize(container_path);
        self.paths.iter().any(|i| i != &p && i.starts_with(&p))
    }

    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }
}

/// Absolute with no `.` or `..` components.
fn is_clean(p: &Path) -> bool {
    use std::path::Component;
    p.has_root()
        && p.components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_)))
}

fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            std::path::Component::Normal(n) => out.push(n),
            std::path::Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_and_matching() {
        let mi = "22 27 0:21 / /proc rw - proc proc rw\n27 1 254:0 / / rw - ext4 /dev/vda rw\n30 27 0:5 / /work\\040space rw - tmpfs t rw\n";
        let l = IgnoreList::new(IgnoreList::from_mountinfo(mi));
        assert!(l.is_ignored(Path::new("/proc/1")));
        assert!(l.is_ignored(Path::new("/work space/x")));
        assert!(!l.is_ignored(Path::new("/etc")));
        assert!(!l.is_ignored(Path::new("/processes")));
        assert!(l.has_ignored_below(Path::new("/")));
        assert!(!l.has_ignored_below(Path::new("/proc")));
        assert!(!l.has_ignored_below(Path::new("/etc")));
        assert_eq!(l.paths().len(), 2, "the root mount is never ignored");
        assert!(l.is_ignored(Path::new("/etc/../proc/x")));
        assert!(
            l.is_ignored(Path::new("proc")),
            "relative paths are taken from the root"
        );
        assert!(!l.is_ignored(Path::new("/proc/../etc")));
    }
}
