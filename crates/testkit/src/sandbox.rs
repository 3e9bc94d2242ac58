//! Runs the executor as a Pod would: in fresh mount and pid namespaces (`unshare`), chrooted
//! into a throwaway root that holds /kaniko/executor, with the context bind-mounted at
//! /workspace, a fresh /proc (the executor is pid 1), a minimal /dev with a tmpfs /dev/shm
//! and a read-only /sys; with Docker's default capabilities and a seccomp filter refusing
//! what Docker's default profile refuses ([`confine`]): no test depends on a privilege a
//! default Pod lacks. Every mount is private to the namespace and dies with it, so nothing
//! is mounted or written on the host's `/`; the executor unpacks images over the sandbox
//! root instead.

mod cleanup;
pub mod confine;
mod enter;
mod helper;

use anyhow::{bail, Context, Result};
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a run may take before it is killed, unless [`Sandbox::timeout`] says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// A throwaway pod-like root for one or more executor runs; removed on drop.
pub struct Sandbox {
    root: tempfile::TempDir,
    context: Option<PathBuf>,
    env: Vec<(String, String)>,
    timeout: Duration,
    /// Leave /proc unmounted (an empty directory).
    no_proc: bool,
    /// Leave the root a plain directory, not a mount point.
    plain_root: bool,
    /// Host directories bound into the root for each run (host path, path in the root).
    binds: Vec<(PathBuf, String)>,
    /// The first error from a builder method, reported by `run`.
    setup_error: Option<String>,
}

/// What the executor printed and its exit status (-1 if killed by a signal).
#[derive(Clone, Debug)]
pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Where the executor lives inside the root.
pub const EXECUTOR: &str = "/kaniko/executor";

/// Directories every sandbox root has.
const DIRS: [&str; 10] = [
    "kaniko/.docker",
    "kaniko/ssl/certs",
    "workspace",
    "proc",
    "dev",
    "sys",
    "tmp",
    "etc",
    "root",
    "var/run",
];

impl Sandbox {
    /// A root with /kaniko/executor (a copy of `executor`), /kaniko/.docker/, the host's CA
    /// bundle in /kaniko/ssl/certs, an empty /workspace, /etc/hosts, an empty
    /// /etc/resolv.conf and a `/.dockerenv` marker.
    pub fn new(executor: &Path) -> Result<Sandbox> {
        let root = tempfile::Builder::new().prefix("sandbox-").tempdir()?;
        let r = root.path();
        for d in DIRS {
            std::fs::create_dir_all(r.join(d))?;
        }
        std::fs::set_permissions(r.join("tmp"), std::fs::Permissions::from_mode(0o1777))?;
        let exe = r.join(EXECUTOR.trim_start_matches('/'));
        std::fs::copy(executor, &exe).with_context(|| format!("copying {}", executor.display()))?;
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755))?;
        let bundle = Path::new("/etc/ssl/certs/ca-certificates.crt");
        if bundle.is_file() {
            std::fs::copy(bundle, r.join("kaniko/ssl/certs/ca-certificates.crt"))?;
        }
        std::fs::write(r.join(".dockerenv"), "")?;
        std::fs::write(r.join("etc/hosts"), "127.0.0.1 localhost\n::1 localhost\n")?;
        std::fs::write(r.join("etc/resolv.conf"), "")?;
        Ok(Sandbox {
            root,
            context: None,
            env: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            no_proc: false,
            plain_root: false,
            binds: Vec::new(),
            setup_error: None,
        })
    }

    /// No container marker: the executor should think it runs on a host.
    pub fn without_container_marker(&mut self) -> &mut Self {
        let marker = self.root.path().join(".dockerenv");
        if let Err(e) = std::fs::remove_file(marker) {
            self.note(format!("removing /.dockerenv: {e}"));
        }
        self
    }

    /// No /proc in the root (to see the executor refuse to run without a mount table).
    pub fn without_proc(&mut self) -> &mut Self {
        self.no_proc = true;
        self
    }

    /// A root that is a plain directory, not a mount point (a container's root always is
    /// one; the executor must not need it).
    pub fn plain_root(&mut self) -> &mut Self {
        self.plain_root = true;
        self
    }

    /// The build context, bind-mounted at /workspace for each run.
    pub fn context(&mut self, dir: &Path) -> &mut Self {
        self.context = Some(dir.to_path_buf());
        self
    }

    /// Binds the host directory `host` at `path_in_root` for each run (a volume the Pod
    /// mounts, such as a cache shared between builds).
    pub fn bind(&mut self, host: &Path, path_in_root: &str) -> &mut Self {
        if !path_in_root.starts_with('/') || path_in_root.split('/').any(|c| c == "..") {
            self.note(format!(
                "{path_in_root}: want an absolute path without `..`"
            ));
            return self;
        }
        self.binds
            .push((host.to_path_buf(), path_in_root.to_string()));
        self
    }

    /// Binds a file holding `text` at /etc/hosts, as a Pod's runtime does (so that unpacking
    /// a base image over the root leaves it alone).
    pub fn hosts(&mut self, text: &str) -> &mut Self {
        let path = self.root.path().with_extension("hosts");
        if let Err(e) = std::fs::write(&path, text) {
            self.note(format!("writing {}: {e}", path.display()));
            return self;
        }
        self.bind(&path, "/etc/hosts")
    }

    /// Writes /kaniko/.docker/config.json.
    pub fn docker_config(&mut self, json: &str) -> &mut Self {
        self.file("/kaniko/.docker/config.json", json.as_bytes())
    }

    /// Writes a file in the root (e.g. "/kaniko/ssl/certs/ca.crt"), making its parents.
    pub fn file(&mut self, path_in_root: &str, contents: &[u8]) -> &mut Self {
        let rel = path_in_root.trim_start_matches('/');
        if rel.split('/').any(|c| c == "..") {
            self.note(format!("{path_in_root}: `..` would leave the root"));
            return self;
        }
        let p = self.root.path().join(rel);
        let written = p
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&p, contents));
        if let Err(e) = written {
            self.note(format!("writing {path_in_root}: {e}"));
        }
        self
    }

    /// One more environment variable for the executor (after kaniko's own, so it wins).
    pub fn env(&mut self, k: &str, v: &str) -> &mut Self {
        self.env.push((k.into(), v.into()));
        self
    }

    /// How long a run may take before it is killed (default ten minutes).
    pub fn timeout(&mut self, limit: Duration) -> &mut Self {
        self.timeout = limit;
        self
    }

    /// The sandbox root on the host, to inspect what a build left.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// Runs `/kaniko/executor ARGS` in the sandbox and waits for it.
    pub fn run(&self, args: &[&str]) -> Result<Output> {
        self.run_with_stdin(args, None)
    }

    /// Like [`run`](Self::run), with bytes on standard input.
    pub fn run_with_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Result<Output> {
        self.run_program(EXECUTOR, args, stdin)
    }

    /// Runs another program of the root (a path inside it) the same way; the tests use it
    /// to reach a multi-call binary through a symlink named after the applet.
    pub fn run_program(
        &self,
        program: &str,
        args: &[&str],
        stdin: Option<&[u8]>,
    ) -> Result<Output> {
        self.spawn_program(program, args, stdin)?.wait()
    }

    /// Starts `/kaniko/executor ARGS` without waiting (to signal it while it runs).
    pub fn spawn(&self, args: &[&str]) -> Result<Running> {
        self.spawn_program(EXECUTOR, args, None)
    }

    fn spawn_program(&self, program: &str, args: &[&str], stdin: Option<&[u8]>) -> Result<Running> {
        if let Some(e) = &self.setup_error {
            bail!("sandbox set-up failed: {e}");
        }
        let ctx = self.context.as_deref();
        let mut cmd = helper::command(
            self.root.path(),
            ctx,
            &self.binds,
            &self.env,
            self.no_proc,
            self.plain_root,
            (program, args),
        );
        start(&mut cmd, stdin, self.timeout)
    }

    fn note(&mut self, e: String) {
        self.setup_error.get_or_insert(e);
    }
}

