//! Debian's podman (4.3, with catatonit for its pause image), run privately for a test: its
//! own storage root, run root and configuration (`CONTAINERS_CONF`: runc, cgroupfs, file
//! events, `default_ulimits = []`, which this machine kind needs), never the host's
//! defaults. `podman kube play --network host` plays Pod manifests as a node would: each
//! container with the default capabilities and seccomp profile.

use crate::sandbox::Output;
use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// How long one podman call may take.
pub const PODMAN_TIMEOUT: Duration = Duration::from_secs(600);

const CONF: &str = "[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n";

/// A private podman; everything it made is removed on drop.
pub struct Podman {
    dir: tempfile::TempDir,
}

impl Podman {
    pub fn new() -> Result<Podman> {
        if !std::path::Path::new("/usr/bin/podman").exists() {
            bail!("podman missing: install Debian's podman and catatonit");
        }
        let dir = tempfile::Builder::new().prefix("podman-").tempdir()?;
        std::fs::write(dir.path().join("containers.conf"), CONF)?;
        std::fs::write(
            dir.path().join("registries.conf"),
            "unqualified-search-registries = []\n",
        )?;
        Ok(Podman { dir })
    }

    /// A directory for the test's own files, removed with the rest.
    pub fn scratch(&self, name: &str) -> Result<PathBuf> {
        let p = self.dir.path().join("scratch").join(name);
        std::fs::create_dir_all(&p)?;
        Ok(p)
    }

    /// `podman` with this instance's storage and configuration.
    pub fn command(&self) -> Command {
        let d = self.dir.path();
        let mut cmd = Command::new("podman");
        cmd.env("CONTAINERS_CONF", d.join("containers.conf"))
            .env("CONTAINERS_REGISTRIES_CONF", d.join("registries.conf"))
            .arg(format!("--root={}", d.join("root").display()))
            .arg(format!("--runroot={}", d.join("run").display()))
            .arg(format!("--tmpdir={}", d.join("tmp").display()))
            .arg("--storage-driver=overlay");
        cmd
    }

    /// Runs `podman ARGS` with `stdin`, killed after `limit`.
    pub fn podman(&self, args: &[&str], stdin: Option<&[u8]>, limit: Duration) -> Result<Output> {
        let mut cmd = self.command();
        cmd.args(args);
        crate::sandbox::start(&mut cmd, stdin, limit)?
            .wait()
            .with_context(|| format!("podman {args:?}"))
    }

    /// [`podman`](Self::podman) that must succeed; returns its stdout.
    pub fn podman_ok(&self, args: &[&str]) -> Result<String> {
        let out = self.podman(args, None, PODMAN_TIMEOUT)?;
        if out.status != 0 {
            bail!(
                "podman {args:?} exited {}: {}{}",
                out.status,
                out.stdout,
                out.stderr
            );
        }
        Ok(out.stdout)
    }
}

impl Drop for Podman {
    /// Removes every pod, container and file it made, then the cgroups runc left for them
    /// (cgroupfs: `libpod_parent/<container id>`).
    fn drop(&mut self) {
        let quick = Duration::from_secs(60);
        let ids = self
            .podman(&["ps", "--all", "--quiet", "--no-trunc"], None, quick)
            .map(|o| o.stdout)
            .unwrap_or_default();
        for args in [
            &["pod", "rm", "--all", "--force"][..],
            &["rm", "--all", "--force"],
            &["system", "reset", "--force"],
        ] {
            let _ = self.podman(args, None, quick);
        }
        for id in ids.split_whitespace() {
            crate::cgroups::remove_tree(&format!("libpod_parent/{id}"));
        }
        crate::cgroups::remove_tree("libpod_parent");
    }
}
