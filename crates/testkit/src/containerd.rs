//! Debian's containerd, started privately for a test: its own root, state directory, socket
//! and `ctr` namespace in a temporary directory, never the host's defaults. It runs in new
//! mount and pid namespaces (`unshare --kill-child`) with a tmpfs over /run, so the paths
//! containerd 1.6 and its shims hard-code there (/run/containerd/s, the runc root) are
//! private too; every overlay mount, shim and container dies with it. `ctr` is run inside
//! the same namespaces (`nsenter`), with exactly the arguments a user would type.

pub use crate::sandbox::Output as CtrOutput;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long one `ctr` call may take unless the caller says otherwise.
pub const CTR_TIMEOUT: Duration = Duration::from_secs(300);

/// A running private containerd; stopped, with everything it started, on drop.
pub struct Containerd {
    dir: tempfile::TempDir,
    child: Child,
    /// The containerd namespace `ctr` uses (also the cgroup parent of its containers).
    pub namespace: String,
}

/// The daemon's configuration: every path inside `dir`, the CRI plugin off.
fn config(dir: &Path) -> String {
    let d = dir.display();
    format!(
        r#"version = 2
root = "{d}/root"
state = "{d}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "{d}/containerd.sock"
[ttrpc]
  address = "{d}/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "{d}/opt"
"#
    )
}

impl Containerd {
    /// Starts containerd and waits (up to 30 s) until `ctr version` answers.
    pub fn start() -> Result<Containerd> {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let dir = tempfile::Builder::new().prefix("containerd-").tempdir()?;
        let cfg = dir.path().join("config.toml");
        std::fs::write(&cfg, config(dir.path()))?;
        let log = std::fs::File::create(dir.path().join("containerd.log"))?;
        let child = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "--pid", "--fork"])
            .args(["--kill-child", "--mount-proc", "sh", "-c"])
            .arg("mount -t tmpfs -o mode=0755 tmpfs /run && exec containerd --config \"$1\"")
            .arg("sh")
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting containerd (Debian package containerd)")?;
        let n = COUNT.fetch_add(1, Ordering::SeqCst);
        let namespace = format!("kaniko-rs-{}-{n}", std::process::id());
        let c = Containerd {
            dir,
            child,
            namespace,
        };
        c.wait_ready()?;
        Ok(c)
    }

    fn wait_ready(&self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.socket().exists() {
                let out = self.ctr(&["version"], None, Duration::from_secs(10))?;
                if out.status == 0 {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("containerd did not start: {}", self.log())
    }

    /// containerd's pid on the host: `unshare`'s only child, pid 1 of the new namespace.
    pub fn daemon_pid(&self) -> Result<u32> {
        let me = self.child.id();
        let children = std::fs::read_to_string(format!("/proc/{me}/task/{me}/children"))
            .context("reading unshare's children")?;
        children
            .split_whitespace()
            .next()
            .and_then(|p| p.parse().ok())
            .context("containerd is not running")
    }

    /// The daemon's gRPC socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("containerd.sock")
    }

    /// A directory for the test's own files, removed with the daemon.
    pub fn scratch(&self, name: &str) -> Result<PathBuf> {
        let p = self.dir.path().join("scratch").join(name);
        std::fs::create_dir_all(&p)?;
        Ok(p)
    }

    /// containerd's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("containerd.log")).unwrap_or_default()
    }

    /// Runs `ctr --address SOCKET --namespace NS ARGS` in the daemon's mount namespace,
    /// with `stdin` fed to it, killed after `limit`.
    pub fn ctr(&self, args: &[&str], stdin: Option<&[u8]>, limit: Duration) -> Result<CtrOutput> {
        let mut cmd = Command::new("nsenter");
        cmd.arg(format!("--target={}", self.daemon_pid()?))
            .args(["--mount", "--pid", "--", "ctr", "--address"])
            .arg(self.socket())
            .args(["--namespace", &self.namespace])
            .args(args);
        crate::sandbox::start(&mut cmd, stdin, limit)?
            .wait()
            .with_context(|| format!("ctr {args:?}"))
    }

    /// [`ctr`](Self::ctr) that must succeed; returns its stdout.
    pub fn ctr_ok(&self, args: &[&str]) -> Result<String> {
        let out = self.ctr(args, None, CTR_TIMEOUT)?;
        if out.status != 0 {
            bail!(
                "ctr {args:?} exited {}: {}{}",
                out.status,
                out.stdout,
                out.stderr
            );
        }
        Ok(out.stdout)
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        // `--kill-child`: the daemon, as pid 1 of its namespace, takes every shim and
        // container with it; the private mounts go with the last of them.
        let daemon = self.daemon_pid().ok();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let deadline = Instant::now() + Duration::from_secs(10);
        // SIGKILL reaches it through unshare's death; wait until it is gone (and reaped).
        while let Some(pid) = daemon {
            if Instant::now() >= deadline || !Path::new(&format!("/proc/{pid}")).exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        while Instant::now() < deadline && self.dir.path().join("root").exists() {
            if std::fs::remove_dir_all(self.dir.path().join("root")).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        crate::cgroups::remove_tree(&self.namespace);
    }
}
