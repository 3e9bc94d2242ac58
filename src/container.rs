//! Whether this process runs inside a container. The executor unpacks images over its own
//! root, so outside a container it refuses to run unless `--force`.
//!
//! The rules are kaniko's (its `proc.GetContainerRuntime`), in its order: a runtime's name in
//! the cgroup file, OpenVZ's and gVisor's marks, a runtime's name in pid 1's command line,
//! WSL, the `container` variable naming a runtime, `/run/systemd/container`, the
//! `/run/.containerenv`, `/.dockerenv` and Kubernetes service-account files, and last an
//! overlay filesystem mounted on `/` (containerd, CRI-O).

use std::path::Path;

/// The names kaniko looks for, as substrings, in the cgroup file, pid 1's command line, the
/// `container` variable and `/run/systemd/container`.
const RUNTIMES: [&str; 12] = [
    "docker",
    "rkt",
    "systemd-nspawn",
    "lxc",
    "lxc-libvirt",
    "openvz",
    "kube",
    "garden",
    "podman",
    "gvisor",
    "firejail",
    "wsl",
];

/// Files whose presence marks a container (an error other than "not found" counts too).
const MARKER_FILES: [&str; 3] = [
    "run/.containerenv",
    ".dockerenv",
    "var/run/secrets/kubernetes.io/serviceaccount",
];

/// What showed that this is a container, for the log.
pub type Evidence = String;

/// The first sign of a container runtime, read from `root` (normally `/`) and the
/// environment; `None` on what looks like a host.
pub fn detect(root: &Path, env: &dyn Fn(&str) -> Option<String>) -> Option<Evidence> {
    let read = |p: &str| {
        let bytes = std::fs::read(root.join(p)).unwrap_or_default();
        String::from_utf8_lossy(&bytes).trim().to_string()
    };
    let exists = |p: &str| match std::fs::symlink_metadata(root.join(p)) {
        Ok(_) => true,
        Err(e) => e.kind() != std::io::ErrorKind::NotFound,
    };
    let named = |what: &str, text: &str| runtime_in(text).map(|r| format!("{r} in {what}"));
    named("/proc/self/cgroup", &read("proc/self/cgroup"))
        .or_else(|| {
            (exists("proc/vz") && !exists("proc/bc")).then(|| "openvz (/proc/vz)".to_string())
        })
        .or_else(|| exists("__runsc_containers__").then(|| "gvisor (/__runsc_containers__)".into()))
        .or_else(|| named("/proc/1/cmdline", &read("proc/1/cmdline")))
        .or_else(|| {
            read("proc/version_signature")
                .starts_with("Microsoft")
                .then(|| "wsl (/proc/version_signature)".into())
        })
        .or_else(|| named("$container", &env("container").unwrap_or_default()))
        .or_else(|| named("/run/systemd/container", &read("run/systemd/container")))
        .or_else(|| {
            MARKER_FILES
                .iter()
                .find(|f| exists(f))
                .map(|f| format!("/{f} exists"))
        })
        .or_else(|| {
            overlay_root(&read("proc/mounts"))
                .then(|| "overlay filesystem on / (/proc/mounts)".into())
        })
}

/// The first runtime name that `text` contains (kaniko ignores blank text).
fn runtime_in(text: &str) -> Option<&'static str> {
    if text.trim().is_empty() {
        return None;
    }
    RUNTIMES.iter().copied().find(|r| text.contains(r))
}

/// kaniko's `^[^ ]+ / overlay` on the whole (trimmed) mounts text: only the first line
/// counts, and it must be an overlay filesystem mounted on `/`.
fn overlay_root(mounts: &str) -> bool {
    match mounts.split_once(' ') {
        Some((source, rest)) => !source.is_empty() && rest.starts_with("/ overlay"),
        None => false,
    }
}

#[cfg(test)]
mod tests;
