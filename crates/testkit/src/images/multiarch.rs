//! Multi-platform base images: busybox for amd64 (the host's `busybox-static`) and arm64
//! (Debian's `busybox-static:arm64`, which `.ci/run` unpacks into [`ARM64_DIR`]), each made
//! into an image with umoci, joined into one OCI image index (or a Docker manifest list)
//! and pushed with `skopeo copy --all`. Running the arm64 one needs qemu-user-static's
//! aarch64 handler registered in binfmt_misc ([`aarch64_emulation`]).

use super::exec;
use super::push::{tls_flags, Access, Format, ImageSpec};
use super::rootfs::busybox_rootfs_from;
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where `.ci/run` unpacks Debian's `busybox-static:arm64` (`dpkg-deb -x`).
pub const ARM64_DIR: &str = "/var/lib/kaniko-rs/arm64";

/// One platform of an index: an OCI architecture (`amd64`, `arm64`) and optional variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    pub fn amd64() -> Platform {
        Platform {
            architecture: "amd64".into(),
            variant: None,
        }
    }

    pub fn arm64() -> Platform {
        Platform {
            architecture: "arm64".into(),
            variant: Some("v8".into()),
        }
    }

    /// The busybox-static binary built for this platform.
    fn busybox(&self) -> Result<PathBuf> {
        let p = match self.architecture.as_str() {
            "amd64" => PathBuf::from("/bin/busybox"),
            "arm64" => Path::new(ARM64_DIR).join("bin/busybox"),
            a => bail!("no busybox for {a}"),
        };
        if !p.is_file() {
            bail!(
                "{} missing: .ci/run unpacks Debian's busybox-static:{} there",
                p.display(),
                self.architecture
            );
        }
        Ok(p)
    }
}

/// Whether the kernel runs aarch64 binaries through qemu (binfmt_misc's `qemu-aarch64`
/// handler enabled, with the F flag so it works inside other roots).
pub fn aarch64_emulation() -> bool {
    std::fs::read_to_string("/proc/sys/fs/binfmt_misc/qemu-aarch64")
        .is_ok_and(|s| s.starts_with("enabled") && s.contains("flags: ") && has_f_flag(&s))
}

fn has_f_flag(status: &str) -> bool {
    status
        .lines()
        .find_map(|l| l.strip_prefix("flags: "))
        .is_some_and(|f| f.contains('F'))
}

/// Pushes busybox for each of `platforms` as one index `registry/reference` (a Docker
/// manifest list when `spec.format` is Docker); returns the index's digest ("sha256:…").
/// Each image's config names its platform; `spec.extra_layers` are not supported here.
pub fn push_busybox_index(
    registry: &str,
    reference: &str,
    platforms: &[Platform],
    spec: &ImageSpec,
    access: &Access<'_>,
) -> Result<String> {
    let work = tempfile::Builder::new().prefix("push-index-").tempdir()?;
    let layout = work.path().join("oci");
    exec(
        Command::new("umoci")
            .args(["init", "--layout"])
            .arg(&layout),
    )?;
    for p in platforms {
        let rootfs = work.path().join(format!("rootfs-{}", p.architecture));
        busybox_rootfs_from(&rootfs, &p.busybox()?)?;
        one_image(
            &layout,
            &work.path().join(&p.architecture),
            &rootfs,
            p,
            spec,
        )?;
    }
    add_index(&layout, platforms)?;
    let digest_file = work.path().join("digest");
    let mut copy = Command::new("skopeo");
    copy.args(["copy", "-q", "--all"]).args(tls_flags(
        "dest",
        &access.tls(),
        &work.path().join("certs"),
    )?);
    if spec.format == Format::Docker {
        copy.args(["--format", "v2s2"]);
    }
    if let Some((u, p)) = access.creds {
        copy.arg(format!("--dest-creds={u}:{p}"));
    }
    copy.arg("--digestfile")
        .arg(&digest_file)
        .arg(format!("oci:{}:index", layout.display()))
        .arg(format!("docker://{registry}/{reference}"));
    exec(&mut copy)?;
    Ok(std::fs::read_to_string(digest_file)?.trim().to_string())
}

/// One platform's image in `layout`, tagged with its architecture.
fn one_image(
    layout: &Path,
    bundle: &Path,
    rootfs: &Path,
    p: &Platform,
    spec: &ImageSpec,
) -> Result<()> {
    let img = format!("{}:{}", layout.display(), p.architecture);
    exec(Command::new("umoci").args(["new", "--image", &img]))?;
    exec(
        Command::new("umoci")
            .args(["unpack", "--image", &img])
            .arg(bundle),
    )?;
    exec(
        Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", rootfs.display()))
            .arg(bundle.join("rootfs")),
    )?;
    exec(
        Command::new("umoci")
            .args(["repack", "--image", &img])
            .arg(bundle),
    )?;
    let mut cfg = super::push::config_command(&img, spec);
    cfg.arg(format!("--architecture={}", p.architecture))
        .arg("--os=linux");
    exec(&mut cfg)?;
    Ok(())
}

/// Writes an image index over the per-platform manifests of `layout` and tags it `index`.
fn add_index(layout: &Path, platforms: &[Platform]) -> Result<()> {
    let index_path = layout.join("index.json");
    let mut top: Value = serde_json::from_slice(&std::fs::read(&index_path)?)?;
    let entries = top["manifests"]
        .as_array()
        .context("index.json without manifests")?;
    let mut manifests = Vec::new();
    for p in platforms {
        let entry = entries
            .iter()
            .find(|m| {
                m["annotations"]["org.opencontainers.image.ref.name"] == p.architecture.as_str()
            })
            .with_context(|| format!("no manifest tagged {}", p.architecture))?;
        let mut platform = json!({"architecture": p.architecture, "os": "linux"});
        if let Some(v) = &p.variant {
            platform["variant"] = json!(v);
        }
        manifests.push(json!({
            "mediaType": entry["mediaType"],
            "digest": entry["digest"],
            "size": entry["size"],
            "platform": platform,
        }));
    }
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
    }))?;
    let hex = hex::encode(Sha256::digest(&index));
    std::fs::write(layout.join("blobs/sha256").join(&hex), &index)?;
    top["manifests"]
        .as_array_mut()
        .context("index.json without manifests")?
        .push(json!({
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": format!("sha256:{hex}"),
            "size": index.len(),
            "annotations": {"org.opencontainers.image.ref.name": "index"},
        }));
    std::fs::write(&index_path, serde_json::to_vec(&top)?)?;
    Ok(())
}
