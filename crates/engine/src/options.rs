//! What a build needs to know, resolved from the command line by the caller.

use dockerfile::{BuildArgs, PlatformArgs};
use image::Platform;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Resolved build options: plain data, no flags.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    /// The root filesystem the stages run in (in a Pod: `/`).
    pub root: PathBuf,
    /// Where new layer blobs, downloads and stage files go (removed after the build).
    pub work_dir: PathBuf,
    pub platform: Platform,
    pub build_args: BuildArgs,
    /// `--target`: the stage to build (by name), else the last one.
    pub target: Option<String>,
    /// `--skip-unused-stages`: build only the stages the target needs.
    pub skip_unused_stages: bool,
    pub snapshot_mode: rootfs::SnapshotMode,
    pub single_snapshot: bool,
    pub layer: rootfs::LayerOptions,
    pub reproducible: bool,
    /// Paths never unpacked over, snapshotted or written by an instruction.
    pub ignore: rootfs::IgnoreList,
    pub labels: Vec<(String, String)>,
    pub image_format: Option<image::Format>,
    pub force_build_metadata: bool,
    /// How base and cached layers are unpacked.
    pub unpack: UnpackLimits,
    /// Hash COPY/ADD sources (and resolve `COPY --from` images) into their cache keys:
    /// a build with a layer cache needs it, for every step after a COPY.
    pub hash_sources: bool,
    /// `--materialize`: the root ends holding the final image's filesystem even when the
    /// cache spared every step.
    pub materialize: bool,
    /// `--pre-cleanup`: empty the root (all but ignored paths) before the first stage.
    pub pre_cleanup: bool,
    /// Where `RUN --mount=type=cache` directories live (`<kaniko dir>/caches`).
    pub cache_mounts: PathBuf,
    /// `--secret` values by id, for `RUN --mount=type=secret`.
    pub secrets: BTreeMap<String, SecretValue>,
    /// The SSH agent socket `RUN --mount=type=ssh` forwards (the executor's `SSH_AUTH_SOCK`).
    pub ssh_agent: Option<PathBuf>,
    /// Where the final image's layers are streamed while they are written (the push).
    pub uploads: Option<crate::Uploads>,
    /// What `ADD <git URL>` clones with: the environment's git settings and credentials
    /// as read at start, and the resolver.
    pub remote: contextsrc::Options,
}

/// Retries and size bounds of unpacking a layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnpackLimits {
    /// `--image-fs-extract-retry`: attempts after the first to unpack a layer.
    pub retries: u32,
    /// The most a layer may expand to, as a multiple of its compressed size (0: no bound)...
    pub max_expansion: u64,
    /// ... or to this many bytes, whichever is more.
    pub floor: u64,
}

impl UnpackLimits {
    /// What any layer may expand to by default.
    pub const FLOOR: u64 = 1 << 30;
    /// The default multiple: far above what real layers reach (2 to 10 times), far below
    /// gzip's 1032 and zstd's unbounded ratios.
    pub const DEFAULT_EXPANSION: u64 = 200;

    /// The uncompressed bytes a layer of `compressed` bytes may reach, if bounded.
    pub fn max_bytes(&self, compressed: u64) -> Option<u64> {
        (self.max_expansion > 0).then(|| {
            compressed
                .saturating_mul(self.max_expansion)
                .max(self.floor)
        })
    }
}

/// A build secret's bytes: never printed (Debug shows the length only), zeroed on drop.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretValue(Vec<u8>);

impl SecretValue {
    pub fn new(bytes: Vec<u8>) -> SecretValue {
        SecretValue(bytes)
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretValue(<{} bytes>)", self.0.len())
    }
}

impl Drop for SecretValue {
    fn drop(&mut self) {
        self.0.fill(0);
        std::hint::black_box(&self.0);
    }
}

/// The platform args (TARGETPLATFORM ...) for a build on this host for `target`.
pub fn platform_args(target: &Platform) -> PlatformArgs {
    PlatformArgs {
        target_os: target.os.clone(),
        target_arch: target.architecture.clone(),
        target_variant: target.variant.clone().unwrap_or_default(),
        build_os: "linux".into(),
        build_arch: host_arch().into(),
        build_variant: String::new(),
    }
}

/// The host architecture in OCI's terms.
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}
