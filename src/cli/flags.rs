//! The raw command line as clap sees it, shaped like kaniko's pflag flags: `--x=v` and
//! `--x v`; booleans as `--x`, `--x=true`, `--x=false` (a bare word after a boolean is not its
//! value); repeatable multi flags; hidden deprecated aliases. Every field is an `Option` or a
//! `Vec` so that resolution can tell "not given" from "given the default" (environment
//! fallbacks, defaults and validation live in `resolve`).

use super::values::parse_bool;
use clap::{Args, Parser, Subcommand};

/// `executor [flags]`, `executor version`, `executor warmer [flags]`, `executor login`,
/// `executor index`.
#[derive(Debug, Parser)]
#[command(
    name = "executor",
    about = "Build a container image from a Dockerfile without a daemon, and push it",
    disable_version_flag = true,
    allow_negative_numbers = true
)]
pub struct ExecutorCli {
    #[command(subcommand)]
    pub command: Option<SubCommand>,
    #[command(flatten)]
    pub build: BuildFlags,
}

#[derive(Debug, Subcommand)]
pub enum SubCommand {
    /// Print the version number of kaniko
    Version,
    /// Pull images into the base-image cache
    Warmer(Box<WarmerFlags>),
    /// Log into a container registry (store its credentials in $DOCKER_CONFIG/config.json)
    Login(LoginFlags),
    /// Push one image index over images already pushed (one per platform)
    Index(Box<IndexFlags>),
    /// Print the attestations (SBOM, provenance) stored with a pushed image
    Attestations(Box<AttestationsFlags>),
}

/// `executor attestations REF [--type sbom|provenance] [--platform os/arch[/variant]]`.
#[derive(Debug, Args)]
pub struct AttestationsFlags {
    /// The image (an index pushed with --sbom or --provenance)
    pub reference: String,
    /// Print only this predicate: sbom or provenance [default: every statement]
    #[arg(long = "type", allow_hyphen_values = true)]
    pub kind: Option<String>,
    /// Print only the attestations of this platform's image [default: every platform's]
    #[arg(long, allow_hyphen_values = true)]
    pub platform: Option<String>,
    #[command(flatten)]
    pub registry: RegistryFlags,
}

/// `executor login REGISTRY -u USER (-p PASSWORD | --password-stdin)`.
#[derive(Debug, Args)]
pub struct LoginFlags {
    /// The registry (`host[:port]`; `docker.io` is stored as Docker Hub's key)
    pub registry: String,
    /// Username for the registry
    #[arg(short = 'u', long, allow_hyphen_values = true)]
    pub username: Option<String>,
    /// Password for the registry
    #[arg(short = 'p', long, allow_hyphen_values = true)]
    pub password: Option<String>,
    /// Accept the registry password via stdin
    #[arg(long)]
    pub password_stdin: bool,
}

/// A binary invoked as `warmer`.
#[derive(Debug, Parser)]
#[command(
    name = "warmer",
    about = "Pull images into the base-image cache",
    disable_version_flag = true
)]
pub struct WarmerCli {
    #[command(flatten)]
    pub warmer: WarmerFlags,
}