/// Starts `cmd` with `stdin` fed to it (then closed) and its output captured; waiting kills
/// it past `timeout`. The containerd module runs `ctr` this way too.
pub(crate) fn start(cmd: &mut Command, stdin: Option<&[u8]>, timeout: Duration) -> Result<Running> {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {:?}", cmd.get_program()))?;
    let feeder = child
        .stdin
        .take()
        .zip(stdin.map(<[u8]>::to_vec))
        .map(|(mut w, data)| {
            // A write error means the program stopped reading: its exit status tells why.
            std::thread::spawn(move || {
                let _ = w.write_all(&data);
            })
        });
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    Ok(Running {
        child,
        feeder,
        stdout,
        stderr,
        timeout,
    })
}

/// An executor started with [`Sandbox::spawn`].
pub struct Running {
    child: Child,
    feeder: Option<std::thread::JoinHandle<()>>,
    stdout: std::thread::JoinHandle<String>,
    stderr: std::thread::JoinHandle<String>,
    timeout: Duration,
}

impl Running {
    /// The host pid of the sandboxed program (pid 1 of its namespace), once it exists.
    pub fn program_pid(&self) -> Option<i32> {
        let path = format!(
            "/proc/{}/task/{}/children",
            self.child.id(),
            self.child.id()
        );
        let text = std::fs::read_to_string(path).ok()?;
        text.split_whitespace().next()?.parse().ok()
    }

    /// Sends `signal` to the sandboxed program itself.
    pub fn signal(&self, signal: nix::sys::signal::Signal) -> Result<()> {
        let pid = self
            .program_pid()
            .context("the sandboxed program is not running")?;
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal)?;
        Ok(())
    }

    /// Waits for the program (killing it past the sandbox's time limit).
    pub fn wait(mut self) -> Result<Output> {
        let status = wait(&mut self.child, self.timeout);
        if let Some(f) = self.feeder {
            let _ = f.join();
        }
        Ok(Output {
            status: status?,
            stdout: self.stdout.join().unwrap_or_default(),
            stderr: self.stderr.join().unwrap_or_default(),
        })
    }
}

/// Reads a pipe to its end on a thread of its own.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Waits for `child` up to `limit`; past it kills `unshare`, whose `--kill-child` takes the
/// whole pid namespace down with it.
fn wait(child: &mut Child, limit: Duration) -> Result<i32> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait()? {
            return Ok(s.code().unwrap_or(-1));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("it ran longer than {limit:?} and was killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.root.path().with_extension("hosts"));
        self.root.disable_cleanup(true);
        if let Err(e) = cleanup::remove_root(self.root.path()) {
            eprintln!(
                "testkit: could not remove sandbox {}: {e}",
                self.root.path().display()
            );
        }
    }
}
