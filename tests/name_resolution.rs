//! Name resolution never runs code from the root the executor unpacked. A base image plants
//! an NSS module (`hosts: evil files dns` in /etc/nsswitch.conf, a `libnss_evil.so.2` whose
//! constructor prints a line and exits, and the host's libc and loader so that it could load);
//! a build FROM it runs a RUN and a COPY, then pushes to a registry named by a host name,
//! resolved after the unpack. The module must never load, and the image's `/etc/hosts`
//! (pointing that name elsewhere) must not redirect the push: the executor resolves names
//! itself from `/etc/hosts` and `/etc/resolv.conf` as they were at start, and the binary
//! links no glibc function that consults NSS.

mod common;
use common::*;
use std::path::Path;
use std::process::Command;
use testkit::registry::{Auth, Registry};
use testkit::sandbox::Sandbox;

/// What the planted module prints before it exits the process with [`MARK_STATUS`].
const MARK: &str = "PLANTED NSS MODULE RAN INSIDE THE EXECUTOR";
const MARK_STATUS: i32 = 97;

/// Builds `libnss_evil.so.2` with gcc in `dir`.
fn evil_module(dir: &Path) -> Vec<u8> {
    let src = dir.join("evil.c");
    std::fs::write(
        &src,
        format!(
            "#include <unistd.h>\n\
             __attribute__((constructor)) static void evil(void) {{\n\
               static const char m[] = \"{MARK}\\n\";\n\
               write(2, m, sizeof m - 1);\n\
               _exit({MARK_STATUS});\n\
             }}\n"
        ),
    )
    .unwrap();
    let out = dir.join("libnss_evil.so.2");
    let st = Command::new("gcc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&out)
        .arg(&src)
        .status()
        .expect("gcc");
    assert!(st.success(), "gcc failed");
    std::fs::read(out).unwrap()
}

/// A layer with the module, an nsswitch.conf naming it first for every database a static
/// glibc could consult, the host's libc and loader, and a hosts file sending the build's
/// registry names elsewhere.
fn evil_layer() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let module = evil_module(dir.path());
    let nsswitch = "passwd: evil files\ngroup: evil files\nshadow: evil files\n\
                    hosts: evil files dns\nservices: evil files\nnetworks: evil files\n\
                    protocols: evil files\n";
    let libc = std::fs::read("/lib/x86_64-linux-gnu/libc.so.6").unwrap();
    let loader = std::fs::read("/lib64/ld-linux-x86-64.so.2").unwrap();
    let mut tar = tar::Builder::new(Vec::new());
    for d in ["etc", "lib", "lib/x86_64-linux-gnu"] {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
        h.set_size(0);
        tar.append_data(&mut h, d, std::io::empty()).unwrap();
    }
    // Names pointed elsewhere: the executor resolves from the files as they were at start.
    let hosts = "127.0.0.2 localhost base.nss.test push.nss.test\n";
    let files: [(&str, &[u8]); 5] = [
        ("etc/nsswitch.conf", nsswitch.as_bytes()),
        ("etc/hosts", hosts.as_bytes()),
        ("lib/x86_64-linux-gnu/libnss_evil.so.2", &module),
        ("lib/x86_64-linux-gnu/libc.so.6", &libc),
        ("lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", &loader),
    ];
    for (path, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o755);
        h.set_size(data.len() as u64);
        tar.append_data(&mut h, path, data).unwrap();
    }
    tar.into_inner().unwrap()
}

#[test]
fn a_planted_nss_module_never_loads() {
    let reg = Registry::start(Auth::None, false).unwrap();
    testkit::images::push_busybox(&reg.addr, "library/busybox:latest").unwrap();
    testkit::images::push_with_raw_layer(
        &reg.addr,
        "library/busybox:latest",
        "test/evil-nss:1",
        &evil_layer(),
    )
    .unwrap();
    let port = reg.addr.rsplit_once(':').unwrap().1;
    // The base is pulled before the unpack; the push (another name, so another
    // connection) resolves its name after it.
    let df = format!(
        "FROM base.nss.test:{port}/test/evil-nss:1\nRUN echo ran > /ran.txt\nCOPY a.txt /a.txt\n"
    );
    let ctx = context(&[("Dockerfile", &df), ("a.txt", "a")]);
    let mut sb = Sandbox::new(&executor()).unwrap();
    sb.context(ctx.path());
    // A file of the root, not a mount: unpacking the base image replaces it.
    sb.file(
        "/etc/hosts",
        b"127.0.0.1 localhost base.nss.test push.nss.test\n",
    );
    let dest = format!("push.nss.test:{port}/test/nss-out:1");
    let out = build_in(&sb, &["--destination", &dest, "--verbosity=debug"]);
    assert!(
        !out.stderr.contains(MARK) && out.status != MARK_STATUS,
        "the base image's NSS module ran inside the executor:\n{}",
        out.stderr
    );
    assert_eq!(out.status, 0, "stderr:\n{}", out.stderr);
    assert!(exists(&reg, "test/nss-out:1"), "the image was pushed");
    // The image's hosts file did replace the root's, and was not used.
    assert!(std::fs::read_to_string(sb.root().join("etc/hosts"))
        .unwrap()
        .starts_with("127.0.0.2"));
    // The RUN did run (it is the payload, not the executor, that may use the image's libc).
    assert_eq!(
        std::fs::read_to_string(sb.root().join("ran.txt")).unwrap(),
        "ran\n"
    );
}

/// The executor binary holds no NSS code: no glibc function that consults NSS is linked
/// (getaddrinfo, getpw*, getgr*, gethostby*, getservby*, initgroups …; `src/no_nss.rs`
/// stands in for the ones std, nix and gix refer to), so no path, ours or a library's, can
/// load a module. Nor can a locale be set (no `setlocale`): glibc's only other `dlopen`,
/// of charset converters, needs a locale other than C.
#[test]
fn the_binary_links_no_nss_lookup() {
    let out = Command::new("nm").arg(executor()).output().expect("nm");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let defined: Vec<&str> = text
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let (_, kind, name) = (w.next()?, w.next()?, w.next()?);
            // `U`, `w` and `v` are references left undefined (weak ones are never linked).
            (!["U", "w", "v"].contains(&kind)).then_some(name)
        })
        .collect();
    let loaders: Vec<&&str> = defined
        .iter()
        .filter(|n| {
            n.starts_with("__nss_")
                || n.starts_with("_nss_")
                || ["setlocale", "newlocale", "initgroups", "getgrouplist"].contains(n)
        })
        .collect();
    assert!(
        loaders.is_empty(),
        "NSS or locale machinery is linked into the executor: {loaders:?}"
    );
}
