//! `--kaniko-dir` (or `KANIKO_DIR`) other than /kaniko, as kaniko does it: the executor's own
//! /kaniko (its binary, `.docker/config.json`, CA certificates) is copied there and removed,
//! and `DOCKER_CONFIG` points into the copy. A build can then write /kaniko paths into its
//! image (the executor image building itself) without meeting, or packing, the running
//! executor's files. Unlike kaniko, mount points under /kaniko (a mounted secret) are left in
//! place instead of failing the run, and `SSL_CERT_DIR`/`SSL_CERT_FILE` follow the copy.

use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum RelocateError {
    #[error("--kaniko-dir {0} must be an absolute path outside /kaniko")]
    Inside(PathBuf),
    #[error("moving /kaniko to the kaniko dir: {0}: {1}")]
    Io(PathBuf, io::Error),
}

/// Moves `/kaniko` under `root` to `to` (a container path), leaving the mount points listed
/// in `mounts` (and the directories above them). Returns false when there was no /kaniko.
pub fn relocate(root: &Path, to: &Path, mounts: &[PathBuf]) -> Result<bool, RelocateError> {
    let old = Path::new(crate::cli::DEFAULT_KANIKO_DIR);
    if !to.is_absolute() || to.starts_with(old) {
        return Err(RelocateError::Inside(to.to_path_buf()));
    }
    let src = root.join(old.strip_prefix("/").unwrap_or(old));
    let dst = root.join(to.strip_prefix("/").unwrap_or(to));
    if !src.is_dir() {
        return Ok(false);
    }
    copy_tree(&src, &dst)?;
    let kept: Vec<PathBuf> = mounts
        .iter()
        .filter_map(|m| m.strip_prefix("/").ok())
        .map(|m| root.join(m))
        .collect();
    remove_except(&src, &kept)?;
    Ok(true)
}

/// Copies the tree at `src` to `dst`: directories, files with their modes, symlinks as links.
fn copy_tree(src: &Path, dst: &Path) -> Result<(), RelocateError> {
    for entry in walkdir::WalkDir::new(src).follow_links(false) {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(src).to_path_buf();
            RelocateError::Io(path, io::Error::other(e.to_string()))
        })?;
        let rel = entry.path().strip_prefix(src).unwrap_or(Path::new(""));
        let to = dst.join(rel);
        let io = |e| RelocateError::Io(entry.path().to_path_buf(), e);
        let ft = entry.file_type();
        if ft.is_dir() {
            std::fs::create_dir_all(&to).map_err(io)?;
            let perms = entry.metadata().map_err(|e| io(e.into()))?.permissions();
            std::fs::set_permissions(&to, perms).map_err(io)?;
        } else if ft.is_symlink() {
            let target = std::fs::read_link(entry.path()).map_err(io)?;
            std::os::unix::fs::symlink(target, &to).map_err(io)?;
        } else if ft.is_file() {
            std::fs::copy(entry.path(), &to).map_err(io)?;
        }
    }
    Ok(())
}

/// Removes `path` and everything below it except the paths in `kept` and their parents.
fn remove_except(path: &Path, kept: &[PathBuf]) -> Result<(), RelocateError> {
    let io = |e| RelocateError::Io(path.to_path_buf(), e);
    if kept.iter().any(|k| k == path) {
        return Ok(());
    }
    if !kept.iter().any(|k| k.starts_with(path)) {
        let meta = path.symlink_metadata().map_err(io)?;
        return if meta.is_dir() {
            std::fs::remove_dir_all(path).map_err(io)
        } else {
            std::fs::remove_file(path).map_err(io)
        };
    }
    for entry in std::fs::read_dir(path).map_err(io)? {
        remove_except(&entry.map_err(io)?.path(), kept)?;
    }
    Ok(())
}

