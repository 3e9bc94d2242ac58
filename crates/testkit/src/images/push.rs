//! Makes an image from root file system directories with umoci (one layer each) and pushes
//! it with skopeo, as OCI or Docker schema 2, over plain http or verified TLS, with or
//! without credentials.

use super::exec;
use super::rootfs::busybox_dir;
use anyhow::Result;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The manifest format pushed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Oci,
    /// Docker schema 2 (`skopeo copy --format v2s2`).
    Docker,
}

/// What goes into the image besides the root file system.
#[derive(Clone, Debug)]
pub struct ImageSpec {
    pub format: Format,
    pub cmd: Vec<String>,
    pub entrypoint: Vec<String>,
    pub env: Vec<String>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    /// More root file systems, each one more layer on top.
    pub extra_layers: Vec<PathBuf>,
}

impl Default for ImageSpec {
    /// OCI, `CMD ["sh"]`, the usual PATH.
    fn default() -> Self {
        ImageSpec {
            format: Format::Oci,
            cmd: vec!["sh".into()],
            entrypoint: Vec::new(),
            env: vec!["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()],
            user: None,
            workdir: None,
            extra_layers: Vec::new(),
        }
    }
}

/// How skopeo reaches the registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain http (or TLS without verification).
    Plain,
    /// TLS verified against this CA certificate.
    Verify(PathBuf),
}

/// Registry access for skopeo: credentials and TLS in one value.
#[derive(Clone, Debug, Default)]
pub struct Access<'a> {
    pub creds: Option<(&'a str, &'a str)>,
    /// A CA certificate (TLS registry); None means plain http.
    pub ca_cert: Option<&'a Path>,
}

impl Access<'_> {
    pub fn tls(&self) -> TlsMode {
        match self.ca_cert {
            None => TlsMode::Plain,
            Some(ca) => TlsMode::Verify(ca.to_path_buf()),
        }
    }
}

/// skopeo's TLS flags for `prefix` ("src", "dest" or "" for inspect); a CA is copied into
/// `certdir` because skopeo takes a directory.
pub(super) fn tls_flags(prefix: &str, tls: &TlsMode, certdir: &Path) -> Result<Vec<String>> {
    let dash = if prefix.is_empty() { "" } else { "-" };
    Ok(match tls {
        TlsMode::Plain => vec![format!("--{prefix}{dash}tls-verify=false")],
        TlsMode::Verify(ca) => {
            std::fs::create_dir_all(certdir)?;
            std::fs::copy(ca, certdir.join("ca.crt"))?;
            vec![format!("--{prefix}{dash}cert-dir={}", certdir.display())]
        }
    })
}

/// Makes an image of `rootfs` (plus `spec.extra_layers`) and pushes it as
/// `registry/reference`; returns the manifest digest ("sha256:…").
pub fn push_image(
    registry: &str,
    reference: &str,
    rootfs: &Path,
    spec: &ImageSpec,
    creds: Option<(&str, &str)>,
    tls: TlsMode,
) -> Result<String> {
    let work = tempfile::Builder::new().prefix("push-image-").tempdir()?;
    let layout = work.path().join("oci");
    let img = format!("{}:img", layout.display());
    exec(
        Command::new("umoci")
            .args(["init", "--layout"])
            .arg(&layout),
    )?;
    exec(Command::new("umoci").args(["new", "--image", &img]))?;
    let layers = std::iter::once(rootfs).chain(spec.extra_layers.iter().map(PathBuf::as_path));
    for (i, layer) in layers.enumerate() {
        let bundle = work.path().join(format!("b{i}"));
        exec(
            Command::new("umoci")
                .args(["unpack", "--image", &img])
                .arg(&bundle),
        )?;
        exec(
            Command::new("cp")
                .arg("-a")
                .arg(format!("{}/.", layer.display()))
                .arg(bundle.join("rootfs")),
        )?;
        exec(
            Command::new("umoci")
                .args(["repack", "--image", &img])
                .arg(&bundle),
        )?;
    }
    exec(&mut config_command(&img, spec))?;
    let digest_file = work.path().join("digest");
    let mut copy = Command::new("skopeo");
    copy.args(["copy", "-q"])
        .args(tls_flags("dest", &tls, &work.path().join("certs"))?);
    if spec.format == Format::Docker {
        copy.args(["--format", "v2s2"]);
    }
    if let Some((u, p)) = creds {
        copy.arg(format!("--dest-creds={u}:{p}"));
    }
    copy.arg("--digestfile")
        .arg(&digest_file)
        .arg(format!("oci:{img}"))
        .arg(format!("docker://{registry}/{reference}"));
    exec(&mut copy)?;
    Ok(std::fs::read_to_string(digest_file)?.trim().to_string())
}

/// `umoci config` setting the spec's cmd, entrypoint, env, user and working dir.
pub(super) fn config_command(img: &str, spec: &ImageSpec) -> Command {
    let mut cfg = Command::new("umoci");
    cfg.args(["config", "--image", img]);
    for c in &spec.cmd {
        cfg.arg(format!("--config.cmd={c}"));
    }
    for e in &spec.entrypoint {
        cfg.arg(format!("--config.entrypoint={e}"));
    }
    for e in &spec.env {
        cfg.arg(format!("--config.env={e}"));
    }
    if let Some(u) = &spec.user {
        cfg.arg(format!("--config.user={u}"));
    }
    if let Some(w) = &spec.workdir {
        cfg.arg(format!("--config.workingdir={w}"));
    }
    cfg
}

/// The common case: busybox as an OCI image, `CMD ["sh"]`, PATH set, plain http.
pub fn push_busybox(registry: &str, reference: &str) -> Result<String> {
    push_busybox_with(
        registry,
        reference,
        &ImageSpec::default(),
        &Access::default(),
    )
}

/// Pushes busybox with the caller's spec and access.
pub fn push_busybox_with(
    registry: &str,
    reference: &str,
    spec: &ImageSpec,
    access: &Access<'_>,
) -> Result<String> {
    push_image(
        registry,
        reference,
        busybox_dir()?,
        spec,
        access.creds,
        access.tls(),
    )
}
