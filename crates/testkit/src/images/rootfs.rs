//! The busybox-static root file system the base images are made of, and its per-process cache.

use super::exec;
use anyhow::{bail, Context, Result};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
app:x:1000:1000:app:/home/app:/bin/sh\n\
nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const GROUP: &str = "root:x:0:\napp:x:1000:\nstaff:x:50:app\nnogroup:x:65534:\n";

/// Writes a busybox-static root file system into `dir`: /bin/busybox with every applet as a
/// symlink to it, /etc/passwd (root, app 1000:1000, nobody), /etc/group, /etc/hosts,
/// /tmp (1777), /root and /home/app (owned by app).
pub fn busybox_rootfs(dir: &Path) -> Result<()> {
    busybox_rootfs_from(dir, Path::new("/bin/busybox"))
}

/// [`busybox_rootfs`] with another busybox binary (another architecture's build of the same
/// Debian package: the applets are the host's list).
pub fn busybox_rootfs_from(dir: &Path, busybox: &Path) -> Result<()> {
    for d in ["bin", "etc", "tmp", "root", "home/app"] {
        std::fs::create_dir_all(dir.join(d))?;
    }
    std::fs::copy(busybox, dir.join("bin/busybox")).with_context(|| {
        format!(
            "copying {} (Debian package busybox-static)",
            busybox.display()
        )
    })?;
    let list = exec(Command::new("/bin/busybox").arg("--list"))?;
    for applet in list.lines().filter(|a| !a.is_empty() && *a != "busybox") {
        let link = dir.join("bin").join(applet);
        if link.symlink_metadata().is_err() {
            std::os::unix::fs::symlink("busybox", link)?;
        }
    }
    std::fs::write(dir.join("etc/passwd"), PASSWD)?;
    std::fs::write(dir.join("etc/group"), GROUP)?;
    std::fs::write(
        dir.join("etc/hosts"),
        "127.0.0.1 localhost\n::1 localhost\n",
    )?;
    std::os::unix::fs::chown(dir.join("home/app"), Some(1000), Some(1000))?;
    std::fs::set_permissions(dir.join("tmp"), std::fs::Permissions::from_mode(0o1777))?;
    std::fs::set_permissions(dir.join("root"), std::fs::Permissions::from_mode(0o700))?;
    Ok(())
}

/// The per-process cache (statics are never dropped, so [`remove_cache`] cleans it at exit).
static DIR: OnceLock<std::result::Result<tempfile::TempDir, String>> = OnceLock::new();

extern "C" fn remove_cache() {
    if let Some(Ok(d)) = DIR.get() {
        let _ = std::fs::remove_dir_all(d.path());
    }
}

/// The busybox root file system, made on first use and kept for the life of the process.
pub(super) fn busybox_dir() -> Result<&'static Path> {
    let d = DIR.get_or_init(|| {
        let d = tempfile::Builder::new()
            .prefix("busybox-rootfs-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        busybox_rootfs(d.path()).map_err(|e| format!("{e:#}"))?;
        // SAFETY: registers a plain function with no captured state to run at exit.
        unsafe { libc::atexit(remove_cache) };
        Ok(d)
    });
    match d {
        Ok(d) => Ok(d.path()),
        Err(e) => bail!("making the busybox rootfs: {e}"),
    }
}
