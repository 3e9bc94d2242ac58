//! The RUN child's own namespaces: after fork and before chroot, the child unshares its mount
//! namespace (and, for `--network=none`, its network namespace), makes every mount private
//! so nothing propagates back, and performs the mounts of `RUN --mount`. They live and die
//! with the command: the executor and later steps never see them, and the snapshot walks
//! the directories under them.
//!
//! Everything the child does is prepared here before fork (paths as C strings, secret
//! bytes): between fork and exec the child only makes system calls. A failing operation
//! writes its index to a pipe, so the parent can say which mount failed.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

/// Reported indices that are not operations.
const UNSHARE: u32 = u32::MAX;
const LOOPBACK: u32 = u32::MAX - 1;
const PRIVATE: u32 = u32::MAX - 2;

/// One thing the child does, in order.
pub enum Op {
    /// Creates a missing mount point directory (an existing one is fine).
    Mkdir(CString),
    /// Creates a missing mount point file.
    Touch(CString),
    /// Binds `src` at `dst`; remounts it with `remount` flags (read-only, nosuid ...) if any.
    Bind {
        src: CString,
        dst: CString,
        remount: libc::c_ulong,
    },
    /// A tmpfs at `dst` with mount data such as `size=64m,mode=1777`.
    Tmpfs { dst: CString, data: CString },
    /// Writes `data` to a new file (a secret in the staging tmpfs).
    Write {
        path: CString,
        data: crate::SecretValue,
        mode: u32,
        uid: u32,
        gid: u32,
    },
    /// Detaches the mount at this path (the staging tmpfs, once its files are bound).
    Detach(CString),
}

/// What the RUN child sets up before it enters the root.
#[derive(Default)]
pub struct ChildSetup {
    pub new_net: bool,
    /// Each operation with what it is for (for the error message).
    pub ops: Vec<(Op, String)>,
}

/// The child's report channel: the write end goes to the child, the read end stays here.
pub struct Report {
    read: OwnedFd,
    write: Option<OwnedFd>,
}

impl ChildSetup {
    pub fn is_empty(&self) -> bool {
        !self.new_net && self.ops.is_empty()
    }

    /// A C string for a host path.
    pub fn c(p: &Path) -> io::Result<CString> {
        CString::new(p.as_os_str().as_encoded_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path with a NUL byte"))
    }

    /// Runs in the child after fork: namespaces, then every operation. On failure the
    /// operation's index goes to `report` (a raw fd owned by the parent's [`Report`]).
    pub fn apply(&self, report: libc::c_int) -> io::Result<()> {
        let mut flags = libc::CLONE_NEWNS;
        if self.new_net {
            flags |= libc::CLONE_NEWNET;
        }
        let fail = |i: u32, e: io::Error| {
            let idx = i.to_le_bytes();
            // SAFETY: a write of 4 bytes from a stack buffer to an fd we own.
            unsafe { libc::write(report, idx.as_ptr().cast(), idx.len()) };
            e
        };
        // SAFETY: plain system calls on values prepared before fork.
        unsafe {
            check(libc::unshare(flags)).map_err(|e| fail(UNSHARE, e))?;
            let root = c"/";
            let private = libc::MS_REC | libc::MS_PRIVATE;
            check(libc::mount(
                std::ptr::null(),
                root.as_ptr(),
                std::ptr::null(),
                private,
                std::ptr::null(),
            ))
            .map_err(|e| fail(PRIVATE, e))?;
            if self.new_net {
                loopback_up().map_err(|e| fail(LOOPBACK, e))?;
            }
        }
        for (i, (op, _)) in self.ops.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(PRIVATE - 1);
            // SAFETY: as above.
            unsafe { op.run() }.map_err(|e| fail(i, e))?;
        }
        Ok(())
    }

    /// What the operation at `idx` (as reported by the child) was for.
    pub fn describe(&self, idx: u32) -> String {
        match idx {
            UNSHARE => "entering namespaces of its own (the executor's container needs CAP_SYS_ADMIN)".into(),
            LOOPBACK => "bringing up the loopback interface of --network=none".into(),
            PRIVATE => "making its mounts private (the executor's / must be a mount point, as in a container)".into(),
            i => self
                .ops
                .get(i as usize)
                .map_or_else(|| "setting up its mounts".into(), |(_, what)| what.clone()),
        }
    }
}

