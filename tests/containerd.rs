//! The executor image under real containerd, run exactly as a user runs it: a private
//! containerd (testkit::containerd) pulls the image that `scripts/image` built and pushed to
//! a loopback registry, `ctr run` builds and pushes, then `ctr` pulls the built image and
//! runs it. The seed scenario (`--context=dir://workspace`), a RUN build, a context piped
//! as a gzip tar on stdin, the container check's containerd signs, and the GitLab job of
//! examples/ with the debug image.

mod common;

use common::image::{bind, repo_root, world, yaml_documents};
use std::path::Path;
use std::process::Command;
use testkit::containerd::CtrOutput;
use testkit::images::{push_busybox_with, Access, ImageSpec};
use testkit::registry::{Auth, Registry};

fn assert_built(out: &CtrOutput) {
    assert_eq!(
        out.status, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    assert!(out.stderr.contains("Pushed "), "{}", out.stderr);
}

/// The seed scenario, spelled as its user spelled it.
#[test]
fn seed_scenario_with_ctr_run() {
    let w = world("prebuilt");
    let dockerfile = format!(
        "FROM {}/library/busybox\nLABEL org.example.seed=\"hello\"\nENTRYPOINT [\"/bin/sh\", \"-c\", \"echo hello,busybox\"]\n",
        w.reg.addr
    );
    let ws = w.dir("seed", &[("dockerfile", &dockerfile)]);
    let dest = format!("{}/seed/hello:1", w.reg.addr);
    let out = w.executor(
        &["--mount", &bind(&ws, "/workspace")],
        "seed-build",
        &[
            "--dockerfile=/workspace/dockerfile",
            "--context=dir://workspace",
            &format!("--destination={dest}"),
        ],
        None,
    );
    assert_built(&out);
    // `dir://workspace` is `workspace` under the image's working directory, /workspace.
    assert!(
        out.stderr
            .contains("Build context directory /workspace/workspace does not exist"),
        "{}",
        out.stderr
    );
    assert_eq!(w.pull_and_run(&dest, "seed-run"), "hello,busybox\n");
    let cfg = testkit::images::inspect_raw(&w.reg.addr, "seed/hello:1", true).unwrap();
    assert_eq!(cfg["config"]["Labels"]["org.example.seed"], "hello");
}

/// A RUN and a COPY from the bind-mounted context (`dir:///workspace`, the usual spelling).
#[test]
fn run_build_with_ctr_run() {
    let w = world("prebuilt");
    let dockerfile = format!(
        "FROM {}/library/busybox\nCOPY name.txt /etc/name.txt\nRUN echo \"built by $(cat /etc/name.txt) as $(id -u)\" > /greeting && mkdir -p /app\nENTRYPOINT [\"cat\", \"/greeting\"]\n",
        w.reg.addr
    );
    let ws = w.dir(
        "run",
        &[("Dockerfile", &dockerfile), ("name.txt", "kaniko-rs\n")],
    );
    // Pushed by host name: the static binary resolves it with no libc in the image
    // (`ctr run --net-host` brings the host's /etc/hosts).
    let port = w.reg.addr.rsplit(':').next().unwrap();
    let dest = format!("{}/run/app:1", w.reg.addr);
    let out = w.executor(
        &["--mount", &bind(&ws, "/workspace")],
        "run-build",
        &[
            "--context=dir:///workspace",
            &format!("--destination=localhost:{port}/run/app:1"),
        ],
        None,
    );
    assert_built(&out);
    assert!(out.stderr.contains("RUN echo"), "{}", out.stderr);
    assert_eq!(
        w.pull_and_run(&dest, "run-run"),
        "built by kaniko-rs as 0\n"
    );
    // The context the user mounted is untouched.
    assert_eq!(
        std::fs::read_to_string(Path::new(&ws).join("name.txt")).unwrap(),
        "kaniko-rs\n"
    );
}

/// A gzip tar of the context on stdin; its command line names no runtime, so the overlay
/// root is what tells the executor it is in a container.
#[test]
fn context_on_stdin_with_ctr_run() {
    let w = world("prebuilt");
    let dockerfile = format!(
        "FROM {}/library/busybox\nCOPY message.txt /message.txt\nENTRYPOINT [\"cat\", \"/message.txt\"]\n",
        w.reg.addr
    );
    let ctx = w.dir(
        "stdin",
        &[("Dockerfile", &dockerfile), ("message.txt", "from stdin\n")],
    );
    let tgz = Command::new("tar")
        .args(["-czf", "-", "-C", &ctx, "."])
        .output()
        .unwrap();
    assert!(tgz.status.success());
    let dest = format!("{}/stdin/app:1", w.reg.addr);
    let out = w.executor(
        &[],
        "stdin-build",
        &[
            "--context=tar://stdin",
            "--verbosity=debug",
            &format!("--destination={dest}"),
        ],
        Some(&tgz.stdout),
    );
    assert_built(&out);
    assert!(
        out.stderr
            .contains("Running inside a container: overlay filesystem on / (/proc/mounts)"),
        "{}",
        out.stderr
    );
    assert_eq!(w.pull_and_run(&dest, "stdin-run"), "from stdin\n");
}

/// Without an overlay root (the native snapshotter) nothing marks the container, and the
/// executor refuses like kaniko; a Kubernetes service-account directory marks it again.
#[test]
fn container_check_under_containerd() {
    let w = world("prebuilt");
    w.ctrd
        .ctr_ok(&[
            "images",
            "pull",
            "--plain-http",
            "--snapshotter=native",
            &w.image,
        ])
        .unwrap();
    let dockerfile = format!("FROM {}/library/busybox\nLABEL a=b\n", w.reg.addr);
    let ws = w.dir("check", &[("Dockerfile", &dockerfile)]);
    let secrets = w.dir("serviceaccount", &[("token", "t")]);
    let ws_mount = bind(&ws, "/workspace");
    let native = ["--snapshotter=native", "--mount", &ws_mount];
    let args = ["--no-push", "--verbosity=debug"];
    let out = w.executor(&native, "check-native", &args, None);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("kaniko should only be run inside of a container"),
        "{}",
        out.stderr
    );
    let sa = bind(&secrets, "/var/run/secrets/kubernetes.io/serviceaccount");
    let out = w.executor(
        &[&native[..], &["--mount", &sa]].concat(),
        "check-sa",
        &args,
        None,
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "Running inside a container: /var/run/secrets/kubernetes.io/serviceaccount exists"
        ),
        "{}",
        out.stderr
    );
}

