//! The executor image where users run it: `docker run` with Docker's default settings (the
//! default capability set, no CAP_SYS_ADMIN, the default seccomp profile; `--network host`
//! on this machine kind) under a private Debian dockerd. One daemon and one image (built by
//! `scripts/image`, the `prebuilt` and `prebuilt-debug` targets) for every scenario: RUN,
//! COPY and a multi-stage build with every `RUN --mount` type and `--network=none`, a
//! numeric USER, cache mounts kept in a named volume across two builds, secrets absent from
//! every blob, log and the container's disk after a failing RUN and after SIGTERM, the
//! warmer then `--cache-dir`, and the GitLab job's script through the debug image's
//! `/busybox/sh`. Each built image is pulled back and run with `docker run`.

mod common;

use common::image::{build_image, repo_root, yaml_documents, REPO};
use common::registry_with_busybox;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use testkit::docker::{Docker, DOCKER_TIMEOUT};
use testkit::leaks;
use testkit::registry::{Auth, Registry};
use testkit::sandbox::Output;

struct World {
    reg: Registry,
    docker: Docker,
    image: String,
    debug: String,
}

fn world() -> World {
    let reg = registry_with_busybox();
    build_image(&reg, "test", &[]);
    let docker = Docker::start().expect("start dockerd");
    let image = format!("{}/{REPO}:test", reg.addr);
    let debug = format!("{}/{REPO}:test-debug", reg.addr);
    for i in [&image, &debug] {
        docker
            .docker_ok(&["pull", "-q", i])
            .expect("pull the executor image");
    }
    World {
        reg,
        docker,
        image,
        debug,
    }
}

impl World {
    /// `docker run --network host OPTIONS IMAGE ARGS`, as a user runs the executor.
    fn run(&self, options: &[&str], image: &str, args: &[&str]) -> Output {
        let mut all = vec!["run", "--network", "host"];
        all.extend_from_slice(options);
        all.push(image);
        all.extend_from_slice(args);
        self.docker
            .docker(&all, None, DOCKER_TIMEOUT)
            .expect("docker run")
    }

    /// A directory of the test's own with `files`.
    fn dir(&self, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let d = self.docker.scratch(name).unwrap();
        for (p, text) in files {
            std::fs::write(d.join(p), text).unwrap();
        }
        d
    }

    /// Pulls `reference` and runs it with `docker run --rm`; returns its stdout.
    fn pull_and_run(&self, reference: &str) -> String {
        self.docker.docker_ok(&["pull", "-q", reference]).unwrap();
        self.docker
            .docker_ok(&["run", "--rm", "--network", "host", reference])
            .unwrap()
    }

    /// Exports the (stopped) container `name`'s file system and removes the container;
    /// returns the files of the export holding `needle`.
    fn disk_holding(&self, name: &str, needle: &str) -> Vec<PathBuf> {
        let dir = self.docker.scratch(&format!("export-{name}")).unwrap();
        let tar = dir.join("fs.tar");
        let tar_s = tar.display().to_string();
        self.docker
            .docker_ok(&["export", "-o", &tar_s, name])
            .unwrap();
        self.docker.docker_ok(&["rm", name]).unwrap();
        let found = leaks::files_holding(&dir, needle.as_bytes());
        std::fs::remove_file(&tar).unwrap();
        found
    }
}

fn assert_built(out: &Output) {
    assert_eq!(
        out.status, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    assert!(out.stderr.contains("Pushed "), "{}", out.stderr);
}

/// A loopback TCP server on the host that answers `pong` to every connection.
fn pong_server() -> u16 {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let _ = conn.write_all(b"pong\n");
        }
    });
    port
}

const FILE_SECRET: &str = "s3cr3t-docker-file-3b9e";
const ENV_SECRET: &str = "s3cr3t-docker-env-77d0";

