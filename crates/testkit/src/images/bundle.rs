//! The way back from the registry: copy an image into an OCI layout with skopeo, unpack it
//! into a runtime bundle with umoci, and run the bundle for real with runc.

use super::exec;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// What a container run printed and how it ended.
#[derive(Clone, Debug)]
pub struct RunOutput {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Copies `registry/reference` (plain http) into an OCI layout under `dest` and unpacks it
/// with umoci; returns the bundle (its root file system is `bundle/rootfs`).
pub fn unpack(registry: &str, reference: &str, dest: &Path) -> Result<PathBuf> {
    unpack_copy(registry, reference, &[], dest)
}

/// [`unpack`] of one platform of an index: `architecture` as OCI spells it (`arm64`).
pub fn unpack_platform(
    registry: &str,
    reference: &str,
    architecture: &str,
    dest: &Path,
) -> Result<PathBuf> {
    let arch = format!("--override-arch={architecture}");
    unpack_copy(registry, reference, &[&arch], dest)
}

fn unpack_copy(registry: &str, reference: &str, flags: &[&str], dest: &Path) -> Result<PathBuf> {
    let layout = dest.join("oci");
    exec(
        Command::new("skopeo")
            .args(flags)
            .args(["copy", "-q", "--src-tls-verify=false"])
            .arg(format!("docker://{registry}/{reference}"))
            .arg(format!("oci:{}:img", layout.display())),
    )?;
    unpack_layout(&layout, "img", dest)
}

/// Unpacks `layout:tag` (an OCI layout on disk) with umoci into `dest/bundle`.
pub fn unpack_layout(layout: &Path, tag: &str, dest: &Path) -> Result<PathBuf> {
    let bundle = dest.join("bundle");
    exec(
        Command::new("umoci")
            .args(["unpack", "--image"])
            .arg(format!("{}:{tag}", layout.display()))
            .arg(&bundle),
    )?;
    Ok(bundle)
}

/// Rewrites umoci's config.json for a batch run: no terminal, a writable root, the host's
/// network (no namespace to set up), and `args` instead of the image's command if given.
fn patch_config(bundle: &Path, args: Option<&[String]>) -> Result<()> {
    let path = bundle.join("config.json");
    let text = std::fs::read_to_string(&path).context("reading the bundle's config.json")?;
    let mut cfg: serde_json::Value = serde_json::from_str(&text)?;
    cfg["process"]["terminal"] = serde_json::Value::Bool(false);
    cfg["root"]["readonly"] = serde_json::Value::Bool(false);
    if let Some(ns) = cfg["linux"]["namespaces"].as_array_mut() {
        ns.retain(|n| n["type"] != "network");
    }
    if let Some(a) = args {
        cfg["process"]["args"] = serde_json::json!(a);
    }
    std::fs::write(&path, cfg.to_string())?;
    Ok(())
}

/// A container id unique on this host: pid plus a per-process counter.
fn container_id() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    format!("testkit-{}-{n}", std::process::id())
}

/// Runs an unpacked bundle with `runc run` (its image's command, or `args`); the container
/// is deleted afterwards.
pub fn run_bundle(bundle: &Path, args: Option<&[String]>) -> Result<RunOutput> {
    patch_config(bundle, args)?;
    let id = container_id();
    let out = Command::new("runc")
        .args(["run", "--bundle"])
        .arg(bundle)
        .arg(&id)
        .stdin(Stdio::null())
        .output()
        .context("running runc")?;
    let _ = Command::new("runc")
        .args(["delete", "-f", &id])
        .stdin(Stdio::null())
        .output();
    Ok(RunOutput {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Runs the bundle: the name the executor's tests use for [`run_bundle`].
pub fn run(bundle: &Path, args: Option<&[String]>) -> Result<RunOutput> {
    run_bundle(bundle, args)
}
