//! RUN: executes a command directly in the build root, as the stage's user, in its working
//! directory, with its environment. In a Pod the build root is `/`; any other root is entered
//! with chroot (tests). The command runs in a process group of its own, so the executor can
//! stop it and every child it left (see [`kill_running`]). `--mount` targets are put in
//! place by the executor before the command starts and taken away after it
//! ([`super::mounts`]); `--network=none` is a seccomp filter the child installs on itself
//! ([`super::netfilter`]). Nothing here needs a privilege a default container lacks.

use super::child::{ChildSetup, Exec};
use super::exec_format::ExecFormat;
use super::{mounts, netfilter, Snap};
use crate::root::BuildRoot;
use crate::stage::state::StageState;
use crate::user::{self, Identity};
use crate::BuildError;
use dockerfile::{Command as DfCommand, CommandLine};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use tracing::info;

/// Docker's default PATH when the image sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The process group of the RUN in progress (0: none).
static RUNNING: AtomicI32 = AtomicI32::new(0);
/// Set once the build is being stopped: no RUN starts after it.
static STOPPING: AtomicBool = AtomicBool::new(false);

/// Sends `signal` to the RUN in progress and every process of its group (for SIGTERM);
/// from then on no RUN starts (one whose mounts are being put in place never runs).
pub fn kill_running(signal: nix::sys::signal::Signal) {
    STOPPING.store(true, Ordering::SeqCst);
    let pgid = RUNNING.load(Ordering::SeqCst);
    if pgid > 0 {
        let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid), signal);
    }
}