/// The executor's own flags.
#[derive(Debug, Default, Args)]
pub struct BuildFlags {
    // Inputs.
    /// Path to the build context, or dir://, tar://, git://, gs://, s3://, https:// [default: /workspace/]
    #[arg(short = 'c', long, allow_hyphen_values = true)]
    pub context: Option<String>,
    /// Sub path within the given context
    #[arg(long, allow_hyphen_values = true)]
    pub context_sub_path: Option<String>,
    /// Name of the GCS bucket holding the build context (deprecated: use --context gs://)
    #[arg(short = 'b', long, hide = true, allow_hyphen_values = true)]
    pub bucket: Option<String>,
    /// Path to the Dockerfile, relative to the context or absolute [default: Dockerfile]
    #[arg(short = 'f', long, allow_hyphen_values = true)]
    pub dockerfile: Option<String>,
    /// Options for git contexts: branch=,single-branch=,recurse-submodules=,insecure-skip-tls=
    #[arg(long, allow_hyphen_values = true)]
    pub git: Vec<String>,
    /// ARG values at build time (KEY=VALUE, or KEY to take the environment's value); repeatable
    #[arg(long, allow_hyphen_values = true)]
    pub build_arg: Vec<String>,
    /// Target build stage to build
    #[arg(long, allow_hyphen_values = true)]
    pub target: Option<String>,
    /// Build only the stages the target needs
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub skip_unused_stages: Option<bool>,
    /// Target platforms os/arch[/variant], comma-separated, repeatable; default the host's
    #[arg(long, aliases = ["customPlatform", "platform"], allow_hyphen_values = true)]
    pub custom_platform: Vec<String>,
    /// Label (key=value) added to the image config; repeatable
    #[arg(long, allow_hyphen_values = true)]
    pub label: Vec<String>,
    /// Annotation (key=value) added to the image manifest; repeatable
    #[arg(long, allow_hyphen_values = true)]
    pub annotation: Vec<String>,
    /// Secret for RUN --mount=type=secret: id=X[,src=path][,env=VAR][,type=file|env]; repeatable
    #[arg(long, allow_hyphen_values = true)]
    pub secret: Vec<String>,

    // Outputs.
    /// Image reference to push to; repeatable
    #[arg(short = 'd', long, allow_hyphen_values = true)]
    pub destination: Vec<String>,
    /// Do not push the image (env KANIKO_NO_PUSH)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub no_push: Option<bool>,
    /// Save the image as a docker-save tarball at this path
    #[arg(long, alias = "tarPath", allow_hyphen_values = true)]
    pub tar_path: Option<String>,
    /// Save the image as an OCI layout in this directory
    #[arg(long, allow_hyphen_values = true)]
    pub oci_layout_path: Option<String>,
    #[command(flatten)]
    pub digest_files: DigestFileFlags,
    /// Manifest format: docker or oci [default: the base image's]
    #[arg(long, allow_hyphen_values = true)]
    pub image_format: Option<String>,
    /// Layer compression: gzip or zstd [default: gzip]
    #[arg(long, allow_hyphen_values = true)]
    pub compression: Option<String>,
    /// Compression level, -1 for the algorithm's default [default: -1]
    #[arg(long, allow_hyphen_values = true)]
    pub compression_level: Option<String>,
    /// Strip timestamps: identical input gives an identical digest
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub reproducible: Option<bool>,
    /// Retries for each push [default: 0]
    #[arg(long, allow_hyphen_values = true)]
    pub push_retry: Option<String>,
    /// Exit 0 when a tag is immutable in the registry
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub push_ignore_immutable_tag_errors: Option<bool>,
    /// Skip checking push permission before the build
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub skip_push_permission_check: Option<bool>,
    /// Attach an SPDX SBOM attestation (off by default): --sbom, --sbom=false
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", allow_hyphen_values = true)]
    pub sbom: Option<String>,
    /// Attach SLSA provenance (off by default): --provenance[=true|false|mode=min|max[,version=v0.2|v1]]
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", allow_hyphen_values = true)]
    pub provenance: Option<String>,
    /// Attestation to attach (off by default): type=sbom|provenance[,mode=min|max][,version=v0.2|v1][,disabled=true]; repeatable
    #[arg(long, allow_hyphen_values = true)]
    pub attest: Vec<String>,

    // Registries.
    #[command(flatten)]
    pub registry: RegistryFlags,