/// examples/gitlab-ci.yml's job run as GitLab's runner runs it: the debug image with its
/// entrypoint emptied, the job's script through /busybox/sh with GitLab's variables, against
/// a registry with TLS (a private CA, GitLab's CI_SERVER_TLS_CA_FILE) and basic auth.
#[test]
fn gitlab_job_with_the_debug_image() {
    let w = world("prebuilt-debug");
    let (user, password) = ("ci-user", "s3cret-ci-password");
    let auth = Auth::Basic {
        user: user.into(),
        password: password.into(),
    };
    let ci = Registry::start(auth, true).unwrap();
    let ca = ci.ca_cert.clone().unwrap();
    let access = Access {
        creds: Some((user, password)),
        ca_cert: Some(&ca),
    };
    let spec = ImageSpec::default();
    push_busybox_with(&ci.addr, "library/busybox:latest", &spec, &access).unwrap();
    let dockerfile = format!(
        "FROM {}/library/busybox\nRUN echo hello,gitlab > /msg\nENTRYPOINT [\"cat\", \"/msg\"]\n",
        ci.addr
    );
    let project = w.dir("project", &[("Dockerfile", &dockerfile)]);
    let certs = w.dir(
        "certs",
        &[("ca.crt", &std::fs::read_to_string(&ca).unwrap())],
    );

    let docs = yaml_documents(&repo_root().join("examples/gitlab-ci.yml"));
    let script: Vec<&str> = docs[0]["build"]["script"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let job = format!("set -e\n{}\n", script.join("\n"));
    let vars = [
        format!("CI_REGISTRY={}", ci.addr),
        format!("CI_REGISTRY_USER={user}"),
        format!("CI_REGISTRY_PASSWORD={password}"),
        format!("CI_REGISTRY_IMAGE={}/group/project", ci.addr),
        "CI_COMMIT_TAG=v1".into(),
        "CI_PROJECT_DIR=/builds/group/project".into(),
        "CI_SERVER_TLS_CA_FILE=/certs/ca.crt".into(),
    ];
    let project_mount = bind(&project, "/builds/group/project");
    let certs_mount = format!("type=bind,src={certs},dst=/certs,options=rbind:ro");
    let mut args = vec!["run", "--rm", "--net-host", "--mount", &project_mount];
    args.extend(["--mount", &certs_mount]);
    for v in &vars {
        args.extend(["--env", v]);
    }
    args.extend([w.image.as_str(), "gitlab-job", "/busybox/sh", "-c", &job]);
    let out = w.ctr(&args, None);
    assert_built(&out);
    assert!(!out.stderr.contains(password) && !out.stdout.contains(password));

    let built = format!("{}/group/project:v1", ci.addr);
    let creds = format!("{user}:{password}");
    // ctr takes a loopback registry for plain http unless a hosts.toml says otherwise.
    let hosts = w.ctrd.scratch(&format!("hosts/{}", ci.addr)).unwrap();
    let toml = format!(
        "server = \"https://{0}\"\n[host.\"https://{0}\"]\n  capabilities = [\"pull\", \"resolve\"]\n  ca = \"{1}\"\n",
        ci.addr,
        ca.display()
    );
    std::fs::write(hosts.join("hosts.toml"), toml).unwrap();
    let hosts_dir = hosts.parent().unwrap().display().to_string();
    w.ctrd
        .ctr_ok(&[
            "images",
            "pull",
            "--hosts-dir",
            &hosts_dir,
            "--user",
            &creds,
            &built,
        ])
        .unwrap();
    let run = w.ctr(&["run", "--rm", &built, "gitlab-run"], None);
    assert_eq!(run.stdout, "hello,gitlab\n", "{}", run.stderr);
}
