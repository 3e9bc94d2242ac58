//! examples/kubernetes/pod.yaml played for real: Debian's podman (`--runtime runc kube play
//! --network host`, testkit::podman) runs the Pod as a node would, with the default
//! capabilities and seccomp profile, its context volume (the PersistentVolumeClaim, a
//! podman volume holding the context) and its `docker-registry` Secret mounted as
//! /kaniko/.docker/config.json, against a registry with basic auth. The Dockerfile uses a
//! cache mount and `--network=none`. The test reads the pushed digest back and runs the
//! image with podman.

mod common;

use common::image::{build_image, repo_root, REPO};
use common::registry_with_busybox;
use testkit::images::{push_busybox_with, Access, ImageSpec};
use testkit::podman::{Podman, PODMAN_TIMEOUT};
use testkit::registry::{Auth, Registry};

#[test]
fn the_pod_example_under_podman_kube_play() {
    let images = registry_with_busybox();
    build_image(&images, "test", &["prebuilt"]);
    let executor = format!("{}/{REPO}:test", images.addr);
    let (user, password) = ("pod-user", "s3cret-pod-password");
    let auth = Auth::Basic {
        user: user.into(),
        password: password.into(),
    };
    let reg = Registry::start(auth, false).unwrap();
    let access = Access {
        creds: Some((user, password)),
        ca_cert: None,
    };
    push_busybox_with(
        &reg.addr,
        "library/busybox:latest",
        &ImageSpec::default(),
        &access,
    )
    .unwrap();
    let podman = Podman::new().unwrap();

    context_volume(&podman, &reg.addr);
    secret(&podman, &reg.docker_config(user, password));
    // The example Pod with this test's image and destination (plain http registries).
    let dest = format!("{}/team/app:1.0", reg.addr);
    let pod = std::fs::read_to_string(repo_root().join("examples/kubernetes/pod.yaml"))
        .unwrap()
        .replace("registry.example.com/kaniko-rs/executor:latest", &executor)
        .replace("registry.example.com/team/app:1.0", &dest)
        .replace(
            "        - --digest-file=/dev/termination-log\n",
            "        - --digest-file=/dev/termination-log\n        - --insecure\n        - --insecure-pull\n",
        );
    assert!(pod.contains("--insecure-pull") && pod.contains(&executor));
    let play = podman.scratch("play").unwrap().join("pod.yaml");
    std::fs::write(&play, pod).unwrap();
    let play_s = play.display().to_string();
    podman
        .podman_ok(&[
            "kube",
            "play",
            "--network",
            "host",
            "--tls-verify=false",
            &play_s,
        ])
        .unwrap();
    let container = "kaniko-rs-kaniko";
    let code = podman.podman_ok(&["wait", container]).unwrap();
    let logs = podman
        .podman(&["logs", container], None, PODMAN_TIMEOUT)
        .unwrap();
    let log = format!("{}{}", logs.stdout, logs.stderr);
    assert_eq!(code.trim(), "0", "{log}");
    assert!(!log.contains(password));
    // The digest the executor pushed is the one the registry serves for the tag.
    let pushed = log
        .lines()
        .find_map(|l| l.split(&format!("Pushed {}/team/app@", reg.addr)).nth(1))
        .map(|d| d.trim_end_matches('"').trim().to_string())
        .unwrap_or_else(|| panic!("no Pushed line:\n{log}"));
    let served = testkit::images::inspect_as(&reg.addr, "team/app:1.0", &access).unwrap();
    assert_eq!(served["Digest"].as_str(), Some(pushed.as_str()), "{served}");
    let creds = format!("{user}:{password}");
    podman
        .podman_ok(&["pull", "--tls-verify=false", "--creds", &creds, &dest])
        .unwrap();
    let run = podman
        .podman_ok(&["run", "--rm", "--network", "host", &dest])
        .unwrap();
    assert_eq!(run, "from-a-pod\noffline\n");
}

/// The context volume the Pod's claim names: a Dockerfile with a cache mount and
/// `--network=none`, FROM the busybox of the registry at `addr`.
fn context_volume(podman: &Podman, addr: &str) {
    let ctx = podman.scratch("context").unwrap();
    let df = format!(
        "# syntax=docker/dockerfile:1\nFROM {}/library/busybox:latest\n\
         RUN --mount=type=cache,target=/c echo from-a-pod > /c/msg && cp /c/msg /msg\n\
         RUN --network=none (nc -w 2 127.0.0.1 1 </dev/null || echo offline) >> /msg\n\
         ENTRYPOINT [\"cat\", \"/msg\"]\n",
        addr
    );
    std::fs::write(ctx.join("Dockerfile"), df).unwrap();
    let tar = podman.scratch("tar").unwrap().join("context.tar");
    let made = std::process::Command::new("tar")
        .arg("-cf")
        .arg(&tar)
        .arg("-C")
        .arg(&ctx)
        .arg(".")
        .status()
        .unwrap();
    assert!(made.success());
    podman
        .podman_ok(&["volume", "create", "build-context"])
        .unwrap();
    let tar_s = tar.display().to_string();
    podman
        .podman_ok(&["volume", "import", "build-context", &tar_s])
        .unwrap();
}

/// The Secret `kubectl create secret docker-registry regcred` makes (`config` its Docker
/// config), in podman's secret store.
fn secret(podman: &Podman, config: &str) {
    // The Secret `kubectl create secret docker-registry regcred` makes, in podman's secret
    // store (podman 4.3's kube play reads secret volumes from there). Podman 4.3 ignores
    // the volume's `items` (it mounts every key under its own name) and writes `data`
    // values as they are written, not base64-decoded, so for podman the Secret also holds
    // `config.json` as plain JSON (Kubernetes decodes and projects only the item).
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {}\n  config.json: '{config}'\n",
        base64_of(config)
    );
    let secret_file = podman.scratch("secret").unwrap().join("regcred.yaml");
    std::fs::write(&secret_file, secret).unwrap();
    let secret_s = secret_file.display().to_string();
    podman
        .podman_ok(&["secret", "create", "regcred", &secret_s])
        .unwrap();
}

fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}