    // Build behaviour.
    /// Snapshot mode: full, redo or time [default: full]
    #[arg(long, alias = "snapshotMode", allow_hyphen_values = true)]
    pub snapshot_mode: Option<String>,
    /// Take one snapshot at the end of the build
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub single_snapshot: Option<bool>,
    /// Detect RUN changes without full snapshots (experimental)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub use_new_run: Option<bool>,
    /// Path never snapshotted; repeatable
    #[arg(long, allow_hyphen_values = true)]
    pub ignore_path: Vec<String>,
    /// Leave /var/run out of snapshots [default: true]
    #[arg(long, alias = "whitelist-var-run", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub ignore_var_run: Option<bool>,
    /// Retries for extracting base image filesystems [default: 0]
    #[arg(long, allow_hyphen_values = true)]
    pub image_fs_extract_retry: Option<String>,
    /// Build even when not in a container
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub force: Option<bool>,
    /// Add metadata layers to the image
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub force_build_metadata: Option<bool>,
    /// Clean the filesystem at the end (env KANIKO_CLEANUP)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub cleanup: Option<bool>,
    /// Clean the filesystem before the build
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub pre_cleanup: Option<bool>,
    /// Restore the context between stages
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub preserve_context: Option<bool>,
    /// Leave the filesystem in its final state even on full cache hits
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub materialize: Option<bool>,
    /// Print the build plan and build nothing
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub dryrun: Option<bool>,
    /// Path to the kaniko directory (env KANIKO_DIR) [default: /kaniko]
    #[arg(long, allow_hyphen_values = true)]
    pub kaniko_dir: Option<String>,

    // Cache.
    /// Use the layer cache
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub cache: Option<bool>,
    /// Cache repository, or oci:/path [default: destination + /cache]
    #[arg(long, allow_hyphen_values = true)]
    pub cache_repo: Option<String>,
    /// Base-image cache directory [default: /cache]
    #[arg(long, allow_hyphen_values = true)]
    pub cache_dir: Option<String>,
    /// Cache timeout, e.g. 6h or 30m [default: 336h]
    #[arg(long, allow_hyphen_values = true)]
    pub cache_ttl: Option<String>,
    /// Cache COPY layers
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub cache_copy_layers: Option<bool>,
    /// Cache RUN layers [default: true]
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub cache_run_layers: Option<bool>,
    /// Compress cached layers [default: true]
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub compressed_caching: Option<bool>,
    /// Do not push cache layers
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub no_push_cache: Option<bool>,

    // Logging.
    #[command(flatten)]
    pub log: LogFlags,
}

/// The digest files, shared by the executor and `executor index`.
#[derive(Debug, Default, Args)]
pub struct DigestFileFlags {
    /// Write the image (or index) digest to this file
    #[arg(long, allow_hyphen_values = true)]
    pub digest_file: Option<String>,
    /// Write repo@digest for each destination to this file
    #[arg(long, allow_hyphen_values = true)]
    pub image_name_with_digest_file: Option<String>,
    /// Write repo:tag@digest for each destination to this file
    #[arg(long, allow_hyphen_values = true)]
    pub image_name_tag_with_digest_file: Option<String>,
}

/// Registry flags shared by the executor and the warmer.
#[derive(Debug, Default, Args)]
pub struct RegistryFlags {
    /// Push over plain HTTP
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub insecure: Option<bool>,
    /// Pull over plain HTTP
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub insecure_pull: Option<bool>,
    /// Registry to reach over plain HTTP; repeatable
    #[arg(long, allow_hyphen_values = true)]
    pub insecure_registry: Vec<String>,
    /// Push without verifying TLS
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub skip_tls_verify: Option<bool>,
    /// Pull without verifying TLS
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub skip_tls_verify_pull: Option<bool>,
    /// Registry to reach without verifying TLS; repeatable
    #[arg(long, allow_hyphen_values = true)]
    pub skip_tls_verify_registry: Vec<String>,
    /// CA certificate for a registry: my.registry.url=/path/ca.crt; repeatable
    #[arg(long, allow_hyphen_values = true)]
    pub registry_certificate: Vec<String>,
    /// Client certificate for a registry: my.registry.url=/path/cert,/path/key; repeatable
    #[arg(long, allow_hyphen_values = true)]
    pub registry_client_cert: Vec<String>,
    /// Mirror for docker.io (env KANIKO_REGISTRY_MIRROR); repeatable
    #[arg(long, allow_hyphen_values = true)]
    pub registry_mirror: Vec<String>,
    /// Registry remapping orig=remap[;orig2=remap2] (env KANIKO_REGISTRY_MAP); repeatable
    #[arg(long, allow_hyphen_values = true)]
    pub registry_map: Vec<String>,
    /// Fail when no mirror has the image instead of falling back to the registry
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub skip_default_registry_fallback: Option<bool>,
    /// Retries for image downloads, with exponential backoff [default: 0]
    #[arg(long, allow_hyphen_values = true)]
    pub image_download_retry: Option<String>,
    /// Credential helpers: env, google, ecr, acr, gitlab; "" disables them [default: all]
    #[arg(long, allow_hyphen_values = true)]
    pub credential_helpers: Vec<String>,
}