/// Every mount type, `--network=none`, COPY, a stage and a numeric USER, built twice with
/// the cache mounts in a named volume.
fn mounts_network_and_stages(w: &World) {
    let port = pong_server();
    let df = format!(
        "# syntax=docker/dockerfile:1\n\
         FROM {r}/library/busybox:latest AS tools\n\
         RUN mkdir /out && echo 'echo from-stage' > /out/tool.sh\n\
         FROM {r}/library/busybox:latest\n\
         COPY app.txt /app/\n\
         COPY --from=tools /out/tool.sh /app/tool.sh\n\
         RUN --mount=type=cache,target=/var/cache/dl \\\n\
         \x20 (test -f /var/cache/dl/pkg && echo hit || (echo pkg > /var/cache/dl/pkg && echo miss)) > /app/cache.txt\n\
         RUN --mount=type=secret,id=tok,mode=0444 --mount=type=secret,id=envtok,env=TOK \\\n\
         \x20 sha256sum /run/secrets/tok | cut -c1-64 > /app/secret.txt && printf %s \"$TOK\" | sha256sum | cut -c1-64 >> /app/secret.txt\n\
         RUN --mount=type=bind,from=tools,source=/out,target=/mnt/tools sh /mnt/tools/tool.sh > /app/stage.txt\n\
         RUN --mount=type=bind,target=/ctx echo changed > /ctx/app.txt && cat /ctx/app.txt > /app/bind.txt\n\
         RUN --mount=type=tmpfs,target=/scratch (ls -A /scratch; echo tmpfs-empty) > /app/tmpfs.txt && echo t > /scratch/t\n\
         RUN --mount=type=ssh test -S \"$SSH_AUTH_SOCK\" && echo ssh-agent > /app/ssh.txt\n\
         RUN nc 127.0.0.1 {port} </dev/null > /app/net.txt\n\
         RUN --network=none (nc -w 2 127.0.0.1 {port} </dev/null || echo unreachable) >> /app/net.txt\n\
         USER 65534\n\
         RUN id -u > /tmp/uid.txt\n\
         ENTRYPOINT [\"sh\", \"-c\", \"cat /app/app.txt /app/cache.txt /app/secret.txt /app/stage.txt /app/bind.txt /app/tmpfs.txt /app/ssh.txt /app/net.txt /tmp/uid.txt; for p in /mnt /scratch /run/secrets /run/buildkit /var/cache/dl; do [ -e $p ] && echo left $p; done; true\"]\n",
        r = w.reg.addr
    );
    let ctx = w.dir("mounts-ctx", &[("Dockerfile", &df), ("app.txt", "app\n")]);
    let secrets = w.dir("mounts-secrets", &[("tok", FILE_SECRET)]);
    let agent = w.docker.scratch("agent").unwrap();
    let _listener = std::os::unix::net::UnixListener::bind(agent.join("agent.sock")).unwrap();
    let volumes = [
        format!("{}:/workspace", ctx.display()),
        format!("{}:/run/pod-secrets:ro", secrets.display()),
        format!("{}:/run/agent", agent.display()),
    ];
    let sum = |s: &str| ::image::Digest::sha256(s.as_bytes()).hex().to_string();
    for (n, hit) in [(1, "miss"), (2, "hit")] {
        let dest = format!("{}/test/mounts:{n}", w.reg.addr);
        let name = format!("mounts-{n}");
        let mut opts = vec!["--name", &name, "-v", "kaniko-caches:/kaniko/caches"];
        for v in &volumes {
            opts.extend(["-v", v.as_str()]);
        }
        let token = format!("SOME_TOKEN={ENV_SECRET}");
        opts.extend(["-e", &token, "-e", "SSH_AUTH_SOCK=/run/agent/agent.sock"]);
        let out = w.run(
            &opts,
            &w.image,
            &[
                "--context=dir:///workspace",
                &format!("--destination={dest}"),
                "--secret=id=tok,src=/run/pod-secrets/tok",
                "--secret=id=envtok,env=SOME_TOKEN",
                "--verbosity=trace",
            ],
        );
        assert_built(&out);
        for secret in [FILE_SECRET, ENV_SECRET] {
            assert!(!out.stdout.contains(secret) && !out.stderr.contains(secret));
            assert_eq!(
                leaks::blobs_holding(&w.reg, secret.as_bytes()),
                Vec::<PathBuf>::new()
            );
        }
        assert_eq!(w.disk_holding(&name, FILE_SECRET), Vec::<PathBuf>::new());
        let shown = w.pull_and_run(&dest);
        assert_eq!(
            shown,
            format!(
                "app\n{hit}\n{}\n{}\nfrom-stage\nchanged\ntmpfs-empty\nssh-agent\npong\nunreachable\n65534\n",
                sum(FILE_SECRET),
                sum(ENV_SECRET)
            )
        );
    }
    assert_eq!(
        std::fs::read_to_string(ctx.join("app.txt")).unwrap(),
        "app\n",
        "a bind mount changed the context"
    );
}

