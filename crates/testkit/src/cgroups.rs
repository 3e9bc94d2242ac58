//! Cleanup of the cgroups a private daemon's runtime left behind after it was killed.

use std::path::PathBuf;

/// Removes `/sys/fs/cgroup/<name>` and `/sys/fs/cgroup/<controller>/<name>` with the empty
/// cgroups directly below them (cgroup v1 and v2 layouts).
pub fn remove_tree(name: &str) {
    let Ok(controllers) = std::fs::read_dir("/sys/fs/cgroup") else {
        return;
    };
    let mut dirs = vec![PathBuf::from("/sys/fs/cgroup").join(name)];
    dirs.extend(controllers.flatten().map(|c| c.path().join(name)));
    for d in dirs.iter().filter(|d| d.is_dir()) {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                let _ = std::fs::remove_dir(e.path());
            }
        }
        let _ = std::fs::remove_dir(d);
    }
}
