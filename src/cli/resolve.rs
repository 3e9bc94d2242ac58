//! Raw flags → resolved options: defaults, environment fallbacks (`KANIKO_*`, and the
//! environment values of `--build-arg K`), deprecated forms, and validation. Every error
//! names the flag (or environment variable) and the value.

use super::flags::{
    AttestationsFlags, BuildFlags, LogFlags, LoginFlags, RegistryFlags, WarmerFlags,
};
use super::options::*;
use super::resolve_flag::{
    build_args, choose, compression_level, context, count, credential_helpers, env_bool,
    git_options, given, invalid, non_empty, pairs, path, platform_list, secret, ttl, EnvLookup,
};
use super::values;
use super::{environment, CliError};
use std::path::PathBuf;

/// Executor flags → [`Options`].
pub fn build_options(mut f: BuildFlags, env: EnvLookup) -> Result<Options, CliError> {
    let no_push = env_bool(f.no_push, "KANIKO_NO_PUSH", env)?;
    let cleanup = env_bool(f.cleanup, "KANIKO_CLEANUP", env)?;
    // Its error is reported at `cache?` below, in the order of the fields.
    let cache = cache_options(&mut f);
    let (compression, compression_level) =
        compression(f.compression.as_deref(), f.compression_level.as_deref())?;
    let (verbosity, log_format, log_timestamp) = log_options(&f.log)?;
    let attestations = super::attestations::from_flags(&f)?;
    Ok(Options {
        context: context(f.context.as_deref(), f.bucket.as_deref())?,
        context_sub_path: non_empty(f.context_sub_path),
        dockerfile: f.dockerfile.unwrap_or_else(|| "Dockerfile".to_string()),
        git: git_options(&f.git)?,
        build_args: build_args("build-arg", &f.build_arg, env)?,
        target: non_empty(f.target),
        skip_unused_stages: f.skip_unused_stages.unwrap_or(false),
        custom_platforms: platform_list(&f.custom_platform),
        labels: pairs("label", &f.label)?,
        annotations: pairs("annotation", &f.annotation)?,
        secrets: f
            .secret
            .iter()
            .map(|s| secret(s))
            .collect::<Result<_, _>>()?,

        destinations: given(f.destination),
        no_push,
        tar_path: path(f.tar_path),
        oci_layout_path: path(f.oci_layout_path),
        digest_file: path(f.digest_files.digest_file),
        image_name_with_digest_file: path(f.digest_files.image_name_with_digest_file),
        image_name_tag_with_digest_file: path(f.digest_files.image_name_tag_with_digest_file),
        image_format: image_format(f.image_format.as_deref())?,
        compression,
        compression_level,
        reproducible: f.reproducible.unwrap_or(false),
        push_retry: count("push-retry", f.push_retry.as_deref())?,
        push_ignore_immutable_tag_errors: f.push_ignore_immutable_tag_errors.unwrap_or(false),
        skip_push_permission_check: f.skip_push_permission_check.unwrap_or(false),
        attestations,

        registry: registry_options(f.registry, env)?,

        snapshot_mode: snapshot_mode(f.snapshot_mode.as_deref())?,
        single_snapshot: f.single_snapshot.unwrap_or(false),
        use_new_run: f.use_new_run.unwrap_or(false),
        ignore_paths: given(f.ignore_path)
            .into_iter()
            .map(PathBuf::from)
            .collect(),
        ignore_var_run: f.ignore_var_run.unwrap_or(true),
        image_fs_extract_retry: count(
            "image-fs-extract-retry",
            f.image_fs_extract_retry.as_deref(),
        )?,
        force: f.force.unwrap_or(false),
        force_build_metadata: f.force_build_metadata.unwrap_or(false),
        cleanup,
        pre_cleanup: f.pre_cleanup.unwrap_or(false),
        preserve_context: f.preserve_context.unwrap_or(false),
        materialize: f.materialize.unwrap_or(false),
        dryrun: f.dryrun.unwrap_or(false),
        kaniko_dir: non_empty(f.kaniko_dir)
            .or_else(|| non_empty(env("KANIKO_DIR")))
            .map_or_else(|| PathBuf::from(DEFAULT_KANIKO_DIR), PathBuf::from),

        cache: cache?,

        verbosity,
        log_format,
        log_timestamp,
        env: environment::Environment::resolve(env)?,
    })
}

