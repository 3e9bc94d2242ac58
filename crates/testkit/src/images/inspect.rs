//! Reads images back from the registry with `skopeo inspect`.

use super::exec;
use super::push::{tls_flags, Access};
use anyhow::Result;
use std::process::Command;

/// `skopeo inspect` of an image on a plain-http registry (skopeo's summary: Digest, Env,
/// Layers, Architecture, …).
pub fn inspect(registry: &str, reference: &str) -> Result<serde_json::Value> {
    inspect_as(registry, reference, &Access::default())
}

/// `skopeo inspect` with credentials and TLS of the caller's.
pub fn inspect_as(
    registry: &str,
    reference: &str,
    access: &Access<'_>,
) -> Result<serde_json::Value> {
    let work = tempfile::Builder::new().prefix("inspect-").tempdir()?;
    let mut cmd = Command::new("skopeo");
    cmd.arg("inspect")
        .args(tls_flags("", &access.tls(), &work.path().join("certs"))?);
    if let Some((u, p)) = access.creds {
        cmd.arg(format!("--creds={u}:{p}"));
    }
    cmd.arg(format!("docker://{registry}/{reference}"));
    Ok(serde_json::from_str(&exec(&mut cmd)?)?)
}

/// The manifest exactly as stored (`skopeo inspect --raw`), or with `config` the config
/// blob exactly as stored (`--raw --config`; without `--raw` skopeo converts it to OCI and
/// drops Docker-only fields such as Healthcheck and OnBuild).
pub fn inspect_raw(registry: &str, reference: &str, config: bool) -> Result<serde_json::Value> {
    let mut cmd = Command::new("skopeo");
    cmd.args(["inspect", "--tls-verify=false", "--raw"]);
    if config {
        cmd.arg("--config");
    }
    cmd.arg(format!("docker://{registry}/{reference}"));
    Ok(serde_json::from_str(&exec(&mut cmd)?)?)
}