/// A RUN that fails while it holds a secret, then one stopped by SIGTERM: nothing of the
/// secret in a blob (the layer cache got the first RUN's layer), a log or the disk.
fn secrets_after_failure_and_sigterm(w: &World) {
    let secret = "s3cr3t-docker-killed-a41c";
    let df = format!(
        "FROM {r}/library/busybox:latest\n\
         RUN echo before > /before\n\
         RUN --mount=type=secret,id=tok,target=/etc/app/token test -s /etc/app/token \\\n\
         \x20 && if [ -e /workspace/fail ]; then exit 3; fi; touch /workspace/started; sleep 600\n",
        r = w.reg.addr
    );
    let ctx = w.dir("killed-ctx", &[("Dockerfile", &df), ("fail", "")]);
    let secrets = w.dir("killed-secrets", &[("tok", secret)]);
    let v_ctx = format!("{}:/workspace", ctx.display());
    let v_sec = format!("{}:/run/pod-secrets:ro", secrets.display());
    let dest = format!("--destination={}/test/killed:1", w.reg.addr);
    let cache = format!("--cache-repo={}/test/killed-cache", w.reg.addr);
    let args = [
        "--context=dir:///workspace",
        &dest,
        "--secret=id=tok,src=/run/pod-secrets/tok",
        "--cache=true",
        &cache,
        "--verbosity=trace",
    ];
    let check = |name: &str, out: &Output| {
        assert!(!out.stdout.contains(secret) && !out.stderr.contains(secret));
        assert_eq!(
            leaks::blobs_holding(&w.reg, secret.as_bytes()),
            Vec::<PathBuf>::new()
        );
        assert_eq!(w.disk_holding(name, secret), Vec::<PathBuf>::new());
    };
    let opts = ["--name", "failing", "-v", &v_ctx, "-v", &v_sec];
    let out = w.run(&opts, &w.image, &args);
    assert_eq!(out.status, 3, "{}", out.stderr);
    check("failing", &out);

    std::fs::remove_file(ctx.join("fail")).unwrap();
    let opts = ["-d", "--name", "stopped", "-v", &v_ctx, "-v", &v_sec];
    let started = w.run(&opts, &w.image, &args);
    assert_eq!(started.status, 0, "{}", started.stderr);
    let deadline = Instant::now() + Duration::from_secs(120);
    while !ctx.join("started").exists() {
        assert!(Instant::now() < deadline, "the RUN never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    w.docker
        .docker_ok(&["kill", "--signal", "TERM", "stopped"])
        .unwrap();
    let code = w.docker.docker_ok(&["wait", "stopped"]).unwrap();
    assert_eq!(code.trim(), "143");
    let logs = w
        .docker
        .docker(&["logs", "stopped"], None, DOCKER_TIMEOUT)
        .unwrap();
    assert!(logs.stderr.contains("received SIGTERM"), "{}", logs.stderr);
    check("stopped", &logs);
    assert!(testkit::images::inspect(&w.reg.addr, "test/killed:1").is_err());
}

/// The warmer fills a volume, the executor builds from it with `--cache-dir`.
fn warmer_then_cache_dir(w: &World) {
    let base = format!("{}/library/busybox:latest", w.reg.addr);
    let warmer = w.run(
        &[
            "--rm",
            "-v",
            "kaniko-warm:/cache",
            "--entrypoint",
            "/kaniko/warmer",
        ],
        &w.image,
        &[
            "--cache-dir=/cache",
            &format!("--image={base}"),
            "--insecure-pull",
        ],
    );
    assert_eq!(warmer.status, 0, "{}", warmer.stderr);
    let df = format!("FROM {base}\nRUN echo warm > /warm\nENTRYPOINT [\"cat\", \"/warm\"]\n");
    let ctx = w.dir("warm-ctx", &[("Dockerfile", &df)]);
    let v_ctx = format!("{}:/workspace", ctx.display());
    let dest = format!("{}/test/warm:1", w.reg.addr);
    let out = w.run(
        &["--rm", "-v", "kaniko-warm:/cache", "-v", &v_ctx],
        &w.image,
        &[
            "--context=dir:///workspace",
            &format!("--destination={dest}"),
            "--cache=true",
            "--cache-dir=/cache",
        ],
    );
    assert_built(&out);
    assert!(out.stderr.contains("in local cache"), "{}", out.stderr);
    assert_eq!(w.pull_and_run(&dest), "warm\n");
}

/// examples/gitlab-ci.yml's job as GitLab's Docker executor runs it: the debug image with
/// its entrypoint emptied, the script through /busybox/sh, against a registry with TLS (a
/// private CA) and basic auth.
fn gitlab_job(w: &World) {
    let (user, password) = ("ci-user", "s3cret-ci-docker");
    let auth = Auth::Basic {
        user: user.into(),
        password: password.into(),
    };
    let ci = Registry::start(auth, true).unwrap();
    let ca = ci.ca_cert.clone().unwrap();
    let access = testkit::images::Access {
        creds: Some((user, password)),
        ca_cert: Some(&ca),
    };
    let spec = testkit::images::ImageSpec::default();
    testkit::images::push_busybox_with(&ci.addr, "library/busybox:latest", &spec, &access).unwrap();
    let df = format!(
        "FROM {}/library/busybox\nRUN --mount=type=cache,target=/c echo hello,gitlab > /msg\nENTRYPOINT [\"cat\", \"/msg\"]\n",
        ci.addr
    );
    let project = w.dir("project", &[("Dockerfile", &df)]);
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
    let v_project = format!("{}:/builds/group/project", project.display());
    let v_certs = format!("{}:/certs:ro", certs.display());
    let mut opts = vec!["--rm", "--entrypoint", "", "-v", &v_project, "-v", &v_certs];
    for v in &vars {
        opts.extend(["-e", v.as_str()]);
    }
    let out = w.run(&opts, &w.debug, &["/busybox/sh", "-c", &job]);
    assert_built(&out);
    assert!(!out.stderr.contains(password) && !out.stdout.contains(password));
    // Docker takes a loopback registry as insecure: TLS without verification.
    let login = w.docker.docker(
        &["login", "-u", user, "--password-stdin", &ci.addr],
        Some(password.as_bytes()),
        DOCKER_TIMEOUT,
    );
    assert_eq!(login.unwrap().status, 0);
    assert_eq!(
        w.pull_and_run(&format!("{}/group/project:v1", ci.addr)),
        "hello,gitlab\n"
    );
}

#[test]
fn the_executor_image_under_docker_run_with_default_settings() {
    let w = world();
    // What the container gets: Docker's default capabilities, no CAP_SYS_ADMIN, seccomp.
    let probe = w.run(
        &["--rm", "--entrypoint", "/busybox/sh"],
        &w.debug,
        &["-c", "grep -E '^(CapEff|Seccomp):' /proc/self/status"],
    );
    assert_eq!(
        probe.stdout, "CapEff:\t00000000a80425fb\nSeccomp:\t2\n",
        "{probe:?}"
    );
    mounts_network_and_stages(&w);
    secrets_after_failure_and_sigterm(&w);
    warmer_then_cache_dir(&w);
    gitlab_job(&w);
}
