//! Runs the executor as a Pod would: in fresh mount and pid namespaces (`unshare`), chrooted
//! into a throwaway root that holds /kaniko/executor, with the context bind-mounted at
//! /workspace, /proc mounted anew and /dev bound. Every mount is private to the namespace,
//! so nothing is mounted or written on the host's `/`.

use anyhow::{Context, Result};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Sandbox {
    root: tempfile::TempDir,
    context: Option<PathBuf>,
    env: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The environment kaniko's image sets.
const BASE_ENV: [(&str, &str); 6] = [
    (
        "PATH",
        "/usr/local/bin:/kaniko:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
    ),
    ("HOME", "/root"),
    ("USER", "root"),
    ("SSL_CERT_DIR", "/kaniko/ssl/certs"),
    ("DOCKER_CONFIG", "/kaniko/.docker/"),
    (
        "DOCKER_CREDENTIAL_GCR_CONFIG",
        "/kaniko/.config/gcloud/docker_credential_gcr_config.json",
    ),
];

impl Sandbox {
    /// A root with /kaniko/executor (a copy of `executor`) and a `/.dockerenv` marker.
    pub fn new(executor: &Path) -> Result<Sandbox> {
        let root = tempfile::Builder::new().prefix("sandbox-").tempdir()?;
        for d in [
            "kaniko/.docker",
            "kaniko/ssl/certs",
            "workspace",
            "proc",
            "dev",
            "sys",
            "tmp",
            "etc",
        ] {
            std::fs::create_dir_all(root.path().join(d))?;
        }
        std::fs::set_permissions(
            root.path().join("tmp"),
            std::fs::Permissions::from_mode(0o1777),
        )?;
        let exe = root.path().join("kaniko/executor");
        std::fs::copy(executor, &exe).with_context(|| format!("copying {}", executor.display()))?;
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755))?;
        std::fs::write(root.path().join(".dockerenv"), "")?;
        std::fs::write(root.path().join("etc/hosts"), "127.0.0.1 localhost\n")?;
        std::fs::write(root.path().join("etc/resolv.conf"), "")?;
        Ok(Sandbox {
            root,
            context: None,
            env: Vec::new(),
        })
    }

    /// No container marker: the executor should think it runs on a host.
    pub fn without_container_marker(&mut self) -> &mut Self {
        let _ = std::fs::remove_file(self.root.path().join(".dockerenv"));
        self
    }

    pub fn context(&mut self, dir: &Path) -> &mut Self {
        self.context = Some(dir.to_path_buf());
        self
    }

    pub fn docker_config(&mut self, json: &str) -> &mut Self {
        self.file("kaniko/.docker/config.json", json.as_bytes())
    }

    /// Writes a file in the root (path relative to it).
    pub fn file(&mut self, path_in_root: &str, contents: &[u8]) -> &mut Self {
        let p = self.root.path().join(path_in_root.trim_start_matches('/'));
        if let Some(parent) = p.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let _ = std::fs::write(p, contents);
        self
    }

    pub fn env(&mut self, k: &str, v: &str) -> &mut Self {
        self.env.push((k.into(), v.into()));
        self
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// Runs `/kaniko/executor ARGS` in the sandbox and waits for it.
    pub fn run(&self, args: &[&str]) -> Result<Output> {
        self.run_with_stdin(args, None)
    }

    /// Like `run`, with bytes on standard input.
    pub fn run_with_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Result<Output> {
        let script = r#"set -e
root=$1; ctx=$2; shift 2
if [ -n "$ctx" ]; then mount --bind "$ctx" "$root/workspace"; fi
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount --rbind /sys "$root/sys"
exec "$@""#;
        let ctx = self
            .context
            .as_ref()
            .map(|c| c.display().to_string())
            .unwrap_or_default();
        let mut cmd = Command::new("unshare");
        cmd.args([
            "--mount",
            "--pid",
            "--fork",
            "--propagation",
            "private",
            "--",
            "/bin/sh",
            "-c",
            script,
            "sh",
        ]);
        cmd.arg(self.root.path()).arg(&ctx);
        cmd.arg("/usr/bin/env").arg("-i");
        for (k, v) in BASE_ENV
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .chain(self.env.iter().cloned())
        {
            cmd.arg(format!("{k}={v}"));
        }
        cmd.arg("/usr/bin/unshare")
            .arg(format!("--root={}", self.root.path().display()))
            .arg("--wd=/workspace");
        cmd.arg("/kaniko/executor").args(args);
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().context("starting unshare")?;
        if let (Some(data), Some(mut w)) = (stdin, child.stdin.take()) {
            use std::io::Write;
            w.write_all(data)?;
        }
        let out = child.wait_with_output()?;
        Ok(Output {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}
