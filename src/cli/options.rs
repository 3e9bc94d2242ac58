//! The resolved, typed options a run uses: plain data with defaults applied, environment
//! fallbacks read and every value validated. No clap types here.

use std::path::PathBuf;
use std::time::Duration;

/// Where the build context comes from: the context fetcher's own type.
pub use contextsrc::ContextSource;

use attest::provenance::{Mode, SlsaVersion};

/// `--git` options for git contexts: the context fetcher's own type.
pub use contextsrc::GitOptions;

/// `--compression` and `--snapshot-mode`: the layer writer's and the snapshotter's types.
pub use rootfs::{Compression, SnapshotMode};

/// logrus' levels, as `--verbosity` names them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Trace,
    Debug,
    #[default]
    Info,
    Warn,
    Error,
    Fatal,
    Panic,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    #[default]
    Color,
    Json,
}

/// Where a `--secret` value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretSource {
    File(PathBuf),
    Env(String),
}

/// One `--secret id=X[,src=path][,env=VAR][,type=file|env]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secret {
    pub id: String,
    pub source: SecretSource,
}

/// Registry access: TLS, plain HTTP, certificates, mirrors, retries, credentials.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegistryOptions {
    /// `--insecure`: push over plain HTTP.
    pub insecure: bool,
    /// `--insecure-pull`: pull over plain HTTP.
    pub insecure_pull: bool,
    /// `--insecure-registry`: plain HTTP for these registries, push and pull.
    pub insecure_registries: Vec<String>,
    pub skip_tls_verify: bool,
    pub skip_tls_verify_pull: bool,
    pub skip_tls_verify_registries: Vec<String>,
    /// `registry=/path/ca.crt`.
    pub registry_certificates: Vec<(String, PathBuf)>,
    /// `registry=/cert,/key` (mTLS).
    pub registry_client_certs: Vec<(String, PathBuf, PathBuf)>,
    /// Mirrors for docker.io: flags first, then `KANIKO_REGISTRY_MIRROR`.
    pub registry_mirrors: Vec<String>,
    /// Original registry → replacements, in first-seen order: flags, then `KANIKO_REGISTRY_MAP`.
    pub registry_maps: Vec<(String, Vec<String>)>,
    pub skip_default_registry_fallback: bool,
    pub image_download_retry: u32,
    /// `None`: every built-in helper; `Some(empty)`: none (`--credential-helpers=""`).
    pub credential_helpers: Option<Vec<String>>,
    /// `KANIKO_REGISTRY_*`: limits and waits.
    pub tuning: registry::Tuning,
    /// `DOCKER_CONFIG` (else the kaniko dir's `.docker`: [`RegistryOptions::docker_config_dir`]).
    pub docker_config: Option<PathBuf>,
    /// `PATH` at start: where credential helper programs are looked for after the kaniko dir.
    pub helper_path: Option<String>,
}

/// The layer cache and the warmer's base-image cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheOptions {
    pub enabled: bool,
    pub repo: Option<String>,
    pub dir: PathBuf,
    pub ttl: Duration,
    pub copy_layers: bool,
    pub run_layers: bool,
    pub compressed: bool,
    pub no_push_cache: bool,
}

/// The default `--cache-ttl`: two weeks.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(336 * 3600);
/// The default `--cache-dir`.
pub const DEFAULT_CACHE_DIR: &str = "/cache";
/// The default `--kaniko-dir`.
pub const DEFAULT_KANIKO_DIR: &str = "/kaniko";

impl Default for CacheOptions {
    fn default() -> Self {
        CacheOptions {
            enabled: false,
            repo: None,
            dir: PathBuf::from(DEFAULT_CACHE_DIR),
            ttl: DEFAULT_CACHE_TTL,
            copy_layers: false,
            run_layers: true,
            compressed: true,
            no_push_cache: false,
        }
    }
}

