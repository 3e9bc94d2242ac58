//! The registry client the executor, the warmer and `login` use: flags, limits, the Docker
//! config and credential helpers.

use crate::cli::{Options, RegistryOptions};
use crate::startup::Startup;
use registry::{Client, Keychain};
use std::path::Path;

/// The registry client: flags, `KANIKO_REGISTRY_*` limits (resolved in `cli`), the Docker config's
/// credentials with their helper programs resolved now, before any base image is unpacked
/// over the root (in the kaniko directory, then on PATH as it is at start), and the
/// built-in helpers `--credential-helpers` enables (their environment read now too).
pub(crate) fn registry_client(opts: &Options, startup: &Startup) -> anyhow::Result<Client> {
    client_for(&opts.registry, opts.push_retry, &opts.kaniko_dir, startup)
}

/// A registry client with these options, the Docker config they name and credential
/// helpers from `kaniko_dir` first (the executor's and the warmer's).
pub(crate) fn client_for(
    registry: &RegistryOptions,
    push_retry: u32,
    kaniko_dir: &Path,
    startup: &Startup,
) -> anyhow::Result<Client> {
    let config_dir = registry.docker_config_dir(kaniko_dir);
    let mut helper_dirs = vec![kaniko_dir.to_path_buf()];
    helper_dirs.extend(
        registry::default_helper_dirs(registry.helper_path.as_deref())
            .into_iter()
            .filter(|d| d != kaniko_dir),
    );
    let builtins = registry::Builtins::new(
        registry.credential_helpers.as_deref(),
        startup.vars().collect(),
    );
    tracing::debug!("built-in credential helpers: {:?}", builtins.names());
    let keychain =
        Keychain::from_dir_with_helper_dirs(&config_dir, &helper_dirs)?.with_builtins(builtins);
    let options = registry_options(registry, push_retry, &startup.resolver);
    Ok(Client::with_tuning(
        options,
        keychain,
        registry.tuning.clone(),
    )?)
}

fn registry_options(
    r: &RegistryOptions,
    push_retry: u32,
    resolver: &resolve::Resolver,
) -> registry::Options {
    registry::Options {
        insecure_push: r.insecure,
        insecure_pull: r.insecure_pull,
        insecure_registries: r.insecure_registries.clone(),
        skip_tls_verify_push: r.skip_tls_verify,
        skip_tls_verify_pull: r.skip_tls_verify_pull,
        skip_tls_verify_registries: r.skip_tls_verify_registries.clone(),
        ca_certs: r.registry_certificates.clone(),
        client_certs: r.registry_client_certs.clone(),
        mirrors: r.registry_mirrors.clone(),
        registry_maps: r.registry_maps.clone(),
        skip_default_fallback: r.skip_default_registry_fallback,
        pull_retries: r.image_download_retry,
        push_retries: push_retry,
        resolver: resolver.clone(),
    }
}
