//! What a default container (`docker run`, a Pod with the default security context) gets,
//! applied to a thread and everything it starts: Docker's default capability set (bounding,
//! effective and permitted; none inheritable or ambient) and a seccomp filter refusing
//! what Docker's default profile refuses that matters to a build: new namespaces
//! (`unshare`, `setns`, `clone` with a namespace flag, user namespaces included; `clone3`
//! answers ENOSYS so that libc falls back to `clone`), `mount`, `umount2`, `pivot_root`
//! and the new mount API, the kernel keyring, `bpf`, `perf_event_open`, `userfaultfd`,
//! modules, kexec, reboot, swap, clocks, `syslog`, `acct`, `quotactl`,
//! `open_by_handle_at`. `ptrace` stays allowed, as Docker allows it on kernels ≥ 4.8.
//! No test may depend on a privilege a default Pod lacks.

use anyhow::{Context, Result};
use caps::{CapSet, Capability};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};
use std::collections::BTreeMap;

/// Docker's default capabilities (moby's `oci/caps/defaults.go`), which a Pod also gets.
pub const DEFAULT_CAPS: [Capability; 14] = [
    Capability::CAP_CHOWN,
    Capability::CAP_DAC_OVERRIDE,
    Capability::CAP_FOWNER,
    Capability::CAP_FSETID,
    Capability::CAP_KILL,
    Capability::CAP_SETGID,
    Capability::CAP_SETUID,
    Capability::CAP_SETPCAP,
    Capability::CAP_NET_BIND_SERVICE,
    Capability::CAP_NET_RAW,
    Capability::CAP_SYS_CHROOT,
    Capability::CAP_MKNOD,
    Capability::CAP_AUDIT_WRITE,
    Capability::CAP_SETFCAP,
];

/// The namespace flags of clone(2).
const NAMESPACES: [u64; 8] = [
    libc::CLONE_NEWNS as u64,
    libc::CLONE_NEWCGROUP as u64,
    libc::CLONE_NEWUTS as u64,
    libc::CLONE_NEWIPC as u64,
    libc::CLONE_NEWUSER as u64,
    libc::CLONE_NEWPID as u64,
    libc::CLONE_NEWNET as u64,
    0x80, // CLONE_NEWTIME
];

/// Refused with EPERM whatever their arguments.
const REFUSED: [libc::c_long; 37] = [
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_move_mount,
    libc::SYS_open_tree,
    libc::SYS_fsopen,
    libc::SYS_fsconfig,
    libc::SYS_fsmount,
    libc::SYS_fspick,
    libc::SYS_mount_setattr,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_userfaultfd,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_reboot,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_syslog,
    libc::SYS_acct,
    libc::SYS_settimeofday,
    libc::SYS_clock_settime,
    libc::SYS_clock_adjtime,
    libc::SYS_adjtimex,
    libc::SYS_quotactl,
    libc::SYS_open_by_handle_at,
    libc::SYS_iopl,
    libc::SYS_ioperm,
    libc::SYS_vhangup,
];

fn arch() -> Result<TargetArch> {
    TargetArch::try_from(std::env::consts::ARCH).map_err(|e| anyhow::anyhow!("seccomp: {e:?}"))
}

/// The filter refusing with EPERM what Docker's profile refuses.
fn refusals() -> Result<BpfProgram> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for nr in REFUSED {
        rules.insert(nr, vec![]);
    }
    let mut clone = Vec::new();
    for flag in NAMESPACES {
        let has = SeccompCondition::new(
            0,
            SeccompCmpArgLen::Qword,
            SeccompCmpOp::MaskedEq(flag),
            flag,
        )?;
        clone.push(SeccompRule::new(vec![has])?);
    }
    rules.insert(libc::SYS_clone, clone);
    let eperm = SeccompAction::Errno(libc::EPERM as u32);
    let filter = SeccompFilter::new(rules, SeccompAction::Allow, eperm, arch()?)?;
    Ok(filter.try_into()?)
}

/// clone3 answers ENOSYS (its flags are behind a pointer a filter cannot read).
fn no_clone3() -> Result<BpfProgram> {
    let rules = BTreeMap::from([(libc::SYS_clone3, vec![])]);
    let enosys = SeccompAction::Errno(libc::ENOSYS as u32);
    let filter = SeccompFilter::new(rules, SeccompAction::Allow, enosys, arch()?)?;
    Ok(filter.try_into()?)
}

/// Installs `prog` on this thread without no_new_privs (as Docker does): allowed while the
/// thread still has CAP_SYS_ADMIN.
fn install(prog: &BpfProgram) -> Result<()> {
    let fprog = libc::sock_fprog {
        len: u16::try_from(prog.len()).context("seccomp program too long")?,
        filter: prog.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: the kernel copies the program; `prog` outlives the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &fprog as *const libc::sock_fprog,
        )
    };
    if r != 0 {
        return Err(std::io::Error::last_os_error()).context("installing a seccomp filter");
    }
    Ok(())
}

/// Confines the calling thread (and what it starts from now on) to a default container's
/// privileges: the seccomp filters first, then the capabilities. Once per thread.
pub fn confine_current_thread() -> Result<()> {
    thread_local!(static CONFINED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
    if CONFINED.get() {
        return Ok(());
    }
    install(&refusals()?)?;
    install(&no_clone3()?)?;
    let keep: caps::CapsHashSet = DEFAULT_CAPS.into_iter().collect();
    for cap in caps::runtime::thread_all_supported() {
        if !keep.contains(&cap) {
            caps::drop(None, CapSet::Bounding, cap).context("dropping a bounding capability")?;
        }
    }
    caps::set(None, CapSet::Effective, &keep).context("setting effective capabilities")?;
    caps::set(None, CapSet::Permitted, &keep).context("setting permitted capabilities")?;
    caps::clear(None, CapSet::Inheritable).context("clearing inheritable capabilities")?;
    caps::clear(None, CapSet::Ambient).context("clearing ambient capabilities")?;
    CONFINED.set(true);
    Ok(())
}
