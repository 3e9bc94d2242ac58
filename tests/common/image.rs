//! The executor image as users get it: built by `scripts/image` from the top-level Dockerfile
//! (the test's executor builds its own image in the sandbox) and pushed to a loopback
//! registry; plus the Python tools `.ci/run` installs for reading the examples.

use super::{executor, registry_with_busybox};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use testkit::containerd::{Containerd, CtrOutput};
use testkit::registry::Registry;

/// The repository the tests push the executor image to.
pub const REPO: &str = "kaniko-rs/executor";

/// Where `.ci/run` makes the virtual environment with kubernetes-validate, check-jsonschema
/// and PyYAML.
const VENV: &str = "/var/lib/kaniko-rs/venv/bin";

pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// What `scripts/image` printed: one `REF@sha256:… compressed N bytes` line per image on
/// stdout, the executor's log on stderr.
pub struct Built {
    pub stdout: String,
    pub stderr: String,
}

/// Runs `scripts/image` for `targets`, pushing `REPO:tag` (and the debug variant) to `reg`.
pub fn build_image(reg: &Registry, tag: &str, targets: &[&str]) -> Built {
    let mut cmd = Command::new("timeout");
    cmd.arg("600")
        .arg(repo_root().join("scripts/image"))
        .arg("--executor")
        .arg(executor())
        .arg(format!("--destination={}/{REPO}:{tag}", reg.addr));
    for t in targets {
        cmd.arg(format!("--target={t}"));
    }
    let out = cmd.output().expect("run scripts/image");
    let built = Built {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        out.status.success(),
        "scripts/image failed ({}):\n{}\n{}",
        out.status,
        built.stdout,
        built.stderr
    );
    built
}

/// A tool from `.ci/run`'s virtual environment, else from PATH.
pub fn python_tool(name: &str) -> PathBuf {
    let venv = Path::new(VENV).join(name);
    if venv.exists() {
        return venv;
    }
    PathBuf::from(name)
}

/// A YAML file as JSON, read by PyYAML's safe loader (every document, in order).
pub fn yaml_documents(path: &Path) -> Vec<serde_json::Value> {
    let script = "import json, sys, yaml\n\
        print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))";
    let out = Command::new(python_tool("python3"))
        .args(["-c", script])
        .arg(path)
        .output()
        .expect("run python3 (install PyYAML with .ci/run)");
    assert!(
        out.status.success(),
        "{}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("python's JSON")
}

/// A registry with busybox and the executor image, and a containerd that pulled it.
pub struct World {
    pub reg: Registry,
    pub ctrd: Containerd,
    /// The executor image's full reference.
    pub image: String,
}

/// `target` is `prebuilt` or `prebuilt-debug`.
pub fn world(target: &str) -> World {
    let reg = registry_with_busybox();
    build_image(&reg, "test", &[target]);
    let tag = if target == "prebuilt-debug" {
        "test-debug"
    } else {
        "test"
    };
    let image = format!("{}/{REPO}:{tag}", reg.addr);
    let ctrd = Containerd::start().expect("start containerd");
    ctrd.ctr_ok(&["images", "pull", "--plain-http", &image])
        .expect("pull the executor image");
    World { reg, ctrd, image }
}

impl World {
    /// `ctr ARGS` with up to ten minutes to finish.
    pub fn ctr(&self, args: &[&str], stdin: Option<&[u8]>) -> CtrOutput {
        self.ctrd
            .ctr(args, stdin, Duration::from_secs(600))
            .expect("run ctr")
    }

    /// Pulls `reference` (plain http) and runs it with `ctr run --rm`; returns its stdout.
    pub fn pull_and_run(&self, reference: &str, id: &str) -> String {
        self.ctrd
            .ctr_ok(&["images", "pull", "--plain-http", reference])
            .expect("pull the built image");
        let out = self.ctr(&["run", "--rm", reference, id], None);
        assert_eq!(out.status, 0, "{}", out.stderr);
        out.stdout
    }

    /// `ctr run --rm --net-host OPTIONS IMAGE ID /kaniko/executor ARGS`: the executor image
    /// run as a user runs it (OPTIONS are more `ctr run` options, such as `--mount`).
    pub fn executor(
        &self,
        options: &[&str],
        id: &str,
        args: &[&str],
        stdin: Option<&[u8]>,
    ) -> CtrOutput {
        let mut all = vec!["run", "--rm", "--net-host"];
        all.extend_from_slice(options);
        all.extend([self.image.as_str(), id, "/kaniko/executor"]);
        all.extend_from_slice(args);
        self.ctr(&all, stdin)
    }

    /// A directory with `files`, for bind mounts.
    pub fn dir(&self, name: &str, files: &[(&str, &str)]) -> String {
        let d = self.ctrd.scratch(name).unwrap();
        for (p, text) in files {
            std::fs::write(d.join(p), text).unwrap();
        }
        d.display().to_string()
    }
}

/// A `ctr run --mount` value: `src` bind-mounted read-write at `dst`.
pub fn bind(src: &str, dst: &str) -> String {
    format!("type=bind,src={src},dst={dst},options=rbind:rw")
}
