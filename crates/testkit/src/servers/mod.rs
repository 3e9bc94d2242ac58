//! Real servers for remote build contexts, each on a free loopback port and stopped on
//! drop: lighttpd serving files and git's `http-backend` (plain, basic auth, TLS), moto's
//! S3 server, the `gcp-storage-emulator` and Azurite. `.ci/run` installs them.

pub mod azure;
pub mod gcs;
pub mod git;
pub mod http;
pub mod s3;

use anyhow::{bail, Context, Result};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process with its private directory; killed and removed on drop.
pub struct Process {
    child: Child,
    pub dir: tempfile::TempDir,
    pub port: u16,
    log: PathBuf,
}

impl Process {
    /// Starts `cmd` (output to `<dir>/server.log`) and waits until `port` accepts
    /// connections.
    pub fn spawn(mut cmd: Command, dir: tempfile::TempDir, port: u16) -> Result<Process> {
        let log = dir.path().join("server.log");
        let out = std::fs::File::create(&log)?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("starting {cmd:?}"))?;
        let mut p = Process {
            child,
            dir,
            port,
            log,
        };
        p.wait_port(Duration::from_secs(60))?;
        Ok(p)
    }

    fn wait_port(&mut self, limit: Duration) -> Result<()> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                // Someone listens; make sure it is this server (a server that cannot bind
                // the port exits at once).
                std::thread::sleep(Duration::from_millis(100));
                if let Some(status) = self.child.try_wait()? {
                    bail!(
                        "server exited with {status} while port {} answered: {}",
                        self.port,
                        self.log_text()
                    );
                }
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("server exited with {status}: {}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!(
            "server did not listen on port {} in {limit:?}: {}",
            self.port,
            self.log_text()
        )
    }

    /// What the server printed so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a Python script (`python3 -c`) with arguments; fails with its stderr.
pub fn python(script: &str, args: &[&str]) -> Result<String> {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("running python3")?;
    if !out.status.success() {
        bail!("python3 failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `script` with `args` and then the path of a temporary file holding `bytes`.
pub fn python_with_file(script: &str, args: &[&str], bytes: &[u8]) -> Result<String> {
    let f = tempfile::NamedTempFile::new()?;
    std::fs::write(f.path(), bytes)?;
    let path = f.path().display().to_string();
    let mut all = args.to_vec();
    all.push(&path);
    python(script, &all)
}

/// A gzipped tar of the directory `dir`'s contents (GNU tar).
pub fn tar_gz(dir: &Path) -> Result<Vec<u8>> {
    let out = Command::new("tar")
        .arg("-C")
        .arg(dir)
        .args(["-czf", "-", "."])
        .output()
        .context("running tar")?;
    if !out.status.success() {
        bail!("tar failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(out.stdout)
}