impl Report {
    pub fn new() -> io::Result<Report> {
        let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        Ok(Report {
            read,
            write: Some(write),
        })
    }

    /// The fd the child writes to.
    pub fn child_fd(&self) -> libc::c_int {
        self.write.as_ref().map_or(-1, AsRawFd::as_raw_fd)
    }

    /// After a failed spawn: the index the child reported, if any.
    pub fn failed_op(mut self) -> Option<u32> {
        self.write = None;
        let mut buf = [0u8; 4];
        let n = nix::unistd::read(self.read.as_raw_fd(), &mut buf).ok()?;
        (n == 4).then(|| u32::from_le_bytes(buf))
    }
}

fn check(r: libc::c_int) -> io::Result<()> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

impl Op {
    /// # Safety
    /// Only system calls: callable between fork and exec.
    unsafe fn run(&self) -> io::Result<()> {
        let null = std::ptr::null::<libc::c_char>();
        match self {
            Op::Mkdir(p) => {
                if libc::mkdir(p.as_ptr(), 0o755) < 0 {
                    let e = io::Error::last_os_error();
                    if e.raw_os_error() != Some(libc::EEXIST) {
                        return Err(e);
                    }
                }
                Ok(())
            }
            Op::Touch(p) => {
                let fd = libc::open(
                    p.as_ptr(),
                    libc::O_WRONLY | libc::O_CREAT | libc::O_CLOEXEC,
                    0o644,
                );
                check(fd)?;
                libc::close(fd);
                Ok(())
            }
            Op::Bind { src, dst, remount } => {
                let bind = libc::MS_BIND | libc::MS_REC;
                check(libc::mount(
                    src.as_ptr(),
                    dst.as_ptr(),
                    null,
                    bind,
                    std::ptr::null(),
                ))?;
                if *remount != 0 {
                    let flags = libc::MS_BIND | libc::MS_REMOUNT | remount;
                    check(libc::mount(
                        null,
                        dst.as_ptr(),
                        null,
                        flags,
                        std::ptr::null(),
                    ))?;
                }
                Ok(())
            }
            Op::Tmpfs { dst, data } => check(libc::mount(
                c"tmpfs".as_ptr(),
                dst.as_ptr(),
                c"tmpfs".as_ptr(),
                libc::MS_NOSUID,
                data.as_ptr().cast(),
            )),
            Op::Write {
                path,
                data,
                mode,
                uid,
                gid,
            } => write_new(path, data.expose(), *mode, *uid, *gid),
            Op::Detach(p) => check(libc::umount2(p.as_ptr(), libc::MNT_DETACH)),
        }
    }
}

/// # Safety
/// Only system calls.
unsafe fn write_new(path: &CString, data: &[u8], mode: u32, uid: u32, gid: u32) -> io::Result<()> {
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC;
    let fd = libc::open(path.as_ptr(), flags, 0o600);
    check(fd)?;
    let mut done = 0;
    while done < data.len() {
        let n = libc::write(fd, data[done..].as_ptr().cast(), data.len() - done);
        if n < 0 {
            let e = io::Error::last_os_error();
            libc::close(fd);
            return Err(e);
        }
        done += n as usize;
    }
    let r = check(libc::fchown(fd, uid, gid)).and_then(|()| check(libc::fchmod(fd, mode)));
    libc::close(fd);
    r
}

/// Sets the new network namespace's loopback interface up (as a container runtime does).
///
/// # Safety
/// Only system calls.
unsafe fn loopback_up() -> io::Result<()> {
    let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
    check(fd)?;
    let mut req: libc::ifreq = std::mem::zeroed();
    for (d, s) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *d = *s as libc::c_char;
    }
    let mut r = check(libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut req));
    if r.is_ok() {
        req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        r = check(libc::ioctl(fd, libc::SIOCSIFFLAGS, &req));
    }
    libc::close(fd);
    r
}
