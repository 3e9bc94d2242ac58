//! The command line that enters the sandbox: `unshare` makes private mount and pid
//! namespaces, a small `sh` script mounts the pod-like file systems under the root, and
//! `env -i …` starts this very binary again with [`super::enter::MARK`], which chroots,
//! confines itself and execs the executor, as pid 1, with a clean environment.

use std::path::Path;
use std::process::Command;

/// The environment kaniko's image sets.
pub(super) const BASE_ENV: [(&str, &str); 6] = [
    (
        "PATH",
        "/usr/local/bin:/kaniko:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
    ),
    ("HOME", "/root"),
    ("USER", "root"),
    ("SSL_CERT_DIR", "/kaniko/ssl/certs"),
    ("DOCKER_CONFIG", "/kaniko/.docker/"),
    (
        "DOCKER_CREDENTIAL_GCR_CONFIG",
        "/kaniko/.config/gcloud/docker_credential_gcr_config.json",
    ),
];

/// Runs inside the new namespaces with `$1` the root, `$2` the context ("" for none) and
/// `$3` the number of host directories to bind (each a host path and a path in the root),
/// then execs the rest of its arguments. Every mount here is private to the namespace. The
/// root is bound on itself first, so that `/` is a mount point as in a container (unless
/// SANDBOX_PLAIN_ROOT is set).
/// /dev is a fresh tmpfs holding only the usual character devices (bound from the host's)
/// so that nothing under it can reach the host's /dev; /sys is a read-only sysfs.
const SCRIPT: &str = r#"set -eu
root=$1; ctx=$2; n=$3; shift 3
if [ -z "${SANDBOX_PLAIN_ROOT:-}" ]; then mount --bind "$root" "$root"; fi
if [ -n "$ctx" ]; then mount --bind "$ctx" "$root/workspace"; fi
while [ "$n" -gt 0 ]; do
  if [ -d "$1" ]; then mkdir -p "$root$2"
  else mkdir -p "$(dirname "$root$2")"; [ -e "$root$2" ] || : > "$root$2"; fi
  mount --bind "$1" "$root$2"; shift 2; n=$((n - 1))
done
if [ -z "${SANDBOX_NO_PROC:-}" ]; then mount -t proc -o nosuid,nodev,noexec proc "$root/proc"; fi
mount -t tmpfs -o nosuid,mode=755 tmpfs "$root/dev"
for d in null zero full random urandom tty; do
  : > "$root/dev/$d"
  mount --bind "/dev/$d" "$root/dev/$d"
done
mkdir -m 1777 "$root/dev/shm"
mount -t tmpfs -o nosuid,nodev tmpfs "$root/dev/shm"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
if ! mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys" 2>/dev/null; then
  mount --rbind /sys "$root/sys"
  mount -o remount,bind,ro "$root/sys"
fi
exec "$@""#;

/// The host command that runs `program ARGS` (a path inside the root) in the sandbox.
pub(super) fn command(
    root: &Path,
    context: Option<&Path>,
    binds: &[(std::path::PathBuf, String)],
    env: &[(String, String)],
    no_proc: bool,
    plain_root: bool,
    (program, args): (&str, &[&str]),
) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--mount",
        "--pid",
        "--fork",
        "--kill-child",
        "--propagation",
        "private",
        "--",
        "/bin/sh",
        "-c",
        SCRIPT,
        "sandbox",
    ]);
    cmd.arg(root)
        .arg(context.map(Path::as_os_str).unwrap_or_default())
        .arg(binds.len().to_string());
    for (host, inside) in binds {
        cmd.arg(host).arg(inside);
    }
    cmd.args(["/usr/bin/env", "-i"]);
    let base = BASE_ENV.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    for (k, v) in base.chain(env.iter().cloned()) {
        cmd.arg(format!("{k}={v}"));
    }
    // The hook lives in this binary: keep it linked in.
    std::hint::black_box(&super::enter::HOOK);
    let me = std::env::current_exe().unwrap_or_else(|_| "/proc/self/exe".into());
    cmd.arg(me)
        .arg(super::enter::MARK)
        .arg(root)
        .arg("/workspace")
        .arg(program)
        .args(args);
    cmd.env_clear().env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    if plain_root {
        cmd.env("SANDBOX_PLAIN_ROOT", "1");
    }
    if no_proc {
        cmd.env("SANDBOX_NO_PROC", "1");
    }
    cmd
}
