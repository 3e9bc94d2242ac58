//! glibc's NSS lookups, replaced at link time by functions that find nothing.
//!
//! The executor is a static glibc binary that unpacks untrusted images over its own root.
//! Every glibc function that consults NSS reads `/etc/nsswitch.conf` (again whenever it
//! changes) and `dlopen`s the `libnss_<service>.so.2` it names from that root: a base image
//! could run code inside the executor. Names are resolved by the `resolve` crate and user
//! names by parsing the root's files, so none of these is ever needed. Defining them here
//! keeps glibc's own (and with them NSS and its module loader) out of the binary: a library
//! path that still calls one fails ("non-recoverable failure in name resolution", or "no
//! such user") instead of loading code. `tests/name_resolution.rs` checks the binary with
//! `nm`. The references come from std (`lookup_host`, `env::home_dir` without `HOME`) and
//! gix (`~user` in a configuration path).

use libc::{addrinfo, c_char, c_int, gid_t, group, passwd, size_t, uid_t};

/// `getaddrinfo`: every name fails; the executor resolves with its own resolver.
#[no_mangle]
pub unsafe extern "C" fn getaddrinfo(
    _node: *const c_char,
    _service: *const c_char,
    _hints: *const addrinfo,
    res: *mut *mut addrinfo,
) -> c_int {
    if !res.is_null() {
        *res = std::ptr::null_mut();
    }
    libc::EAI_FAIL
}

/// `freeaddrinfo`: nothing was ever allocated.
#[no_mangle]
pub unsafe extern "C" fn freeaddrinfo(_res: *mut addrinfo) {}

/// `getpwnam`: no such user.
#[no_mangle]
pub unsafe extern "C" fn getpwnam(_name: *const c_char) -> *mut passwd {
    std::ptr::null_mut()
}

/// `getpwnam_r`: no such user.
#[no_mangle]
pub unsafe extern "C" fn getpwnam_r(
    _name: *const c_char,
    _pwd: *mut passwd,
    _buf: *mut c_char,
    _len: size_t,
    result: *mut *mut passwd,
) -> c_int {
    if !result.is_null() {
        *result = std::ptr::null_mut();
    }
    0
}

/// `getpwuid_r`: no such user (std's `home_dir` then finds no home without `HOME`).
#[no_mangle]
pub unsafe extern "C" fn getpwuid_r(
    _uid: uid_t,
    _pwd: *mut passwd,
    _buf: *mut c_char,
    _len: size_t,
    result: *mut *mut passwd,
) -> c_int {
    if !result.is_null() {
        *result = std::ptr::null_mut();
    }
    0
}

/// `getgrgid_r`: no such group.
#[no_mangle]
pub unsafe extern "C" fn getgrgid_r(
    _gid: gid_t,
    _grp: *mut group,
    _buf: *mut c_char,
    _len: size_t,
    result: *mut *mut group,
) -> c_int {
    if !result.is_null() {
        *result = std::ptr::null_mut();
    }
    0
}

/// `getgrnam_r`: no such group.
#[no_mangle]
pub unsafe extern "C" fn getgrnam_r(
    _name: *const c_char,
    _grp: *mut group,
    _buf: *mut c_char,
    _len: size_t,
    result: *mut *mut group,
) -> c_int {
    if !result.is_null() {
        *result = std::ptr::null_mut();
    }
    0
}

/// `getgrouplist`: the user's primary group alone.
#[no_mangle]
pub unsafe extern "C" fn getgrouplist(
    _user: *const c_char,
    gid: gid_t,
    groups: *mut gid_t,
    ngroups: *mut c_int,
) -> c_int {
    if ngroups.is_null() {
        return -1;
    }
    let room = *ngroups;
    *ngroups = 1;
    if room < 1 || groups.is_null() {
        return -1;
    }
    *groups = gid;
    1
}

/// `initgroups`: refused (supplementary groups come from the root's /etc/group, parsed).
#[no_mangle]
pub unsafe extern "C" fn initgroups(_user: *const c_char, _gid: gid_t) -> c_int {
    *libc::__errno_location() = libc::ENOSYS;
    -1
}
