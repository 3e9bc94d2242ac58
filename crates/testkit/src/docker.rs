//! Debian's Docker daemon (`docker.io`), started privately for a test: its own data root,
//! exec root, pid file and socket in a temporary directory, never the host's defaults. It
//! runs as [`crate::containerd`] does, in new mount and pid namespaces (`unshare
//! --kill-child`) with a tmpfs over /run, so the managed containerd, its shims and every
//! overlay mount are private and die with it. No bridge and no iptables rules (this machine
//! kind has neither): containers and builds use `--network host`. The client is the 20.10
//! one from the same package (`/usr/bin/docker`), which still carries BuildKit
//! (`DOCKER_BUILDKIT=1 docker build`); it talks to the daemon through the socket only.

use crate::sandbox::Output;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The client of Debian's docker.io (the one on PATH may be a newer client without buildx).
pub const CLIENT: &str = "/usr/bin/docker";

/// How long one client call may take unless the caller says otherwise.
pub const DOCKER_TIMEOUT: Duration = Duration::from_secs(600);

/// A running private dockerd; stopped, with every container it started, on drop.
pub struct Docker {
    dir: tempfile::TempDir,
    child: Child,
    /// The cgroup parent of its containers (removed on drop).
    cgroup_parent: String,
}

impl Docker {
    /// Starts dockerd and waits (up to 60 s) until `docker version` answers.
    pub fn start() -> Result<Docker> {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        if !Path::new("/usr/sbin/dockerd").exists() || !Path::new(CLIENT).exists() {
            bail!("dockerd or {CLIENT} missing: install Debian's docker.io");
        }
        let dir = tempfile::Builder::new().prefix("dockerd-").tempdir()?;
        let d = dir.path();
        for sub in ["data", "exec", "config"] {
            std::fs::create_dir_all(d.join(sub))?;
        }
        let n = COUNT.fetch_add(1, Ordering::SeqCst);
        let cgroup_parent = format!("kaniko-rs-docker-{}-{n}", std::process::id());
        let log = std::fs::File::create(d.join("dockerd.log"))?;
        let script = "mount -t tmpfs -o mode=0755 tmpfs /run && exec dockerd \"$@\"";
        let child = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "--pid", "--fork"])
            .args(["--kill-child", "--mount-proc", "sh", "-c", script, "sh"])
            .args(["--iptables=false", "--ip-masq=false", "--bridge=none"])
            .args(["--userland-proxy=false", "--storage-driver=overlay2"])
            .arg(format!("--data-root={}", d.join("data").display()))
            .arg(format!("--exec-root={}", d.join("exec").display()))
            .arg(format!("--pidfile={}", d.join("dockerd.pid").display()))
            .arg(format!("--host=unix://{}", d.join("docker.sock").display()))
            .arg(format!("--cgroup-parent={cgroup_parent}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting dockerd (Debian package docker.io)")?;
        let docker = Docker {
            dir,
            child,
            cgroup_parent,
        };
        docker.wait_ready()?;
        Ok(docker)
    }

    fn wait_ready(&self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self.socket().exists() {
                let out = self.docker(&["version"], None, Duration::from_secs(10))?;
                if out.status == 0 {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("dockerd did not start: {}", self.log())
    }

    /// The daemon's API socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("docker.sock")
    }

    /// `DOCKER_HOST` for this daemon.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    /// A directory for the test's own files, removed with the daemon.
    pub fn scratch(&self, name: &str) -> Result<PathBuf> {
        let p = self.dir.path().join("scratch").join(name);
        std::fs::create_dir_all(&p)?;
        Ok(p)
    }

    /// dockerd's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dockerd.log")).unwrap_or_default()
    }

    /// The client command with this daemon's host and a private client config, so that
    /// nothing of the host's `~/.docker` is read or written.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(CLIENT);
        cmd.env("DOCKER_HOST", self.host())
            .env("DOCKER_CONFIG", self.dir.path().join("config"))
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_TLS_VERIFY");
        cmd
    }

    /// Runs `docker ARGS` against this daemon with `stdin` fed to it, killed after `limit`.
    pub fn docker(&self, args: &[&str], stdin: Option<&[u8]>, limit: Duration) -> Result<Output> {
        let mut cmd = self.command();
        cmd.args(args);
        crate::sandbox::start(&mut cmd, stdin, limit)?
            .wait()
            .with_context(|| format!("docker {args:?}"))
    }

    /// [`docker`](Self::docker) that must succeed; returns its stdout.
    pub fn docker_ok(&self, args: &[&str]) -> Result<String> {
        let out = self.docker(args, None, DOCKER_TIMEOUT)?;
        if out.status != 0 {
            bail!(
                "docker {args:?} exited {}: {}{}",
                out.status,
                out.stdout,
                out.stderr
            );
        }
        Ok(out.stdout)
    }

    /// `DOCKER_BUILDKIT=1 docker build --network host ARGS CONTEXT` (the daemon's BuildKit).
    pub fn buildkit_build(&self, context: &Path, args: &[&str]) -> Result<Output> {
        let mut cmd = self.command();
        cmd.env("DOCKER_BUILDKIT", "1")
            .args(["build", "--network", "host", "--progress", "plain"])
            .args(args)
            .arg(context);
        crate::sandbox::start(&mut cmd, None, DOCKER_TIMEOUT)?
            .wait()
            .with_context(|| format!("docker build {args:?}"))
    }

    /// The daemon's pid on the host: `unshare`'s only child.
    fn daemon_pid(&self) -> Option<u32> {
        let me = self.child.id();
        std::fs::read_to_string(format!("/proc/{me}/task/{me}/children"))
            .ok()?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }
}

impl Drop for Docker {
    fn drop(&mut self) {
        let daemon = self.daemon_pid();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let deadline = Instant::now() + Duration::from_secs(15);
        while let Some(pid) = daemon {
            if Instant::now() >= deadline || !Path::new(&format!("/proc/{pid}")).exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let data = self.dir.path().join("data");
        while Instant::now() < deadline && data.exists() {
            if std::fs::remove_dir_all(&data).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        crate::cgroups::remove_tree(&self.cgroup_parent);
    }
}