/// [`relocate`] for this process: `/` and its mount table; then `DOCKER_CONFIG` points into
/// the new directory (for the programs the executor starts; the caller points its resolved
/// options there too) and certificate paths under /kaniko follow. Call it before any thread
/// starts (it sets environment variables). False when there was no /kaniko to move.
pub fn relocate_process(to: &Path) -> Result<bool, RelocateError> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mounts = rootfs::IgnoreList::from_mountinfo(&mountinfo);
    if !relocate(Path::new("/"), to, &mounts)? {
        return Ok(false);
    }
    std::env::set_var("DOCKER_CONFIG", to.join(".docker"));
    for var in ["SSL_CERT_DIR", "SSL_CERT_FILE"] {
        if let Some(moved) = std::env::var_os(var).and_then(|v| moved_path(Path::new(&v), to)) {
            std::env::set_var(var, moved);
        }
    }
    Ok(true)
}

/// Where a path under /kaniko is after the move, if it was under /kaniko.
fn moved_path(p: &Path, to: &Path) -> Option<PathBuf> {
    let rest = p.strip_prefix(crate::cli::DEFAULT_KANIKO_DIR).ok()?;
    Some(to.join(rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn tree(root: &Path) {
        for d in ["kaniko/.docker", "kaniko/ssl/certs", "kaniko/secret"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::write(root.join("kaniko/executor"), "binary").unwrap();
        std::fs::set_permissions(
            root.join("kaniko/executor"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        std::fs::write(root.join("kaniko/.docker/config.json"), "{}").unwrap();
        std::fs::write(root.join("kaniko/secret/token"), "t").unwrap();
        std::os::unix::fs::symlink("executor", root.join("kaniko/warmer")).unwrap();
    }

    #[test]
    fn moves_everything_but_mount_points() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        tree(root);
        let mounts = [PathBuf::from("/proc"), PathBuf::from("/kaniko/secret")];
        assert!(relocate(root, Path::new("/tmp/k"), &mounts).unwrap());
        let new = root.join("tmp/k");
        assert_eq!(std::fs::read(new.join("executor")).unwrap(), b"binary");
        let mode = new
            .join("executor")
            .metadata()
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
        assert_eq!(
            std::fs::read(new.join(".docker/config.json")).unwrap(),
            b"{}"
        );
        assert!(new.join("ssl/certs").is_dir());
        assert_eq!(
            std::fs::read_link(new.join("warmer")).unwrap(),
            Path::new("executor")
        );
        assert_eq!(std::fs::read(new.join("secret/token")).unwrap(), b"t");
        // Only the mount point (and /kaniko above it) stay.
        let left: Vec<_> = std::fs::read_dir(root.join("kaniko"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["secret"]);
        assert!(root.join("kaniko/secret/token").exists());
    }

    #[test]
    fn without_mounts_kaniko_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        tree(dir.path());
        assert!(relocate(dir.path(), Path::new("/kaniko-build"), &[]).unwrap());
        assert!(!dir.path().join("kaniko").exists());
        assert!(dir.path().join("kaniko-build/executor").is_file());
    }

    #[test]
    fn refuses_a_target_inside_kaniko_or_relative() {
        let dir = tempfile::tempdir().unwrap();
        tree(dir.path());
        for bad in ["/kaniko/sub", "/kaniko", "rel"] {
            assert!(matches!(
                relocate(dir.path(), Path::new(bad), &[]),
                Err(RelocateError::Inside(_))
            ));
        }
        assert!(
            dir.path().join("kaniko/executor").is_file(),
            "nothing moved"
        );
        let empty = tempfile::tempdir().unwrap();
        assert!(!relocate(empty.path(), Path::new("/k"), &[]).unwrap());
    }

    #[test]
    fn certificate_paths_follow() {
        let to = Path::new("/kaniko-build");
        assert_eq!(
            moved_path(Path::new("/kaniko/ssl/certs"), to),
            Some(PathBuf::from("/kaniko-build/ssl/certs"))
        );
        assert_eq!(moved_path(Path::new("/etc/ssl/certs"), to), None);
        assert_eq!(moved_path(Path::new("/kanikox/a"), to), None);
    }
}
