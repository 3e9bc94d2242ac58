//! Each of kaniko's container signs, one at a time, in a throwaway root.

use super::*;

fn none(_: &str) -> Option<String> {
    None
}

/// A root with `files` (path, contents) and nothing else.
fn root_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (p, text) in files {
        let p = dir.path().join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn detected(files: &[(&str, &str)]) -> Option<String> {
    detect(root_with(files).path(), &none)
}

/// What this machine kind shows on a host: cgroup v1 paths, an ext4 root, init as pid 1.
const HOST: &[(&str, &str)] = &[
    ("proc/self/cgroup", "4:memory:/process_api/07b2\n0::/\n"),
    ("proc/1/cmdline", "/sbin/init\0splash\0"),
    (
        "proc/mounts",
        "proc /proc proc rw 0 0\n/dev/vda / ext4 rw 0 0\noverlay /x overlay rw 0 0\n",
    ),
];

#[test]
fn a_host_is_no_container() {
    assert_eq!(detected(&[]), None);
    assert_eq!(detected(HOST), None);
}

#[test]
fn runtime_names_in_the_cgroup_file() {
    for (cgroup, runtime) in [
        ("0::/kubepods/burstable/pod1/abc\n", "kube"),
        ("12:pids:/docker/0123\n", "docker"),
        ("0::/lxc.payload.c1\n", "lxc"),
        ("0::/machine.slice/libpod-1.scope\n", ""),
        ("0::/system.slice/containerd.service\n", ""),
        ("0::/\n", ""),
    ] {
        let got = detected(&[("proc/self/cgroup", cgroup)]);
        match runtime {
            "" => assert_eq!(got, None, "{cgroup}"),
            r => assert_eq!(got, Some(format!("{r} in /proc/self/cgroup")), "{cgroup}"),
        }
    }
}

#[test]
fn openvz_and_gvisor_marks() {
    assert_eq!(
        detected(&[("proc/vz", "")]).as_deref(),
        Some("openvz (/proc/vz)")
    );
    assert_eq!(
        detected(&[("proc/vz", ""), ("proc/bc", "")]),
        None,
        "an OpenVZ host"
    );
    assert!(detected(&[("__runsc_containers__", "")])
        .unwrap()
        .starts_with("gvisor"));
}

#[test]
fn runtime_names_in_pid_1_command_line() {
    // kaniko's substring test: `--dockerfile` as pid 1's argument counts as docker.
    let cmdline = "/kaniko/executor\0--dockerfile=/workspace/Dockerfile\0";
    assert_eq!(
        detected(&[("proc/1/cmdline", cmdline)]).as_deref(),
        Some("docker in /proc/1/cmdline")
    );
    assert_eq!(
        detected(&[("proc/1/cmdline", "/kaniko/executor\0-f\0Dockerfile\0")]),
        None
    );
    assert!(detected(&[("proc/1/cmdline", "firejail\0sh\0")]).is_some());
}

#[test]
fn wsl_signature() {
    let sig = "Microsoft 4.4.0-19041.1-Microsoft 4.4.35";
    assert!(detected(&[("proc/version_signature", sig)])
        .unwrap()
        .starts_with("wsl"));
    assert_eq!(detected(&[("proc/version_signature", "Ubuntu 5.15")]), None);
}

#[test]
fn the_container_variable_must_name_a_runtime() {
    let root = root_with(&[]);
    let with = |v: &'static str| move |k: &str| (k == "container").then(|| v.to_string());
    assert_eq!(
        detect(root.path(), &with("podman")).as_deref(),
        Some("podman in $container")
    );
    assert!(detect(root.path(), &with("systemd-nspawn")).is_some());
    assert_eq!(
        detect(root.path(), &with("oci")),
        None,
        "kaniko knows no `oci`"
    );
    let k8s = |k: &str| (k == "KUBERNETES_SERVICE_HOST").then(|| "10.0.0.1".to_string());
    assert_eq!(
        detect(root.path(), &k8s),
        None,
        "kaniko ignores this variable"
    );
}

#[test]
fn systemd_container_file() {
    assert!(detected(&[("run/systemd/container", "lxc-libvirt\n")]).is_some());
    assert_eq!(detected(&[("run/systemd/container", "\n")]), None);
}

#[test]
fn marker_files() {
    for f in [
        "run/.containerenv",
        ".dockerenv",
        "var/run/secrets/kubernetes.io/serviceaccount/token",
    ] {
        assert!(detected(&[(f, "")]).unwrap().ends_with(" exists"), "{f}");
    }
    let dir = root_with(&[]);
    std::fs::create_dir_all(
        dir.path()
            .join("var/run/secrets/kubernetes.io/serviceaccount"),
    )
    .unwrap();
    assert_eq!(
        detect(dir.path(), &none).as_deref(),
        Some("/var/run/secrets/kubernetes.io/serviceaccount exists")
    );
    assert_eq!(
        detected(&[("var/run/secrets/kubernetes.io/other", "")]),
        None
    );
}

#[test]
fn overlay_on_root_as_the_first_mount() {
    let containerd = "overlay / overlay rw,relatime,lowerdir=/l,upperdir=/u,workdir=/w 0 0\nproc /proc proc rw 0 0\n";
    assert_eq!(
        detected(&[("proc/mounts", containerd)]).as_deref(),
        Some("overlay filesystem on / (/proc/mounts)")
    );
    assert!(detected(&[("proc/mounts", "\n rootfs / overlayfs rw 0 0\n")]).is_some());
    for mounts in [
        "proc /proc proc rw 0 0\noverlay / overlay rw 0 0\n",
        "overlay /var overlay rw 0 0\n",
        "/dev/vda / ext4 rw 0 0\n",
        " / overlay",
        "overlay",
        "",
    ] {
        assert!(!overlay_root(mounts.trim()), "{mounts:?}");
    }
}

#[test]
fn first_sign_wins_in_kanikos_order() {
    let got = detected(&[
        ("proc/mounts", "overlay / overlay rw 0 0\n"),
        (".dockerenv", ""),
        ("proc/self/cgroup", "0::/kubepods/x\n"),
    ]);
    assert_eq!(got.as_deref(), Some("kube in /proc/self/cgroup"));
    let got = detected(&[
        ("proc/mounts", "overlay / overlay rw 0 0\n"),
        (".dockerenv", ""),
    ]);
    assert_eq!(got.as_deref(), Some("/.dockerenv exists"));
}