pub struct Process<'a> {
    pub root: &'a BuildRoot,
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub workdir: String,
    pub user: Identity,
    /// `--network=none`: the seccomp program the child installs.
    pub no_network: Option<seccompiler::BpfProgram>,
    /// Variables for this command only (secrets), never logged.
    pub extra_env: Vec<(OsString, OsString)>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("exec: {0:?}: executable file not found in $PATH")]
    NotFound(String),
    #[error("empty command")]
    Empty,
    #[error("starting {0:?}: {1}")]
    Spawn(String, std::io::Error),
    #[error("starting {0:?}: {1}: {2}")]
    Setup(String, &'static str, std::io::Error),
    #[error("starting {cmd:?}: {program} cannot be executed here: {why}")]
    ExecFormat {
        cmd: String,
        program: String,
        why: String,
    },
    #[error("command {cmd:?} returned a non-zero code: {code}")]
    Failed { cmd: String, code: i32 },
    #[error("command {cmd:?} was killed by signal {signal}")]
    Signaled { cmd: String, signal: i32 },
    #[error("command {0:?} not started: the build is stopping")]
    Stopping(String),
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
            let Ok(host) = self.root.host_for_read(&inside) else {
                continue;
            };
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

    /// The error for a program the kernel refused to execute: what it is, what is missing.
    fn exec_format(&self, shown: &str, program: &str) -> RunError {
        let format = self
            .root
            .host_for_read(program)
            .ok()
            .and_then(|host| ExecFormat::of(&host).ok())
            .unwrap_or(ExecFormat::Unknown);
        RunError::ExecFormat {
            cmd: shown.to_string(),
            program: program.to_string(),
            why: format.explain(),
        }
    }

    /// The command's environment: the image's and the step's, Docker's PATH and HOME when
    /// unset, then this command's own variables; a later value wins.
    fn environment(&self) -> BTreeMap<OsString, OsString> {
        let mut env: BTreeMap<OsString, OsString> =
            self.env.iter().map(|(k, v)| (k.into(), v.into())).collect();
        env.entry("PATH".into())
            .or_insert_with(|| DEFAULT_PATH.into());
        let home = self.user.home.clone().unwrap_or_else(|| "/".into());
        env.entry("HOME".into()).or_insert_with(|| home.into());
        env.extend(self.extra_env.iter().cloned());
        env
    }

    /// The command (stdio, its process group) and what the child execs, made before fork.
    fn command(&self, program: &str) -> std::io::Result<(Command, Exec)> {
        let args = self.argv[1..].iter().map(|a| a.as_bytes());
        let env = self.environment().into_iter().map(|(k, v)| {
            let mut kv = k.into_vec();
            kv.push(b'=');
            kv.extend(v.into_vec());
            kv
        });
        let exec = Exec::new(
            program,
            std::iter::once(program.as_bytes()).chain(args),
            env,
        )?;
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit());
        cmd.process_group(0);
        Ok((cmd, exec))
    }

    /// Runs to completion with stdout and stderr passed through.
    pub fn run(&self) -> Result<(), RunError> {
        let program = self.resolve_program()?;
        let shown = self.argv.join(" ");
        if STOPPING.load(Ordering::SeqCst) {
            return Err(RunError::Stopping(shown));
        }
        let (mut cmd, exec) = self
            .command(&program)
            .map_err(|e| RunError::Spawn(shown.clone(), e))?;
        let filter = self.no_network.clone();
        let setup = ChildSetup::new(self.root.dir(), &self.workdir, &self.user, filter, exec);
        let (setup, report) = setup.map_err(|e| RunError::Spawn(shown.clone(), e))?;
        // SAFETY: `enter` only makes system calls on values prepared before fork.
        unsafe {
            cmd.pre_exec(move || setup.enter());
        }
        let spawned = programs::spawn(&mut cmd);
        drop(cmd); // closes the report pipe's write end, held by the closure
        let mut child = spawned.map_err(|e| match report.failed_step() {
            Some(step) => RunError::Setup(shown.clone(), step, e),
            None if e.raw_os_error() == Some(libc::ENOEXEC) => self.exec_format(&shown, &program),
            None => RunError::Spawn(shown.clone(), e),
        })?;
        let pgid = i32::try_from(child.id()).unwrap_or(0);
        RUNNING.store(pgid, Ordering::SeqCst);
        if STOPPING.load(Ordering::SeqCst) && pgid > 0 {
            // The stop came while the command was being started: it ends now.
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pgid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let status = child.wait();
        RUNNING.store(0, Ordering::SeqCst);
        if pgid > 0 {
            end_group(pgid);
        }
        let status = status.map_err(|e| RunError::Spawn(shown.clone(), e))?;
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

/// Children the command left running in its group do not outlive the step: they are
/// killed, and reaped when they were handed to this process (as PID 1 or a subreaper).
fn end_group(pgid: i32) {
    use nix::sys::wait::{waitpid, WaitPidFlag};
    let group = nix::unistd::Pid::from_raw(pgid);
    if nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL).is_err() {
        return; // nothing left in the group
    }
    let any_in_group = nix::unistd::Pid::from_raw(-pgid);
    for _ in 0..10_000 {
        match waitpid(any_in_group, Some(WaitPidFlag::__WALL)) {
            Ok(_) => continue,
            Err(_) => break, // ECHILD: none of them is ours (any more)
        }
    }
}

/// RUN: the command as the stage's USER in its WORKDIR, then a full snapshot.
pub async fn apply(
    st: &mut StageState<'_>,
    cmd: &DfCommand,
    run: &dockerfile::Run,
) -> Result<Snap, BuildError> {
    if run.security.as_deref() == Some("insecure") {
        return Err(BuildError::step(
            cmd,
            "RUN --security=insecure is not supported yet",
        ));
    }
    let argv = argv(st, run);
    let spec = st.config.config.user.clone().unwrap_or_default();
    let id = if spec.is_empty() {
        user::default_user(st.root)
    } else {
        user::resolve_user(st.root, &spec).map_err(|e| BuildError::step(cmd, e))?
    };
    let workdir = st.config.config.working_dir.clone().unwrap_or_default();
    if !workdir.is_empty() {
        st.root
            .mkdir_all(&workdir, None)
            .map_err(|e| BuildError::step(cmd, e))?;
    }
    let env = st.scope.run_env();
    let mut prepared = if run.mounts.is_empty() {
        mounts::Prepared::default()
    } else {
        mounts::prepare(st, cmd, run, &workdir, &env).await?
    };
    let no_network = match run.network.as_deref() {
        Some("none") => Some(netfilter::no_network().map_err(|e| BuildError::step(cmd, e))?),
        _ => None,
    };
    info!("Taking snapshot of full filesystem...");
    // kaniko's form: Go's print of the argv, `[/bin/sh -c echo hi]`.
    info!("Running: [{}]", argv.join(" "));
    let extra_env = std::mem::take(&mut prepared.env);
    let work = st.sh.opts.work_dir.clone();
    // The command blocks this thread; the build waits for it anyway. The mounts are taken
    // away before the snapshot, also when the command failed.
    let result = tokio::task::block_in_place(|| {
        let placed = prepared.place(st.root, &work)?;
        let process = Process {
            root: st.root,
            argv,
            env,
            workdir,
            user: id,
            no_network,
            extra_env,
        };
        let ran = process.run();
        drop(process);
        let finished = placed.finish(st.root);
        Ok::<_, mounts::MountError>(ran.map(|()| finished))
    });
    let ran = result.map_err(|e| BuildError::step(cmd, e))?;
    match ran {
        Ok(finished) => finished.map_err(|e| BuildError::step(cmd, e))?,
        Err(RunError::Failed { code, cmd: shown }) => {
            return Err(BuildError::RunFailed {
                line: cmd.line,
                instruction: cmd.original.clone(),
                message: RunError::Failed { cmd: shown, code }.to_string(),
                code,
            })
        }
        Err(e) => return Err(BuildError::step(cmd, e)),
    }
    Ok(Snap::Full)
}

/// The argv of a RUN: exec form as is, shell form through SHELL, heredocs fed to the shell.
fn argv(st: &StageState<'_>, run: &dockerfile::Run) -> Vec<String> {
    if run.heredocs.is_empty() {
        return st.meta.argv(&run.command);
    }
    let text = match &run.command {
        CommandLine::Shell(s) => s.clone(),
        CommandLine::Exec(v) => v.join(" "),
    };
    let only_heredoc = run.heredocs.len() == 1
        && text
            .trim()
            .trim_start_matches("<<")
            .trim_start_matches('-')
            .trim_matches(['"', '\''])
            == run.heredocs[0].name;
    if only_heredoc {
        // The body is the script, run by the shell.
        return st
            .meta
            .argv(&CommandLine::Shell(run.heredocs[0].content.clone()));
    }
    // Otherwise the shell itself reads the heredocs.
    let mut script = text;
    for h in &run.heredocs {
        script.push('\n');
        script.push_str(&h.content);
        if !h.content.ends_with('\n') {
            script.push('\n');
        }
        script.push_str(&h.name);
    }
    st.meta.argv(&CommandLine::Shell(script))
}
