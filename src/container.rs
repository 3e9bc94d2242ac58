//! Whether this process runs inside a container. The executor unpacks images over its own
//! root, so outside a container it refuses to run unless `--force`.

use std::path::Path;

/// Signs of a container runtime, read from `root` (normally `/`) and the environment.
pub fn in_container(root: &Path, env: &dyn Fn(&str) -> Option<String>) -> bool {
    if env("container").is_some() || env("KUBERNETES_SERVICE_HOST").is_some() {
        return true;
    }
    if root.join(".dockerenv").exists() || root.join("run/.containerenv").exists() {
        return true;
    }
    let cgroup = std::fs::read_to_string(root.join("proc/1/cgroup")).unwrap_or_default();
    const RUNTIMES: [&str; 7] = [
        "docker",
        "kubepods",
        "containerd",
        "lxc",
        "libpod",
        "crio",
        "buildkit",
    ];
    cgroup
        .lines()
        .any(|l| RUNTIMES.iter().any(|r| l.contains(r)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_markers() {
        let dir = tempfile::tempdir().unwrap();
        let none = |_: &str| None;
        assert!(!in_container(dir.path(), &none));
        assert!(in_container(dir.path(), &|k: &str| (k == "container")
            .then(|| "podman".into())));
        std::fs::create_dir_all(dir.path().join("proc/1")).unwrap();
        std::fs::write(
            dir.path().join("proc/1/cgroup"),
            "0::/kubepods/burstable/pod1\n",
        )
        .unwrap();
        assert!(in_container(dir.path(), &none));
        std::fs::write(dir.path().join("proc/1/cgroup"), "0::/\n").unwrap();
        assert!(!in_container(dir.path(), &none));
        std::fs::write(dir.path().join(".dockerenv"), "").unwrap();
        assert!(in_container(dir.path(), &none));
    }
}
