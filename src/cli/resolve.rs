//! Raw flags → resolved options: defaults, environment fallbacks (`KANIKO_*`, and the
//! environment values of `--build-arg K`), deprecated forms, and validation. Every error
//! names the flag (or environment variable) and the value.

use super::flags::{BuildFlags, LogFlags, LoginFlags, RegistryFlags, WarmerFlags};
use super::options::*;
use super::values;
use super::CliError;
use std::path::PathBuf;

/// Looks up an environment variable (the process environment, or a test's map).
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

fn invalid(flag: &'static str, value: &str, reason: impl Into<String>) -> CliError {
    CliError::Flag {
        flag,
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// Executor flags → [`Options`].
pub fn build_options(f: BuildFlags, env: EnvLookup) -> Result<Options, CliError> {
    let no_push = env_bool(f.no_push, "KANIKO_NO_PUSH", env)?;
    let cleanup = env_bool(f.cleanup, "KANIKO_CLEANUP", env)?;
    let compression = match f.compression.as_deref() {
        None => Compression::Gzip,
        Some(v) => choose(
            "compression",
            v,
            &[("gzip", Compression::Gzip), ("zstd", Compression::Zstd)],
        )?,
    };
    let compression_level = match f.compression_level.as_deref() {
        None => -1,
        Some(v) => compression_level(compression, v)?,
    };
    let (verbosity, log_format, log_timestamp) = log_options(&f.log)?;
    Ok(Options {
        context: context(f.context.as_deref(), f.bucket.as_deref())?,
        context_sub_path: non_empty(f.context_sub_path),
        dockerfile: f.dockerfile.unwrap_or_else(|| "Dockerfile".to_string()),
        git: git_options(&f.git)?,
        build_args: build_args("build-arg", &f.build_arg, env)?,
        target: non_empty(f.target),
        skip_unused_stages: f.skip_unused_stages.unwrap_or(false),
        custom_platform: non_empty(f.custom_platform),
        labels: pairs("label", &f.label)?,
        annotations: pairs("annotation", &f.annotation)?,
        secrets: f
            .secret
            .iter()
            .map(|s| secret(s))
            .collect::<Result<_, _>>()?,

        destinations: f
            .destination
            .into_iter()
            .filter(|d| !d.is_empty())
            .collect(),
        no_push,
        tar_path: path(f.tar_path),
        oci_layout_path: path(f.oci_layout_path),
        digest_file: path(f.digest_file),
        image_name_with_digest_file: path(f.image_name_with_digest_file),
        image_name_tag_with_digest_file: path(f.image_name_tag_with_digest_file),
        image_format: match f.image_format.as_deref() {
            None | Some("") => None,
            Some(v) => Some(choose(
                "image-format",
                v,
                &[
                    ("docker", image::Format::Docker),
                    ("oci", image::Format::Oci),
                ],
            )?),
        },
        compression,
        compression_level,
        reproducible: f.reproducible.unwrap_or(false),
        push_retry: count("push-retry", f.push_retry.as_deref())?,
        push_ignore_immutable_tag_errors: f.push_ignore_immutable_tag_errors.unwrap_or(false),
        skip_push_permission_check: f.skip_push_permission_check.unwrap_or(false),

        registry: registry_options(f.registry, env)?,

        snapshot_mode: match f.snapshot_mode.as_deref() {
            None => SnapshotMode::Full,
            Some(v) => choose(
                "snapshot-mode",
                v,
                &[
                    ("full", SnapshotMode::Full),
                    ("redo", SnapshotMode::Redo),
                    ("time", SnapshotMode::Time),
                ],
            )?,
        },
        single_snapshot: f.single_snapshot.unwrap_or(false),
        use_new_run: f.use_new_run.unwrap_or(false),
        ignore_paths: f
            .ignore_path
            .into_iter()
            .filter(|p| !p.is_empty())
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
        kaniko_dir: match non_empty(f.kaniko_dir).or_else(|| non_empty(env("KANIKO_DIR"))) {
            Some(d) => PathBuf::from(d),
            None => PathBuf::from(DEFAULT_KANIKO_DIR),
        },

        cache: CacheOptions {
            enabled: f.cache.unwrap_or(false),
            repo: non_empty(f.cache_repo),
            dir: path(f.cache_dir).unwrap_or_else(|| PathBuf::from(DEFAULT_CACHE_DIR)),
            ttl: ttl(f.cache_ttl.as_deref())?,
            copy_layers: f.cache_copy_layers.unwrap_or(false),
            run_layers: f.cache_run_layers.unwrap_or(true),
            compressed: f.compressed_caching.unwrap_or(true),
            no_push_cache: f.no_push_cache.unwrap_or(false),
        },

        verbosity,
        log_format,
        log_timestamp,
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

fn registry_options(f: RegistryFlags, env: EnvLookup) -> Result<RegistryOptions, CliError> {
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
    })
}

fn log_options(f: &LogFlags) -> Result<(Level, LogFormat, bool), CliError> {
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

/// One of `choices` by exact name; the error lists them ("want a, b or c").
fn choose<T: Copy>(flag: &'static str, value: &str, choices: &[(&str, T)]) -> Result<T, CliError> {
    if let Some((_, t)) = choices.iter().find(|(name, _)| *name == value) {
        return Ok(*t);
    }
    let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
    let want = match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("want {} or {last}", rest.join(", ")),
        _ => format!("want {}", names.join("")),
    };
    Err(invalid(flag, value, want))
}

/// A boolean flag, else its environment variable, else false.
fn env_bool(flag: Option<bool>, var: &'static str, env: EnvLookup) -> Result<bool, CliError> {
    if let Some(b) = flag {
        return Ok(b);
    }
    match env(var) {
        Some(v) if !v.is_empty() => values::parse_bool(&v).map_err(|reason| CliError::Env {
            var,
            value: v.clone(),
            reason,
        }),
        _ => Ok(false),
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

/// A path flag: an empty value means unset, as in kaniko.
fn path(s: Option<String>) -> Option<PathBuf> {
    non_empty(s).map(PathBuf::from)
}

fn count(flag: &'static str, v: Option<&str>) -> Result<u32, CliError> {
    match v {
        None => Ok(0),
        Some(v) => v
            .trim()
            .parse::<u32>()
            .map_err(|_| invalid(flag, v, "want a non-negative integer")),
    }
}

fn ttl(v: Option<&str>) -> Result<std::time::Duration, CliError> {
    match v {
        None => Ok(DEFAULT_CACHE_TTL),
        Some(v) => values::parse_duration(v).map_err(|e| invalid("cache-ttl", v, e)),
    }
}

fn compression_level(c: Compression, v: &str) -> Result<i32, CliError> {
    let level: i32 = v
        .trim()
        .parse()
        .map_err(|_| invalid("compression-level", v, "want an integer"))?;
    let (max, name) = match c {
        Compression::Gzip => (9, "gzip"),
        Compression::Zstd => (22, "zstd"),
    };
    if level < -1 || level > max {
        return Err(invalid(
            "compression-level",
            v,
            format!("want -1 (default) or 0..={max} for {name}"),
        ));
    }
    Ok(level)
}

fn pairs(flag: &'static str, vals: &[String]) -> Result<Vec<(String, String)>, CliError> {
    vals.iter()
        .map(|v| values::parse_key_value(v).map_err(|e| invalid(flag, v, e)))
        .collect()
}

/// `K=V` as given; `K` alone takes the environment's value (`None` when unset there).
fn build_args(
    flag: &'static str,
    vals: &[String],
    env: EnvLookup,
) -> Result<Vec<(String, Option<String>)>, CliError> {
    vals.iter()
        .map(|v| {
            let (k, val) = values::parse_build_arg(v).map_err(|e| invalid(flag, v, e))?;
            let val = val.or_else(|| env(&k));
            Ok((k, val))
        })
        .collect()
}

/// `--context` (default /workspace/), or the deprecated `--bucket` when the context is empty
/// or remote, as kaniko does.
fn context(ctx: Option<&str>, bucket: Option<&str>) -> Result<ContextSource, CliError> {
    let ctx = ctx.unwrap_or("/workspace/");
    let bucket = bucket.filter(|b| !b.is_empty());
    let (flag, value) = match bucket {
        Some(b) if ctx.is_empty() || ctx.contains("://") => (
            "bucket",
            if b.contains("://") {
                b.to_string()
            } else {
                format!("gs://{b}")
            },
        ),
        _ if ctx.is_empty() => {
            return Err(invalid("context", ctx, "want a build context path or URL"));
        }
        _ => ("context", ctx.to_string()),
    };
    let src = ContextSource::parse(&value).map_err(|e| invalid(flag, &value, e))?;
    match src {
        // As kaniko: a relative directory (`rel`, `dir://rel`) is taken from the working
        // directory, absolute ones are kept as written.
        ContextSource::Dir(p) if p.is_relative() => {
            let cwd = std::env::current_dir()
                .map_err(|e| invalid(flag, &value, format!("no working directory: {e}")))?;
            Ok(ContextSource::Dir(values::absolute(&p, &cwd)))
        }
        other => Ok(other),
    }
}

/// `--git` values: `key=value` items, comma-separated or repeated.
fn git_options(vals: &[String]) -> Result<GitOptions, CliError> {
    let mut g = GitOptions::default();
    for v in vals {
        for item in v.split(',').filter(|i| !i.is_empty()) {
            let (k, val) = item
                .split_once('=')
                .ok_or_else(|| invalid("git", v, format!("{item:?}: want key=value")))?;
            let flag = |val: &str| {
                values::parse_bool(val).map_err(|e| invalid("git", v, format!("{k}: {e}")))
            };
            match k {
                "branch" => g.branch = Some(val.to_string()).filter(|b| !b.is_empty()),
                "single-branch" => g.single_branch = flag(val)?,
                "recurse-submodules" => g.recurse_submodules = flag(val)?,
                "insecure-skip-tls" => g.insecure_skip_tls = flag(val)?,
                _ => {
                    return Err(invalid(
                        "git",
                        v,
                        format!("unknown key {k:?}: want branch, single-branch, recurse-submodules or insecure-skip-tls"),
                    ))
                }
            }
        }
    }
    Ok(g)
}

/// `id=X[,src=path][,env=VAR][,type=file|env]`. Without src or env the value comes from the
/// environment variable named like the id.
fn secret(v: &str) -> Result<Secret, CliError> {
    let (mut id, mut src, mut var, mut kind) = (None, None, None, None);
    for item in v.split(',').filter(|i| !i.is_empty()) {
        let (k, val) = item
            .split_once('=')
            .ok_or_else(|| invalid("secret", v, format!("{item:?}: want key=value")))?;
        match k {
            "id" => id = Some(val),
            "src" | "source" => src = Some(val),
            "env" => var = Some(val),
            "type" => kind = Some(val),
            _ => {
                return Err(invalid(
                    "secret",
                    v,
                    format!("unknown key {k:?}: want id, src, env or type"),
                ))
            }
        }
    }
    let id = id
        .filter(|i| !i.is_empty())
        .ok_or_else(|| invalid("secret", v, "missing id=..."))?;
    let source = match (kind, src, var) {
        (Some("file"), Some(p), None) | (None, Some(p), None) if !p.is_empty() => {
            SecretSource::File(PathBuf::from(p))
        }
        (Some("file"), _, _) => {
            return Err(invalid(
                "secret",
                v,
                "type=file needs src=path (and no env=)",
            ))
        }
        (Some("env"), None, None) | (None, None, None) => SecretSource::Env(id.to_string()),
        (Some("env"), Some(n), None) | (Some("env"), None, Some(n)) | (None, None, Some(n))
            if !n.is_empty() =>
        {
            SecretSource::Env(n.to_string())
        }
        (Some(t), _, _) if t != "env" => {
            return Err(invalid(
                "secret",
                v,
                format!("unknown type {t:?}: want file or env"),
            ))
        }
        _ => return Err(invalid("secret", v, "give one non-empty src= or env=")),
    };
    Ok(Secret {
        id: id.to_string(),
        source,
    })
}

/// `--credential-helpers`: not given means all; `""` means none. Names are split at commas;
/// an unknown name is warned about and skipped when the keychain is made, as kaniko does.
fn credential_helpers(vals: &[String]) -> Result<Option<Vec<String>>, CliError> {
    if vals.is_empty() {
        return Ok(None);
    }
    let names = vals
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect();
    Ok(Some(names))
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
    })
}
