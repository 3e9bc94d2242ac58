//! `RUN --network=none` without privileges: a seccomp filter the RUN child installs on
//! itself (with no_new_privs) before exec, inherited by everything the command starts. It
//! refuses new sockets of every family but AF_UNIX (local IPC) and AF_NETLINK (reading
//! interface and route tables), so no inet, inet6, packet or vsock socket, not even to
//! loopback, and `io_uring_setup` (an io_uring can open sockets past a socket filter).
//! Refused calls fail with EPERM. Built before fork by `seccompiler` (rust-vmm).

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};
use std::collections::BTreeMap;

/// x32 system calls share x86_64's audit arch with this bit set in their number.
const X32_BIT: i64 = 0x4000_0000;

#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    #[error("--network=none: no seccomp filter for this architecture ({0})")]
    Arch(String),
    #[error("--network=none: building the seccomp filter: {0}")]
    Build(#[from] seccompiler::BackendError),
    #[error("--network=none: compiling the seccomp filter: {0}")]
    Compile(#[from] seccompiler::Error),
}

/// The filter of a `--network=none` RUN, for this machine's architecture.
pub fn no_network() -> Result<BpfProgram, FilterError> {
    let arch = std::env::consts::ARCH;
    let target = TargetArch::try_from(arch).map_err(|_| FilterError::Arch(arch.into()))?;
    let family = |f: libc::c_int| {
        SeccompCondition::new(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Ne, f as u64)
    };
    // Conditions of one rule must all hold: a family that is neither of the two.
    let other_family = SeccompRule::new(vec![family(libc::AF_UNIX)?, family(libc::AF_NETLINK)?])?;
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    rules.insert(libc::SYS_socket, vec![other_family.clone()]);
    // No rule: refused whatever the arguments.
    rules.insert(libc::SYS_io_uring_setup, vec![]);
    if arch == "x86_64" {
        rules.insert(X32_BIT | libc::SYS_socket, vec![other_family]);
        rules.insert(X32_BIT | libc::SYS_io_uring_setup, vec![]);
    }
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        target,
    )?;
    Ok(filter.try_into()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    /// Runs a child that tries to make a socket of `family` (and reports the errno).
    fn socket_in_filtered_child(family: libc::c_int) -> i32 {
        let prog = no_network().unwrap();
        let mut cmd = std::process::Command::new("/bin/true");
        // SAFETY: only system calls on values prepared before fork.
        unsafe {
            cmd.pre_exec(move || {
                seccompiler::apply_filter(&prog).map_err(|_| std::io::Error::last_os_error())?;
                let fd = libc::socket(family, libc::SOCK_STREAM, 0);
                if fd < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::close(fd);
                Ok(())
            });
        }
        match cmd.status() {
            Ok(s) => {
                assert!(s.success());
                0
            }
            Err(e) => e.raw_os_error().unwrap_or(-1),
        }
    }

    #[test]
    fn inet_sockets_are_refused_and_unix_ones_allowed() {
        assert_eq!(socket_in_filtered_child(libc::AF_INET), libc::EPERM);
        assert_eq!(socket_in_filtered_child(libc::AF_INET6), libc::EPERM);
        assert_eq!(socket_in_filtered_child(libc::AF_PACKET), libc::EPERM);
        assert_eq!(socket_in_filtered_child(libc::AF_UNIX), 0);
    }
}
