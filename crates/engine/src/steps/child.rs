//! The RUN child between fork and exec: chroot into the build root (when it is not `/`),
//! the working directory, the user's groups, gid and uid, and for `--network=none` the
//! seccomp filter of [`super::netfilter`], then `execve` of the program (never glibc's
//! `execvp`, which runs a file the kernel refuses with `/bin/sh`: a program for another
//! platform or a script without `#!` must fail as under Docker). Everything is prepared
//! before fork (paths as C strings, the group list, the filter program, argv and envp): the
//! child only makes system calls and allocates nothing. A failing step writes its number to a pipe, so the parent can say
//! which step failed.

use crate::user::Identity;
use seccompiler::BpfProgram;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

/// What the child does, in order (the number it reports on failure).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Step {
    Chroot = 1,
    Chdir,
    Groups,
    Gid,
    Uid,
    Filter,
}

impl Step {
    fn of(n: u8) -> Option<Step> {
        [
            Step::Chroot,
            Step::Chdir,
            Step::Groups,
            Step::Gid,
            Step::Uid,
            Step::Filter,
        ]
        .into_iter()
        .find(|s| *s as u8 == n)
    }

    fn describe(self) -> &'static str {
        match self {
            Step::Chroot => "entering the build root (chroot)",
            Step::Chdir => "entering the working directory",
            Step::Groups => "setting the user's groups",
            Step::Gid => "setting the user's group id",
            Step::Uid => "setting the user id",
            Step::Filter => {
                "installing the --network=none seccomp filter (the container's seccomp profile must allow seccomp(2))"
            }
        }
    }
}

/// The program, its arguments and environment as `execve` takes them.
pub struct Exec {
    program: CString,
    _strings: Vec<CString>,
    argv: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
}

// SAFETY: the pointers point into `_strings` (and `program`), owned by the same value and
// never changed after it is made; the child only reads them.
unsafe impl Send for Exec {}
unsafe impl Sync for Exec {}

impl Exec {
    pub fn new<'a>(
        program: &str,
        args: impl IntoIterator<Item = &'a [u8]>,
        env: impl IntoIterator<Item = Vec<u8>>,
    ) -> io::Result<Exec> {
        let program = c(program.as_bytes())?;
        let args: Vec<CString> = args.into_iter().map(c).collect::<io::Result<_>>()?;
        let env: Vec<CString> = env.into_iter().map(|e| c(&e)).collect::<io::Result<_>>()?;
        let terminated = |v: &[CString]| {
            let mut p: Vec<*const libc::c_char> = v.iter().map(|s| s.as_ptr()).collect();
            p.push(std::ptr::null());
            p
        };
        let (argv, envp) = (terminated(&args), terminated(&env));
        let mut strings = args;
        strings.extend(env);
        Ok(Exec {
            program,
            _strings: strings,
            argv,
            envp,
        })
    }
}

/// The child's set-up, prepared before fork.
pub struct ChildSetup {
    root: Option<CString>,
    workdir: CString,
    groups: Vec<libc::gid_t>,
    uid: libc::uid_t,
    gid: libc::gid_t,
    filter: Option<BpfProgram>,
    exec: Exec,
    /// The write end of the report pipe (close-on-exec).
    report: OwnedFd,
}

/// The parent's end of the report pipe.
pub struct Report(OwnedFd);

fn c(p: &[u8]) -> io::Result<CString> {
    CString::new(p).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in a path"))
}

impl ChildSetup {
    pub fn new(
        root: &Path,
        workdir: &str,
        id: &Identity,
        filter: Option<BpfProgram>,
        exec: Exec,
    ) -> io::Result<(ChildSetup, Report)> {
        let root = (root != Path::new("/"))
            .then(|| c(root.as_os_str().as_encoded_bytes()))
            .transpose()?;
        let workdir = c(if workdir.is_empty() { "/" } else { workdir }.as_bytes())?;
        let (report_read, report_write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        let setup = ChildSetup {
            root,
            workdir,
            groups: id.groups.clone(),
            uid: id.uid,
            gid: id.gid,
            filter,
            exec,
            report: report_write,
        };
        Ok((setup, Report(report_read)))
    }

    /// Runs in the child after fork; returns only when a step or the exec failed (the exec's
    /// error is the spawn's, as the parent sees it).
    ///
    /// # Safety
    /// Only system calls on values prepared before fork: callable between fork and exec.
    pub unsafe fn enter(&self) -> io::Result<()> {
        let fail = |step: Step| {
            let e = io::Error::last_os_error();
            let b = [step as u8];
            libc::write(self.report.as_raw_fd(), b.as_ptr().cast(), 1);
            e
        };
        if let Some(root) = &self.root {
            if libc::chroot(root.as_ptr()) < 0 {
                return Err(fail(Step::Chroot));
            }
        }
        if libc::chdir(self.workdir.as_ptr()) < 0 && libc::chdir(c"/".as_ptr()) < 0 {
            return Err(fail(Step::Chdir));
        }
        if libc::setgroups(self.groups.len(), self.groups.as_ptr()) < 0 {
            return Err(fail(Step::Groups));
        }
        if libc::setgid(self.gid) < 0 {
            return Err(fail(Step::Gid));
        }
        if libc::setuid(self.uid) < 0 {
            return Err(fail(Step::Uid));
        }
        if let Some(f) = &self.filter {
            // Sets no_new_privs, then the filter; no allocation on success or failure.
            if seccompiler::apply_filter(f).is_err() {
                return Err(fail(Step::Filter));
            }
        }
        let e = &self.exec;
        libc::execve(e.program.as_ptr(), e.argv.as_ptr(), e.envp.as_ptr());
        Err(io::Error::last_os_error())
    }
}

impl Report {
    /// After a failed start, once the write end is closed (the command dropped): what the
    /// child was doing, if it got that far.
    pub fn failed_step(self) -> Option<&'static str> {
        let mut b = [0u8; 1];
        let n = nix::unistd::read(self.0.as_raw_fd(), &mut b).ok()?;
        (n == 1).then(|| Step::of(b[0]).map(Step::describe))?
    }
}
