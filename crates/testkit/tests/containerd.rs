//! The private containerd: it pulls and runs an image with `ctr`, keeps its state in its own
//! directory and mount namespace, and leaves no process, cgroup or file behind.

use std::path::Path;
use testkit::containerd::Containerd;
use testkit::registry::{Auth, Registry};

#[test]
fn runs_a_container_and_leaves_nothing_behind() {
    let reg = Registry::start(Auth::None, false).unwrap();
    testkit::images::push_busybox(&reg.addr, "library/busybox:latest").unwrap();
    let image = format!("{}/library/busybox:latest", reg.addr);
    let ctrd = Containerd::start().unwrap();
    let pid = ctrd.daemon_pid().unwrap();
    let socket = ctrd.socket();
    let namespace = ctrd.namespace.clone();
    ctrd.ctr_ok(&["images", "pull", "--plain-http", &image])
        .unwrap();
    let script = "echo hi; head -1 /proc/mounts; cat /proc/self/cgroup";
    let out = ctrd
        .ctr_ok(&["run", "--rm", &image, "probe", "sh", "-c", script])
        .unwrap();
    assert!(out.starts_with("hi\noverlay / overlay "), "{out}");
    assert!(out.contains(&format!("/{namespace}/probe")), "{out}");
    // The host sees none of the daemon's mounts: they live in its own namespace.
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let root = socket.parent().unwrap().display().to_string();
    assert!(!mounts.contains(&root), "{mounts}");

    drop(ctrd);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "containerd still runs"
    );
    assert!(!Path::new(&root).exists(), "{root} left behind");
    for c in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        assert!(!c.path().join(&namespace).exists(), "cgroup {:?}", c.path());
    }
}