/// Everything an executor build needs from its command line and environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    // Inputs.
    pub context: ContextSource,
    /// `--context-sub-path`, `None` when empty.
    pub context_sub_path: Option<String>,
    pub dockerfile: String,
    pub git: GitOptions,
    /// `K=V`, or `K` alone with its value from the environment (`None` when unset there).
    pub build_args: Vec<(String, Option<String>)>,
    pub target: Option<String>,
    pub skip_unused_stages: bool,
    /// `--custom-platform` values, comma-separated lists split; empty: the host's platform.
    pub custom_platforms: Vec<String>,
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
    pub secrets: Vec<Secret>,

    // Outputs.
    pub destinations: Vec<String>,
    pub no_push: bool,
    pub tar_path: Option<PathBuf>,
    pub oci_layout_path: Option<PathBuf>,
    pub digest_file: Option<PathBuf>,
    pub image_name_with_digest_file: Option<PathBuf>,
    pub image_name_tag_with_digest_file: Option<PathBuf>,
    /// `None` inherits the base image's format.
    pub image_format: Option<image::Format>,
    pub compression: Compression,
    /// -1 means the algorithm's default.
    pub compression_level: i32,
    pub reproducible: bool,
    pub push_retry: u32,
    pub push_ignore_immutable_tag_errors: bool,
    pub skip_push_permission_check: bool,
    /// `--sbom`, `--provenance`, `--attest`: what to attach (nothing by default).
    pub attestations: Attestations,

    // Registries.
    pub registry: RegistryOptions,

    // Build behaviour.
    pub snapshot_mode: SnapshotMode,
    pub single_snapshot: bool,
    pub use_new_run: bool,
    pub ignore_paths: Vec<PathBuf>,
    pub ignore_var_run: bool,
    pub image_fs_extract_retry: u32,
    pub force: bool,
    pub force_build_metadata: bool,
    pub cleanup: bool,
    pub pre_cleanup: bool,
    pub preserve_context: bool,
    pub materialize: bool,
    pub dryrun: bool,
    pub kaniko_dir: PathBuf,

    // Cache.
    pub cache: CacheOptions,

    // Logging.
    pub verbosity: Level,
    pub log_format: LogFormat,
    pub log_timestamp: bool,

    /// The environment variables the build reads beyond the flags' fallbacks.
    pub env: super::Environment,
}

/// What the warmer needs: images to pull into the base-image cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WarmerOptions {
    pub images: Vec<String>,
    /// `--dockerfile`: also cache every stage's base image.
    pub dockerfile: Option<PathBuf>,
    pub cache_dir: PathBuf,
    pub cache_ttl: Duration,
    /// `--force`: overwrite images already cached.
    pub force: bool,
    pub build_args: Vec<(String, Option<String>)>,
    pub custom_platform: Option<String>,
    pub registry: RegistryOptions,
    pub verbosity: Level,
    pub log_format: LogFormat,
    pub log_timestamp: bool,
}

/// `executor login`: what to store, and where.
#[derive(Clone, PartialEq, Eq)]
pub struct LoginOptions {
    pub registry: String,
    pub username: String,
    /// The password given with `-p`; `None` means read it from stdin.
    pub password: Option<String>,
    /// The kaniko directory (`KANIKO_DIR`), whose `.docker` holds the config unless
    /// `DOCKER_CONFIG` names another.
    pub kaniko_dir: PathBuf,
    /// `DOCKER_CONFIG`.
    pub docker_config: Option<PathBuf>,
}

impl std::fmt::Debug for LoginOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let password = self.password.as_ref().map(|_| "<redacted>");
        write!(
            f,
            "LoginOptions({}, {}, {password:?})",
            self.registry, self.username
        )
    }
}

/// `executor index`: the images to join and where the index goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexOptions {
    /// Images or indexes, by tag or digest, as given.
    pub sources: Vec<String>,
    pub destinations: Vec<String>,
    pub digest_file: Option<PathBuf>,
    pub image_name_with_digest_file: Option<PathBuf>,
    pub image_name_tag_with_digest_file: Option<PathBuf>,
    pub push_retry: u32,
    pub registry: RegistryOptions,
    /// The kaniko directory (`KANIKO_DIR`): its `.docker` holds the Docker config unless
    /// `DOCKER_CONFIG` names another, and credential helpers are looked for there first.
    pub kaniko_dir: PathBuf,
    pub verbosity: Level,
    pub log_format: LogFormat,
    pub log_timestamp: bool,
}

/// What to attach to the image.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attestations {
    pub sbom: bool,
    pub provenance: Option<ProvenanceRequest>,
}

impl Attestations {
    pub fn any(&self) -> bool {
        self.sbom || self.provenance.is_some()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProvenanceRequest {
    pub mode: Mode,
    pub version: SlsaVersion,
}

impl Default for ProvenanceRequest {
    /// buildx's default: `mode=min`, SLSA v0.2.
    fn default() -> Self {
        ProvenanceRequest {
            mode: Mode::Min,
            version: SlsaVersion::V02,
        }
    }
}

/// Which predicate `executor attestations --type` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttestationKind {
    Sbom,
    Provenance,
}

/// `executor attestations REF [--type sbom|provenance] [--platform P]` and the registry flags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadAttestations {
    pub reference: String,
    pub kind: Option<AttestationKind>,
    /// Only the attestations of the image for this platform.
    pub platform: Option<image::Platform>,
    pub registry: RegistryOptions,
}