/// `--compression` (gzip by default) and `--compression-level` (-1: the default level).
fn compression(kind: Option<&str>, level: Option<&str>) -> Result<(Compression, i32), CliError> {
    let compression = match kind {
        None => Compression::Gzip,
        Some(v) => choose(
            "compression",
            v,
            &[("gzip", Compression::Gzip), ("zstd", Compression::Zstd)],
        )?,
    };
    let level = match level {
        None => -1,
        Some(v) => compression_level(compression, v)?,
    };
    Ok((compression, level))
}

/// `--image-format`: docker or oci; unset or empty means as the base image.
fn image_format(v: Option<&str>) -> Result<Option<image::Format>, CliError> {
    Ok(match v {
        None | Some("") => None,
        Some(v) => Some(choose(
            "image-format",
            v,
            &[
                ("docker", image::Format::Docker),
                ("oci", image::Format::Oci),
            ],
        )?),
    })
}

/// `--snapshot-mode`: full (the default), redo or time.
fn snapshot_mode(v: Option<&str>) -> Result<SnapshotMode, CliError> {
    match v {
        None => Ok(SnapshotMode::Full),
        Some(v) => choose(
            "snapshot-mode",
            v,
            &[
                ("full", SnapshotMode::Full),
                ("redo", SnapshotMode::Redo),
                ("time", SnapshotMode::Time),
            ],
        ),
    }
}

/// The `--cache*` flags (taken out of `f`).
fn cache_options(f: &mut BuildFlags) -> Result<CacheOptions, CliError> {
    Ok(CacheOptions {
        enabled: f.cache.unwrap_or(false),
        repo: non_empty(f.cache_repo.take()),
        dir: path(f.cache_dir.take()).unwrap_or_else(|| PathBuf::from(DEFAULT_CACHE_DIR)),
        ttl: ttl(f.cache_ttl.as_deref())?,
        copy_layers: f.cache_copy_layers.unwrap_or(false),
        run_layers: f.cache_run_layers.unwrap_or(true),
        compressed: f.compressed_caching.unwrap_or(true),
        no_push_cache: f.no_push_cache.unwrap_or(false),
    })
}

/// Warmer flags → [`WarmerOptions`].
pub fn warmer_options(f: WarmerFlags, env: EnvLookup) -> Result<WarmerOptions, CliError> {
    let images: Vec<String> = f.image.into_iter().filter(|i| !i.is_empty()).collect();
    let dockerfile = path(f.dockerfile);
    if images.is_empty() && dockerfile.is_none() {
        return Err(CliError::Usage(
            "you must select at least one image to cache (--image) or a Dockerfile to parse (--dockerfile)".into(),
        ));
    }
    let (verbosity, log_format, log_timestamp) = log_options(&f.log)?;
    Ok(WarmerOptions {
        images,
        dockerfile,
        cache_dir: path(f.cache_dir).unwrap_or_else(|| PathBuf::from(DEFAULT_CACHE_DIR)),
        cache_ttl: ttl(f.cache_ttl.as_deref())?,
        force: f.force.unwrap_or(false),
        build_args: build_args("build-arg", &f.build_arg, env)?,
        custom_platform: non_empty(f.custom_platform),
        registry: registry_options(f.registry, env)?,
        verbosity,
        log_format,
        log_timestamp,
    })
}

