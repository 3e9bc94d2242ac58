//! RUN: executes a command directly in the build root, as the stage's user, in its working
//! directory, with its environment. In a Pod the build root is `/`; any other root is entered
//! with chroot (tests).

use super::user::Identity;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Docker's default PATH when the image sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

pub struct Process<'a> {
    pub root: &'a Path,
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub workdir: String,
    pub user: Identity,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("exec: {0:?}: executable file not found in $PATH")]
    NotFound(String),
    #[error("empty command")]
    Empty,
    #[error("starting {0:?}: {1}")]
    Spawn(String, std::io::Error),
    #[error("command {cmd:?} returned a non-zero code: {code}")]
    Failed { cmd: String, code: i32 },
    #[error("command {cmd:?} was killed by signal {signal}")]
    Signaled { cmd: String, signal: i32 },
}

impl Process<'_> {
    fn env_value(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Finds argv[0] through PATH inside the root; returns the path as seen inside the root.
    fn resolve_program(&self) -> Result<String, RunError> {
        let prog = self.argv.first().ok_or(RunError::Empty)?;
        if prog.contains('/') {
            return Ok(prog.clone());
        }
        let path = self.env_value("PATH").unwrap_or(DEFAULT_PATH);
        for dir in path.split(':').filter(|d| !d.is_empty()) {
            let inside = format!("{}/{prog}", dir.trim_end_matches('/'));
            let host = host_path(self.root, &inside);
            if let Ok(m) = std::fs::metadata(&host) {
                if m.is_file()
                    && std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0
                {
                    return Ok(inside);
                }
            }
        }
        Err(RunError::NotFound(prog.clone()))
    }

    /// Runs to completion with stdout and stderr passed through.
    pub fn run(&self) -> Result<(), RunError> {
        let program = self.resolve_program()?;
        let shown = self.argv.join(" ");
        let mut cmd = Command::new(&program);
        cmd.args(&self.argv[1..]).env_clear();
        let mut env = self.env.clone();
        if self.env_value("PATH").is_none() {
            env.push(("PATH".into(), DEFAULT_PATH.into()));
        }
        if self.env_value("HOME").is_none() {
            env.push((
                "HOME".into(),
                self.user.home.clone().unwrap_or_else(|| "/".into()),
            ));
        }
        cmd.envs(env);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit());
        let root = self.root.to_path_buf();
        let workdir = OsString::from(if self.workdir.is_empty() {
            "/"
        } else {
            &self.workdir
        });
        let id = self.user.clone();
        // SAFETY: the closure only makes async-signal-safe syscalls (chroot, chdir, setgroups,
        // setgid, setuid) on values prepared before fork.
        unsafe {
            cmd.pre_exec(move || enter(&root, &workdir, &id));
        }
        let status = cmd
            .status()
            .map_err(|e| RunError::Spawn(shown.clone(), e))?;
        match (status.code(), status.signal()) {
            (Some(0), _) => Ok(()),
            (Some(code), _) => Err(RunError::Failed { cmd: shown, code }),
            (None, Some(signal)) => Err(RunError::Signaled { cmd: shown, signal }),
            (None, None) => Err(RunError::Failed {
                cmd: shown,
                code: -1,
            }),
        }
    }
}

fn enter(root: &Path, workdir: &OsString, id: &Identity) -> std::io::Result<()> {
    if root != Path::new("/") {
        nix::unistd::chroot(root)?;
    }
    if nix::unistd::chdir(Path::new(workdir)).is_err() {
        nix::unistd::chdir("/")?;
    }
    let groups: Vec<nix::unistd::Gid> = id
        .groups
        .iter()
        .map(|g| nix::unistd::Gid::from_raw(*g))
        .collect();
    nix::unistd::setgroups(&groups)?;
    nix::unistd::setgid(nix::unistd::Gid::from_raw(id.gid))?;
    nix::unistd::setuid(nix::unistd::Uid::from_raw(id.uid))?;
    Ok(())
}

/// The host path of a container-absolute path under `root` (no symlink resolution).
pub fn host_path(root: &Path, inside: &str) -> PathBuf {
    let rel = inside.trim_start_matches('/');
    if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(std::ffi::OsStr::from_bytes(rel.as_bytes()))
    }
}
