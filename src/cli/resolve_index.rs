//! `executor index` flags → [`IndexOptions`]. Sources are read to be pushed, so
//! `--insecure` and `--skip-tls-verify` cover reading them too; mirrors and maps, which
//! serve base images, are refused: a source is read from the registry it names.

use super::flags::{IndexFlags, RegistryFlags};
use super::options::{IndexOptions, DEFAULT_KANIKO_DIR};
use super::resolve::{log_options, registry_options};
use super::resolve_flag::{count, given, non_empty, path, EnvLookup};
use super::CliError;
use std::path::PathBuf;

pub(super) fn index_options(f: IndexFlags, env: EnvLookup) -> Result<IndexOptions, CliError> {
    let usage = |m: &str| Err(CliError::Usage(m.to_string()));
    let sources = given(f.sources);
    let destinations = given(f.destination);
    if destinations.is_empty() {
        return usage("executor index needs at least one --destination");
    }
    if sources.is_empty() {
        return usage("executor index needs at least one source image");
    }
    refuse_mirrors(&f.registry)?;
    let mut registry = registry_options(f.registry, env)?;
    // `KANIKO_REGISTRY_MIRROR` and `KANIKO_REGISTRY_MAP` serve base images: not used here.
    registry.registry_mirrors.clear();
    registry.registry_maps.clear();
    registry.insecure_pull |= registry.insecure;
    registry.skip_tls_verify_pull |= registry.skip_tls_verify;
    let (verbosity, log_format, log_timestamp) = log_options(&f.log)?;
    Ok(IndexOptions {
        sources,
        destinations,
        digest_file: path(f.digest_files.digest_file),
        image_name_with_digest_file: path(f.digest_files.image_name_with_digest_file),
        image_name_tag_with_digest_file: path(f.digest_files.image_name_tag_with_digest_file),
        push_retry: count("push-retry", f.push_retry.as_deref())?,
        registry,
        kaniko_dir: non_empty(env("KANIKO_DIR"))
            .map_or_else(|| PathBuf::from(DEFAULT_KANIKO_DIR), PathBuf::from),
        verbosity,
        log_format,
        log_timestamp,
    })
}

fn refuse_mirrors(f: &RegistryFlags) -> Result<(), CliError> {
    let given = [
        ("--registry-mirror", !f.registry_mirror.is_empty()),
        ("--registry-map", !f.registry_map.is_empty()),
        (
            "--skip-default-registry-fallback",
            f.skip_default_registry_fallback.is_some(),
        ),
    ];
    match given.iter().find(|(_, set)| *set) {
        Some((flag, _)) => Err(CliError::Usage(format!(
            "{flag} does not apply to executor index: each source is read from the registry it names"
        ))),
        None => Ok(()),
    }
}
