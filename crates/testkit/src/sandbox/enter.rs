//! The last step into the sandbox, after its mounts are made: chroot into the root, enter
//! the working directory, confine the process to a default container's privileges
//! ([`super::confine`]) and exec the program. It runs in whatever binary links testkit
//! (the test binary itself, started again by the sandbox's script with [`MARK`] as its
//! first argument): a hook in `.init_array` does it before `main`, so no helper program
//! has to be built or found.

use std::ffi::{CStr, CString};

/// argv[1] of a binary started to enter a sandbox: `EXE MARK ROOT WORKDIR PROGRAM ARGS...`.
pub(super) const MARK: &str = "--testkit-enter-sandbox";

type Hook = extern "C" fn(libc::c_int, *const *const libc::c_char, *const *const libc::c_char);

/// Called by the C runtime before `main` with the program's argv and envp.
#[used]
#[link_section = ".init_array"]
pub(super) static HOOK: Hook = enter_hook;

extern "C" fn enter_hook(
    argc: libc::c_int,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
) {
    if argc < 5 || argv.is_null() {
        return;
    }
    // SAFETY: the C runtime passes argc valid NUL-terminated strings.
    let args: Vec<&CStr> = (0..argc as usize)
        .map(|i| unsafe { CStr::from_ptr(*argv.add(i)) })
        .collect();
    if args[1].to_bytes() != MARK.as_bytes() {
        return;
    }
    let err = enter(&args[2..], envp);
    eprintln!("testkit sandbox: {err:#}");
    // SAFETY: ending this process without running anything else of it.
    unsafe { libc::_exit(127) };
}

/// `[root, workdir, program, args...]`; returns only on failure.
fn enter(args: &[&CStr], envp: *const *const libc::c_char) -> anyhow::Error {
    let fail = |what: &str| anyhow::anyhow!("{what}: {}", std::io::Error::last_os_error());
    let (root, workdir, program) = (args[0], args[1], args[2]);
    // SAFETY: plain system calls on valid C strings.
    unsafe {
        if libc::chroot(root.as_ptr()) != 0 {
            return fail("chroot");
        }
        if libc::chdir(workdir.as_ptr()) != 0 && libc::chdir(c"/".as_ptr()) != 0 {
            return fail("chdir");
        }
    }
    if let Err(e) = super::confine::confine_current_thread() {
        return e;
    }
    let argv: Vec<CString> = args[2..].iter().map(|a| (*a).to_owned()).collect();
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: NULL-terminated arrays of valid C strings; envp is the runtime's own.
    unsafe { libc::execve(program.as_ptr(), ptrs.as_ptr(), envp) };
    fail(&format!("exec {}", program.to_string_lossy()))
}
