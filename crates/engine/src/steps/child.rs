//! The RUN child between fork and exec: chroot into the build root (when it is not `/`),
//! the working directory, the user's groups, gid and uid, and for `--network=none` the
//! seccomp filter of [`super::netfilter`]. Everything is prepared before fork (paths as C
//! strings, the group list, the filter program): the child only makes system calls and
//! allocates nothing. A failing step writes its number to a pipe, so the parent can say
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

/// The child's set-up, prepared before fork.
pub struct ChildSetup {
    root: Option<CString>,
    workdir: CString,
    groups: Vec<libc::gid_t>,
    uid: libc::uid_t,
    gid: libc::gid_t,
    filter: Option<BpfProgram>,
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
            report: report_write,
        };
        Ok((setup, Report(report_read)))
    }

    /// Runs in the child after fork.
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
        Ok(())
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
