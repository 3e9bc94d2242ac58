//! Real base images for the tests: a busybox-static root file system, made into an image
//! with umoci and pushed with skopeo; and the way back: inspect with skopeo, unpack with
//! umoci, run with runc.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Oci,
    Docker,
}

#[derive(Clone, Debug)]
pub struct ImageSpec {
    pub format: Format,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    /// More root file systems, each one more layer on top.
    pub extra_layers: Vec<PathBuf>,
}

impl Default for ImageSpec {
    fn default() -> Self {
        ImageSpec {
            format: Format::Oci,
            cmd: vec!["sh".into()],
            env: vec!["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()],
            user: None,
            workdir: None,
            extra_layers: Vec::new(),
        }
    }
}

/// Registry access for skopeo.
#[derive(Clone, Debug, Default)]
pub struct Access<'a> {
    pub creds: Option<(&'a str, &'a str)>,
    /// A CA certificate (TLS registry); None means plain http.
    pub ca_cert: Option<&'a Path>,
}

pub(crate) fn exec(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Writes a busybox-static root file system: /bin/busybox with its applets as symlinks,
/// /etc/passwd (root, app 1000, nobody), /etc/group, /tmp (1777), /root.
pub fn busybox_rootfs(dir: &Path) -> Result<()> {
    for d in ["bin", "etc", "tmp", "root", "home/app"] {
        std::fs::create_dir_all(dir.join(d))?;
    }
    std::fs::copy("/bin/busybox", dir.join("bin/busybox"))
        .context("copying /bin/busybox (Debian package busybox-static)")?;
    let list = exec(Command::new("/bin/busybox").arg("--list"))?;
    for applet in list.lines().filter(|a| !a.is_empty() && *a != "busybox") {
        let link = dir.join("bin").join(applet);
        if !link.exists() {
            std::os::unix::fs::symlink("busybox", link)?;
        }
    }
    std::fs::write(
        dir.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    )?;
    std::fs::write(
        dir.join("etc/group"),
        "root:x:0:\napp:x:1000:\nstaff:x:50:app\nnogroup:x:65534:\n",
    )?;
    std::fs::write(dir.join("etc/hosts"), "127.0.0.1 localhost\n")?;
    std::os::unix::fs::chown(dir.join("home/app"), Some(1000), Some(1000))?;
    std::fs::set_permissions(
        dir.join("tmp"),
        std::os::unix::fs::PermissionsExt::from_mode(0o1777),
    )?;
    Ok(())
}

fn tls_flag(prefix: &str, access: &Access<'_>, certdir: &Path) -> Result<Vec<String>> {
    Ok(match access.ca_cert {
        None => vec![format!("--{prefix}-tls-verify=false")],
        Some(ca) => {
            std::fs::create_dir_all(certdir)?;
            std::fs::copy(ca, certdir.join("ca.crt"))?;
            vec![format!("--{prefix}-cert-dir={}", certdir.display())]
        }
    })
}

/// Makes an image of `rootfs` (plus extra layers) and pushes it; returns the manifest digest.
pub fn push_image(
    registry: &str,
    reference: &str,
    rootfs: &Path,
    spec: &ImageSpec,
    access: &Access<'_>,
) -> Result<String> {
    let work = tempfile::tempdir()?;
    let layout = work.path().join("oci");
    let img = format!("{}:img", layout.display());
    exec(
        Command::new("umoci")
            .args(["init", "--layout"])
            .arg(&layout),
    )?;
    exec(Command::new("umoci").args(["new", "--image", &img]))?;
    for (i, layer) in std::iter::once(rootfs)
        .chain(spec.extra_layers.iter().map(PathBuf::as_path))
        .enumerate()
    {
        let bundle = work.path().join(format!("b{i}"));
        exec(
            Command::new("umoci")
                .args(["unpack", "--image", &img])
                .arg(&bundle),
        )?;
        let target = bundle.join("rootfs");
        exec(
            Command::new("cp")
                .arg("-a")
                .arg(format!("{}/.", layer.display()))
                .arg(&target),
        )?;
        exec(
            Command::new("umoci")
                .args(["repack", "--image", &img])
                .arg(&bundle),
        )?;
    }
    let mut cfg = Command::new("umoci");
    cfg.args(["config", "--image", &img]);
    for c in &spec.cmd {
        cfg.arg(format!("--config.cmd={c}"));
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
    exec(&mut cfg)?;
    let digest_file = work.path().join("digest");
    let mut copy = Command::new("skopeo");
    copy.args(["copy", "-q"])
        .args(tls_flag("dest", access, &work.path().join("certs"))?);
    if spec.format == Format::Docker {
        copy.args(["--format", "v2s2"]);
    }
    if let Some((u, p)) = access.creds {
        copy.arg(format!("--dest-creds={u}:{p}"));
    }
    copy.arg("--digestfile")
        .arg(&digest_file)
        .arg(format!("oci:{img}"))
        .arg(format!("docker://{registry}/{reference}"));
    exec(&mut copy)?;
    Ok(std::fs::read_to_string(digest_file)?.trim().to_string())
}

fn busybox_dir() -> Result<&'static Path> {
    static DIR: OnceLock<std::result::Result<tempfile::TempDir, String>> = OnceLock::new();
    let d = DIR.get_or_init(|| {
        let d = tempfile::tempdir().map_err(|e| e.to_string())?;
        busybox_rootfs(d.path()).map_err(|e| e.to_string())?;
        Ok(d)
    });
    match d {
        Ok(d) => Ok(d.path()),
        Err(e) => bail!("making the busybox rootfs: {e}"),
    }
}

/// The common case: busybox as an OCI image, `CMD ["sh"]`, plain http.
pub fn push_busybox(registry: &str, reference: &str) -> Result<String> {
    push_image(
        registry,
        reference,
        busybox_dir()?,
        &ImageSpec::default(),
        &Access::default(),
    )
}

/// Pushes busybox with a spec and access of the caller's.
pub fn push_busybox_with(
    registry: &str,
    reference: &str,
    spec: &ImageSpec,
    access: &Access<'_>,
) -> Result<String> {
    push_image(registry, reference, busybox_dir()?, spec, access)
}

/// `skopeo inspect` of an image on a plain-http registry.
pub fn inspect(registry: &str, reference: &str) -> Result<serde_json::Value> {
    let out = exec(
        Command::new("skopeo")
            .args(["inspect", "--tls-verify=false"])
            .arg(format!("docker://{registry}/{reference}")),
    )?;
    Ok(serde_json::from_str(&out)?)
}

/// The manifest (`skopeo inspect --raw`), or with `config` the config blob exactly as
/// stored (skopeo's `--config` drops Docker-only fields such as Healthcheck and OnBuild).
pub fn inspect_raw(registry: &str, reference: &str, config: bool) -> Result<serde_json::Value> {
    let out = exec(
        Command::new("skopeo")
            .args(["inspect", "--tls-verify=false", "--raw"])
            .arg(format!("docker://{registry}/{reference}")),
    )?;
    let manifest: serde_json::Value = serde_json::from_str(&out)?;
    if !config {
        return Ok(manifest);
    }
    let digest = manifest["config"]["digest"]
        .as_str()
        .context("manifest without config digest")?;
    let repo = reference.split([':', '@']).next().unwrap_or(reference);
    let blob = exec(Command::new("curl").args([
        "-fsS",
        &format!("http://{registry}/v2/{repo}/blobs/{digest}"),
    ]))?;
    Ok(serde_json::from_str(&blob)?)
}

/// Copies the image into an OCI layout under `dest` and unpacks it with umoci; returns the bundle.
pub fn unpack(registry: &str, reference: &str, dest: &Path) -> Result<PathBuf> {
    let layout = dest.join("oci");
    exec(
        Command::new("skopeo")
            .args(["copy", "-q", "--src-tls-verify=false"])
            .arg(format!("docker://{registry}/{reference}"))
            .arg(format!("oci:{}:img", layout.display())),
    )?;
    unpack_layout(&layout, "img", dest)
}

/// Unpacks `layout:tag` with umoci into `dest/bundle`.
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

pub struct RunOutput {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs an unpacked bundle with runc (its config's command, or `args`).
pub fn run_bundle(bundle: &Path, args: Option<&[String]>) -> Result<RunOutput> {
    let cfg_path = bundle.join("config.json");
    let mut cfg: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&cfg_path)?)?;
    cfg["process"]["terminal"] = serde_json::Value::Bool(false);
    if let Some(a) = args {
        cfg["process"]["args"] = serde_json::json!(a);
    }
    std::fs::write(&cfg_path, cfg.to_string())?;
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let id = format!(
        "testkit-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    );
    let out = Command::new("runc")
        .args(["run", "--bundle"])
        .arg(bundle)
        .arg(&id)
        .stdin(Stdio::null())
        .output()?;
    let _ = Command::new("runc").args(["delete", "-f", &id]).output();
    Ok(RunOutput {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Runs the bundle: the name the executor's tests use.
pub fn run(bundle: &Path, args: Option<&[String]>) -> Result<RunOutput> {
    run_bundle(bundle, args)
}

/// Pushes `base` plus one more layer made of the raw tar bytes `layer` (uncompressed) as
/// `reference`: for images no well-behaved tool would make, such as hostile ones.
pub fn push_with_raw_layer(
    registry: &str,
    base: &str,
    reference: &str,
    layer: &[u8],
) -> Result<()> {
    use sha2::Digest as _;
    let work = tempfile::tempdir()?;
    let layout = work.path().join("oci");
    exec(
        Command::new("skopeo")
            .args(["copy", "-q", "--src-tls-verify=false", "--format", "oci"])
            .arg(format!("docker://{registry}/{base}"))
            .arg(format!("oci:{}:base", layout.display())),
    )?;
    let blobs = layout.join("blobs/sha256");
    let put = |bytes: &[u8]| -> Result<String> {
        let hex = hex::encode(sha2::Sha256::digest(bytes));
        std::fs::write(blobs.join(&hex), bytes)?;
        Ok(format!("sha256:{hex}"))
    };
    let index_path = layout.join("index.json");
    let mut index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&index_path)?)?;
    let mdigest = index["manifests"][0]["digest"]
        .as_str()
        .context("index without manifest")?
        .to_string();
    let mut manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(
        blobs.join(mdigest.trim_start_matches("sha256:")),
    )?)?;
    let cdigest = manifest["config"]["digest"]
        .as_str()
        .context("manifest without config")?
        .to_string();
    let mut config: serde_json::Value = serde_json::from_slice(&std::fs::read(
        blobs.join(cdigest.trim_start_matches("sha256:")),
    )?)?;
    let diff_id = put(layer)?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, layer)?;
    let compressed = gz.finish()?;
    let ldigest = put(&compressed)?;
    manifest["layers"].as_array_mut().context("layers")?.push(serde_json::json!({
        "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ldigest, "size": compressed.len()
    }));
    config["rootfs"]["diff_ids"]
        .as_array_mut()
        .context("diff_ids")?
        .push(serde_json::json!(diff_id));
    let cbytes = serde_json::to_vec(&config)?;
    manifest["config"]["digest"] = serde_json::json!(put(&cbytes)?);
    manifest["config"]["size"] = serde_json::json!(cbytes.len());
    let mbytes = serde_json::to_vec(&manifest)?;
    index["manifests"][0]["digest"] = serde_json::json!(put(&mbytes)?);
    index["manifests"][0]["size"] = serde_json::json!(mbytes.len());
    std::fs::write(&index_path, serde_json::to_vec(&index)?)?;
    exec(
        Command::new("skopeo")
            .args(["copy", "-q", "--dest-tls-verify=false"])
            .arg(format!("oci:{}:base", layout.display()))
            .arg(format!("docker://{registry}/{reference}")),
    )?;
    Ok(())
}
