//! The corpus's cases: the base tree every case starts from and one change each, with what
//! the change necessarily implies.

use crate::common::Fixture;
use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

pub type Change = fn(&Path);

pub struct Case {
    pub name: &'static str,
    pub change: Change,
    /// Entries the change must give (the full walk may add parents whose times changed).
    pub must: &'static [&'static str],
    /// The deletions, exactly.
    pub deleted: &'static [&'static str],
}

fn w(root: &Path, p: &str, data: &[u8]) {
    fs::write(root.join(p), data).unwrap();
}

fn set_mtime(p: &Path, secs: i64) {
    let t = nix::sys::time::TimeSpec::new(secs, 0);
    nix::sys::stat::utimensat(
        None,
        p,
        &t,
        &t,
        nix::sys::stat::UtimensatFlags::NoFollowSymlink,
    )
    .unwrap();
}

/// Runs `f` on `p` and gives it its old mtime back (same size, same mtime: only ctime tells).
fn keeping_mtime(p: &Path, f: impl FnOnce(&Path)) {
    let old = fs::symlink_metadata(p).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    f(p);
    fs::File::options()
        .write(true)
        .open(p)
        .unwrap()
        .set_modified(old)
        .unwrap();
}

fn set_xattr(p: &Path, name: &str, value: &[u8]) {
    let (cp, cn) = (
        CString::new(p.as_os_str().as_bytes()).unwrap(),
        CString::new(name).unwrap(),
    );
    // SAFETY: valid C strings and a value buffer with its length.
    let rc = unsafe {
        libc::lsetxattr(
            cp.as_ptr(),
            cn.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    assert_eq!(
        rc,
        0,
        "setxattr {name} on {}: {}",
        p.display(),
        std::io::Error::last_os_error()
    );
}

fn remove_xattr(p: &Path, name: &str) {
    let (cp, cn) = (
        CString::new(p.as_os_str().as_bytes()).unwrap(),
        CString::new(name).unwrap(),
    );
    // SAFETY: valid C strings.
    let rc = unsafe { libc::lremovexattr(cp.as_ptr(), cn.as_ptr()) };
    assert_eq!(
        rc,
        0,
        "removexattr {name}: {}",
        std::io::Error::last_os_error()
    );
}

/// Sets inode flags (chattr) on the file `p`.
fn set_flags(p: &Path, flags: libc::c_long) {
    use std::os::fd::AsRawFd;
    let f = fs::File::open(p).unwrap();
    // SAFETY: FS_IOC_SETFLAGS reads one long from the pointer given.
    let rc = unsafe { libc::ioctl(f.as_raw_fd(), 0x4008_6602, &flags) };
    assert_eq!(
        rc,
        0,
        "chattr {}: {}",
        p.display(),
        std::io::Error::last_os_error()
    );
}

/// Rewrites the first byte of `p` through a shared mapping.
fn mmap_write(p: &Path, byte: u8) {
    use std::os::fd::AsRawFd;
    let f = fs::File::options().read(true).write(true).open(p).unwrap();
    // SAFETY: a one-page shared mapping of an open file at least one byte long, unmapped
    // before the file is closed.
    unsafe {
        let m = libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            f.as_raw_fd(),
            0,
        );
        assert_ne!(m, libc::MAP_FAILED);
        *(m as *mut u8) = byte;
        libc::msync(m, 4096, libc::MS_SYNC);
        libc::munmap(m, 4096);
    }
}

/// The base every case starts from.
pub fn base(f: &Fixture) {
    let r = &f.root;
    for d in [
        "etc/conf.d",
        "opt/tree/sub",
        "usr/bin",
        "usr/lib",
        "usr/share",
        "var",
    ] {
        fs::create_dir_all(r.join(d)).unwrap();
    }
    w(r, "etc/hosts", b"1.2.3.4\n");
    w(r, "etc/conf.d/a", b"a");
    w(r, "etc/conf.d/b", b"b");
    w(r, "etc/unrecorded", b"u");
    w(r, "opt/tree/sub/f", b"f");
    w(r, "opt/tree/g", b"g");
    w(r, "usr/bin/tool", b"tool");
    fs::set_permissions(r.join("usr/bin/tool"), fs::Permissions::from_mode(0o755)).unwrap();
    w(r, "usr/lib/libx.so", b"libx");
    fs::hard_link(r.join("usr/lib/libx.so"), r.join("usr/share/x")).unwrap();
    w(r, "workspace/shared", b"shared");
    fs::hard_link(r.join("workspace/shared"), r.join("etc/shared")).unwrap();
    symlink("/etc/hosts", r.join("var/link")).unwrap();
    symlink("opt/tree", r.join("lnk")).unwrap(); // relative: the test writes through it on the host
    set_xattr(&r.join("opt/tree/g"), "user.note", b"old");
    // Times in the past, so that a change within the same clock tick still shows.
    for p in [
        "etc/hosts",
        "etc/conf.d/a",
        "opt/tree/g",
        "opt/tree/sub/f",
        "usr/share/x",
    ] {
        set_mtime(&r.join(p), 1_600_000_000);
    }
}

/// security.capability for cap_net_bind_service=ep (VFS_CAP_REVISION_2).
fn capability() -> Vec<u8> {
    let mut v = Vec::new();
    for word in [0x0200_0001u32, 1 << 10, 0, 0, 0] {
        v.extend_from_slice(&word.to_le_bytes());
    }
    v
}

pub const CASES: &[Case] = &[
    Case {
        name: "nothing changed",
        change: |_| {},
        must: &[],
        deleted: &[],
    },
    Case {
        name: "new file",
        change: |r| w(r, "etc/new", b"n"),
        must: &["/etc/new"],
        deleted: &[],
    },
    Case {
        name: "content rewritten, same size and mtime",
        change: |r| {
            keeping_mtime(&r.join("etc/hosts"), |p| {
                fs::write(p, b"5.6.7.8\n").unwrap()
            })
        },
        must: &["/etc/hosts"],
        deleted: &[],
    },
    Case {
        name: "content rewritten through mmap, same mtime",
        change: |r| keeping_mtime(&r.join("etc/conf.d/a"), |p| mmap_write(p, b'z')),
        must: &["/etc/conf.d/a"],
        deleted: &[],
    },
    Case {
        name: "deep write, directories untouched",
        change: |r| w(r, "opt/tree/sub/f", b"longer now"),
        must: &["/opt/tree/sub/f"],
        deleted: &[],
    },
    Case {
        name: "write through a symlinked directory",
        change: |r| w(r, "lnk/g", b"G"),
        must: &["/opt/tree/g"],
        deleted: &[],
    },
    Case {
        name: "mode",
        change: |r| {
            fs::set_permissions(r.join("usr/bin/tool"), fs::Permissions::from_mode(0o700)).unwrap()
        },
        must: &["/usr/bin/tool"],
        deleted: &[],
    },
    Case {
        name: "owner",
        change: |r| {
            std::os::unix::fs::lchown(r.join("etc/conf.d/b"), Some(123), Some(456)).unwrap()
        },
        must: &["/etc/conf.d/b"],
        deleted: &[],
    },
    Case {
        name: "owner of a directory",
        change: |r| std::os::unix::fs::lchown(r.join("opt/tree"), Some(7), Some(7)).unwrap(),
        must: &["/opt/tree"],
        deleted: &[],
    },
    Case {
        name: "mtime only",
        change: |r| set_mtime(&r.join("opt/tree/g"), 1_000_000),
        must: &["/opt/tree/g"],
        deleted: &[],
    },
    Case {
        name: "directory times",
        change: |r| set_mtime(&r.join("opt/tree/sub"), 1_000_000),
        must: &["/opt/tree/sub"],
        deleted: &[],
    },
    Case {
        name: "xattr added",
        change: |r| set_xattr(&r.join("etc/hosts"), "user.new", b"v"),
        must: &["/etc/hosts"],
        deleted: &[],
    },
    Case {
        name: "xattr removed",
        change: |r| remove_xattr(&r.join("opt/tree/g"), "user.note"),
        must: &["/opt/tree/g"],
        deleted: &[],
    },
    Case {
        name: "xattr on a directory",
        change: |r| set_xattr(&r.join("opt"), "user.d", b"1"),
        must: &["/opt"],
        deleted: &[],
    },
    Case {
        name: "capability",
        change: |r| {
            set_xattr(
                &r.join("usr/bin/tool"),
                "security.capability",
                &capability(),
            )
        },
        must: &["/usr/bin/tool"],
        deleted: &[],
    },
    Case {
        name: "file deleted",
        change: |r| fs::remove_file(r.join("etc/conf.d/a")).unwrap(),
        must: &["/etc/conf.d"],
        deleted: &["/etc/conf.d/a"],
    },
    Case {
        name: "tree deleted",
        change: |r| fs::remove_dir_all(r.join("opt/tree")).unwrap(),
        must: &["/opt"],
        deleted: &["/opt/tree"],
    },
    Case {
        name: "directory replaced by a file",
        change: |r| {
            fs::remove_dir_all(r.join("opt/tree")).unwrap();
            w(r, "opt/tree", b"file now");
        },
        must: &["/opt/tree"],
        deleted: &[],
    },
    Case {
        name: "file replaced by a directory",
        change: |r| {
            fs::remove_file(r.join("etc/hosts")).unwrap();
            fs::create_dir(r.join("etc/hosts")).unwrap();
            w(r, "etc/hosts/x", b"x");
        },
        must: &["/etc", "/etc/hosts", "/etc/hosts/x"],
        deleted: &[],
    },
    Case {
        name: "directory replaced by a directory",
        change: |r| {
            fs::remove_dir_all(r.join("opt/tree")).unwrap();
            fs::create_dir(r.join("opt/tree")).unwrap();
            w(r, "opt/tree/new", b"n");
        },
        must: &["/opt/tree", "/opt/tree/new"],
        deleted: &["/opt/tree/g", "/opt/tree/sub"],
    },
    Case {
        name: "file replaced by a symlink",
        change: |r| {
            fs::remove_file(r.join("etc/conf.d/a")).unwrap();
            symlink("b", r.join("etc/conf.d/a")).unwrap();
        },
        must: &["/etc/conf.d/a"],
        deleted: &[],
    },
    Case {
        name: "symlink retargeted",
        change: |r| {
            fs::remove_file(r.join("var/link")).unwrap();
            symlink("/etc/conf.d/a", r.join("var/link")).unwrap();
        },
        must: &["/var/link"],
        deleted: &[],
    },
    Case {
        name: "atomic replace by rename",
        change: |r| {
            w(r, "etc/hosts.tmp", b"9.9.9.9\n");
            fs::rename(r.join("etc/hosts.tmp"), r.join("etc/hosts")).unwrap();
        },
        must: &["/etc", "/etc/hosts"],
        deleted: &[],
    },
    Case {
        name: "file renamed across directories",
        change: |r| fs::rename(r.join("etc/conf.d/b"), r.join("opt/b")).unwrap(),
        must: &["/etc/conf.d", "/opt", "/opt/b"],
        deleted: &["/etc/conf.d/b"],
    },
    Case {
        name: "directory renamed",
        change: |r| fs::rename(r.join("opt/tree"), r.join("etc/tree")).unwrap(),
        must: &[
            "/etc",
            "/etc/tree",
            "/etc/tree/g",
            "/etc/tree/sub",
            "/etc/tree/sub/f",
            "/opt",
        ],
        deleted: &["/opt/tree"],
    },
    Case {
        name: "directory moved away, changed, moved back",
        change: |r| {
            fs::rename(r.join("opt/tree"), r.join("away")).unwrap();
            keeping_mtime(&r.join("away/sub/f"), |p| fs::write(p, b"F").unwrap());
            fs::rename(r.join("away"), r.join("opt/tree")).unwrap();
        },
        must: &["/opt/tree/sub/f"],
        deleted: &[],
    },
    Case {
        name: "new deep tree",
        change: |r| {
            fs::create_dir_all(r.join("new/a/b")).unwrap();
            w(r, "new/a/b/c", b"c");
            w(r, "new/top", b"t");
        },
        must: &["/new", "/new/a", "/new/a/b", "/new/a/b/c", "/new/top"],
        deleted: &[],
    },
    Case {
        name: "created and deleted within the run",
        change: |r| {
            w(r, "etc/tmpfile", b"t");
            fs::remove_file(r.join("etc/tmpfile")).unwrap();
        },
        must: &[],
        deleted: &[],
    },
    Case {
        name: "hard link added",
        change: |r| fs::hard_link(r.join("etc/hosts"), r.join("var/hosts2")).unwrap(),
        must: &["/etc/hosts", "/var/hosts2"],
        deleted: &[],
    },
    Case {
        name: "write through the other name of a hard link",
        change: |r| keeping_mtime(&r.join("usr/share/x"), |p| fs::write(p, b"LIBX").unwrap()),
        must: &["/usr/lib/libx.so", "/usr/share/x"],
        deleted: &[],
    },
    Case {
        name: "one name of a hard link removed",
        change: |r| fs::remove_file(r.join("usr/share/x")).unwrap(),
        must: &["/usr/lib/libx.so", "/usr/share"],
        deleted: &["/usr/share/x"],
    },
    Case {
        // No event reaches /etc's directory for this (a link's count changes on the inode
        // only): why the snapshot stays a walk, not a directory watch.
        name: "write through a transient hard link in a new directory",
        change: |r| {
            fs::create_dir(r.join("tmpdir")).unwrap();
            fs::hard_link(r.join("etc/hosts"), r.join("tmpdir/h")).unwrap();
            keeping_mtime(&r.join("tmpdir/h"), |p| fs::write(p, b"6.6.6.6\n").unwrap());
            fs::remove_dir_all(r.join("tmpdir")).unwrap();
        },
        must: &["/etc/hosts"],
        deleted: &[],
    },
    Case {
        // chattr: only the ctime changes, and no attribute event is raised.
        name: "inode flags",
        change: |r| set_flags(&r.join("etc/conf.d/b"), 0x0000_0040), // FS_NODUMP_FL
        must: &["/etc/conf.d/b"],
        deleted: &[],
    },
    Case {
        name: "write through a hard link in an ignored directory",
        change: |r| {
            keeping_mtime(&r.join("workspace/shared"), |p| {
                fs::write(p, b"SHARED").unwrap()
            })
        },
        must: &["/etc/shared"],
        deleted: &[],
    },
    Case {
        name: "ignored paths",
        change: |r| {
            w(r, "kaniko/new", b"x");
            w(r, "workspace/ctx.txt", b"changed");
            fs::remove_file(r.join("workspace/sub/deep")).unwrap();
        },
        must: &[],
        deleted: &[],
    },
    Case {
        name: "fifo",
        change: |r| {
            nix::unistd::mkfifo(
                &r.join("etc/fifo"),
                nix::sys::stat::Mode::from_bits_truncate(0o644),
            )
            .unwrap()
        },
        must: &["/etc/fifo"],
        deleted: &[],
    },
    Case {
        name: "many events, then one change",
        change: |r| {
            // More events (four each) than an inotify queue holds: 16384 by default.
            for i in 0..6_000 {
                let p = r.join(format!("etc/churn{i}"));
                fs::write(&p, b"c").unwrap();
                fs::remove_file(&p).unwrap();
            }
            fs::set_permissions(r.join("etc/hosts"), fs::Permissions::from_mode(0o600)).unwrap();
        },
        must: &["/etc/hosts"],
        deleted: &[],
    },
];