pub(super) fn registry_options(
    f: RegistryFlags,
    env: EnvLookup,
) -> Result<RegistryOptions, CliError> {
    let (tuning, docker_config, helper_path) = environment::registry_environment(env)?;
    let mut mirrors: Vec<String> = f
        .registry_mirror
        .into_iter()
        .filter(|m| !m.is_empty())
        .collect();
    mirrors.extend(non_empty(env("KANIKO_REGISTRY_MIRROR")));
    let mut maps = Vec::new();
    for v in &f.registry_map {
        values::add_registry_maps(&mut maps, v).map_err(|e| invalid("registry-map", v, e))?;
    }
    if let Some(v) = non_empty(env("KANIKO_REGISTRY_MAP")) {
        values::add_registry_maps(&mut maps, &v).map_err(|reason| CliError::Env {
            var: "KANIKO_REGISTRY_MAP",
            value: v.clone(),
            reason,
        })?;
    }
    let certs = f
        .registry_certificate
        .iter()
        .map(|v| {
            values::parse_registry_certificate(v).map_err(|e| invalid("registry-certificate", v, e))
        })
        .collect::<Result<_, _>>()?;
    let client_certs = f
        .registry_client_cert
        .iter()
        .map(|v| {
            values::parse_registry_client_cert(v).map_err(|e| invalid("registry-client-cert", v, e))
        })
        .collect::<Result<_, _>>()?;
    Ok(RegistryOptions {
        insecure: f.insecure.unwrap_or(false),
        insecure_pull: f.insecure_pull.unwrap_or(false),
        insecure_registries: f
            .insecure_registry
            .into_iter()
            .filter(|r| !r.is_empty())
            .collect(),
        skip_tls_verify: f.skip_tls_verify.unwrap_or(false),
        skip_tls_verify_pull: f.skip_tls_verify_pull.unwrap_or(false),
        skip_tls_verify_registries: f
            .skip_tls_verify_registry
            .into_iter()
            .filter(|r| !r.is_empty())
            .collect(),
        registry_certificates: certs,
        registry_client_certs: client_certs,
        registry_mirrors: mirrors,
        registry_maps: maps,
        skip_default_registry_fallback: f.skip_default_registry_fallback.unwrap_or(false),
        image_download_retry: count("image-download-retry", f.image_download_retry.as_deref())?,
        credential_helpers: credential_helpers(&f.credential_helpers)?,
        tuning,
        docker_config,
        helper_path,
    })
}

pub(super) fn log_options(f: &LogFlags) -> Result<(Level, LogFormat, bool), CliError> {
    let level = match f.verbosity.as_deref() {
        None => Level::Info,
        Some(v) => match v.to_ascii_lowercase().as_str() {
            "trace" => Level::Trace,
            "debug" => Level::Debug,
            "info" => Level::Info,
            "warn" | "warning" => Level::Warn,
            "error" => Level::Error,
            "fatal" => Level::Fatal,
            "panic" => Level::Panic,
            _ => {
                return Err(invalid(
                    "verbosity",
                    v,
                    "want trace, debug, info, warn, error, fatal or panic",
                ))
            }
        },
    };
    let format = match f.log_format.as_deref() {
        None => LogFormat::Color,
        Some(v) => choose(
            "log-format",
            v,
            &[
                ("text", LogFormat::Text),
                ("color", LogFormat::Color),
                ("json", LogFormat::Json),
            ],
        )?,
    };
    Ok((level, format, f.log_timestamp.unwrap_or(false)))
}

/// `executor login`: docker's rules (`--password` and `--password-stdin` exclude each
/// other; `--password-stdin` needs `--username`), and a user name and password required.
pub(super) fn login_options(f: LoginFlags, env: EnvLookup) -> Result<LoginOptions, CliError> {
    let usage = |m: &str| Err(CliError::Usage(m.to_string()));
    if f.password.is_some() && f.password_stdin {
        return usage("--password and --password-stdin are mutually exclusive");
    }
    let Some(username) = f.username.filter(|u| !u.is_empty()) else {
        return usage(
            "username and password required (--username with --password or --password-stdin)",
        );
    };
    let password = match f.password {
        Some(p) if p.is_empty() => return usage("username and password required"),
        Some(p) => Some(p),
        None if f.password_stdin => None,
        None => return usage("username and password required (--password or --password-stdin)"),
    };
    if f.registry.trim().is_empty() {
        return usage("login needs a registry");
    }
    Ok(LoginOptions {
        registry: f.registry,
        username,
        password,
        kaniko_dir: non_empty(env("KANIKO_DIR"))
            .map_or_else(|| PathBuf::from(DEFAULT_KANIKO_DIR), PathBuf::from),
        docker_config: environment::docker_config(env),
    })
}

/// `executor attestations` flags → what to read.
pub(super) fn read_attestations(
    f: AttestationsFlags,
    env: EnvLookup,
) -> Result<super::ReadAttestations, CliError> {
    Ok(super::ReadAttestations {
        reference: f.reference,
        kind: super::attestations::kind(f.kind.as_deref())?,
        platform: super::attestations::platform(f.platform.as_deref())?,
        registry: registry_options(f.registry, env)?,
    })
}