/// Logging flags shared by the executor and the warmer.
#[derive(Debug, Default, Args)]
pub struct LogFlags {
    /// Log level: trace, debug, info, warn, error, fatal, panic [default: info]
    #[arg(short = 'v', long, allow_hyphen_values = true)]
    pub verbosity: Option<String>,
    /// Log format: text, color, json [default: color]
    #[arg(long, allow_hyphen_values = true)]
    pub log_format: Option<String>,
    /// Timestamps in log output
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub log_timestamp: Option<bool>,
}

/// The warmer's flags.
#[derive(Debug, Default, Args)]
pub struct WarmerFlags {
    /// Image to cache; repeatable
    #[arg(short = 'i', long, allow_hyphen_values = true)]
    pub image: Vec<String>,
    /// Dockerfile whose stages' base images to cache
    #[arg(short = 'd', long, allow_hyphen_values = true)]
    pub dockerfile: Option<String>,
    /// Cache directory [default: /cache]
    #[arg(short = 'c', long, allow_hyphen_values = true)]
    pub cache_dir: Option<String>,
    /// Cache timeout, e.g. 6h or 30m [default: 336h]
    #[arg(long, allow_hyphen_values = true)]
    pub cache_ttl: Option<String>,
    /// Overwrite images already in the cache
    #[arg(short = 'f', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_bool)]
    pub force: Option<bool>,
    /// ARG values for the Dockerfile's FROM lines; repeatable
    #[arg(long, allow_hyphen_values = true)]
    pub build_arg: Vec<String>,
    /// Platform os/arch[/variant] to pull, if not the host's
    #[arg(
        long = "customPlatform",
        alias = "custom-platform",
        allow_hyphen_values = true
    )]
    pub custom_platform: Option<String>,
    #[command(flatten)]
    pub registry: RegistryFlags,
    #[command(flatten)]
    pub log: LogFlags,
}

/// `executor index --destination REPO:TAG [--destination ...] SOURCE...`. The mirror flags
/// are hidden: they serve base images, and `resolve_index` refuses them here.
#[derive(Debug, Args)]
#[command(
    mut_arg("registry_mirror", |a| a.hide(true)),
    mut_arg("registry_map", |a| a.hide(true)),
    mut_arg("skip_default_registry_fallback", |a| a.hide(true))
)]
pub struct IndexFlags {
    /// Images (by tag or digest) to join; an index contributes its entries
    #[arg(value_name = "SOURCE")]
    pub sources: Vec<String>,
    /// Where to push the index (REPO:TAG); repeatable
    #[arg(short = 'd', long, allow_hyphen_values = true)]
    pub destination: Vec<String>,
    #[command(flatten)]
    pub digest_files: DigestFileFlags,
    /// Retries for each push request [default: 0]
    #[arg(long, allow_hyphen_values = true)]
    pub push_retry: Option<String>,
    #[command(flatten)]
    pub registry: RegistryFlags,
    #[command(flatten)]
    pub log: LogFlags,
}
