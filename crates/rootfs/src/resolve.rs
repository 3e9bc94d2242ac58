//! Resolving a container path inside a root as a chroot would: symlinks are followed with
//! absolute targets taken relative to the root, and `..` never climbs above it.

use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};

const MAX_LINKS: usize = 255;

/// The container-absolute path `p` names inside `root`, following symlinks in every
/// component (and in the last one too when `follow_last`).
pub fn resolve_in_root(root: &Path, p: &Path, follow_last: bool) -> io::Result<PathBuf> {
    let mut todo: Vec<OsString> = components(p);
    todo.reverse();
    let mut done: Vec<OsString> = Vec::new();
    let mut links = 0;
    while let Some(c) = todo.pop() {
        if c == ".." {
            done.pop();
            continue;
        }
        let last = todo.is_empty();
        let mut candidate = done.clone();
        candidate.push(c.clone());
        let host = host_of(root, &candidate);
        match std::fs::symlink_metadata(&host) {
            Ok(m) if m.file_type().is_symlink() && (!last || follow_last) => {
                links += 1;
                if links > MAX_LINKS {
                    return Err(io::Error::other(format!(
                        "too many levels of symbolic links at {}",
                        p.display()
                    )));
                }
                let target = std::fs::read_link(&host)?;
                if target.is_absolute() {
                    done.clear();
                }
                let mut more = components(&target);
                more.reverse();
                todo.extend(more);
            }
            _ => done.push(c),
        }
    }
    let mut out = PathBuf::from("/");
    out.extend(done);
    Ok(out)
}

fn components(p: &Path) -> Vec<OsString> {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect()
}

fn host_of(root: &Path, comps: &[OsString]) -> PathBuf {
    let mut h = root.to_path_buf();
    h.extend(comps);
    h
}

/// The host path of a container-absolute path.
pub fn host_path(root: &Path, container: &Path) -> PathBuf {
    let mut h = root.to_path_buf();
    h.extend(
        container
            .components()
            .filter(|c| matches!(c, Component::Normal(_))),
    );
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn contained() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::create_dir_all(r.join("usr/lib")).unwrap();
        symlink("/kaniko", r.join("evil")).unwrap();
        symlink("../../../../lib", r.join("usr/lib/up")).unwrap();
        symlink("usr/lib", r.join("lib64")).unwrap();
        assert_eq!(
            resolve_in_root(r, Path::new("/evil/executor"), false).unwrap(),
            Path::new("/kaniko/executor")
        );
        assert_eq!(
            resolve_in_root(r, Path::new("/usr/lib/up/x"), false).unwrap(),
            Path::new("/lib/x")
        );
        assert_eq!(
            resolve_in_root(r, Path::new("/../../etc"), false).unwrap(),
            Path::new("/etc")
        );
        assert_eq!(
            resolve_in_root(r, Path::new("/lib64/a"), false).unwrap(),
            Path::new("/usr/lib/a")
        );
        assert_eq!(
            resolve_in_root(r, Path::new("/evil"), false).unwrap(),
            Path::new("/evil")
        );
        symlink("loop", r.join("loop")).unwrap();
        assert!(resolve_in_root(r, Path::new("/loop/x"), false).is_err());
    }
}
