//! The environment variables a build reads beyond its flags' `KANIKO_*` fallbacks, each
//! read once, here, when the command line is resolved; the rest of the binary and the
//! crates take the values from [`Environment`] and [`RegistryOptions`]. Left to the
//! process environment, and why (README, Layout): the variables `--secret`, git and the
//! cloud credential helpers read (`crate::startup`: the environment as it is once
//! `--kaniko-dir` moved, their credentials then removed from it), and those libraries read
//! themselves (`SSL_CERT_FILE`/`SSL_CERT_DIR` through `rustls-native-certs`, proxies
//! through reqwest, `OTEL_*` through the OpenTelemetry SDK).

use super::options::RegistryOptions;
use super::resolve_flag::{non_empty, EnvLookup};
use super::CliError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a build takes from its environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Environment {
    /// `SSH_AUTH_SOCK`: the agent `RUN --mount=type=ssh` forwards.
    pub ssh_auth_sock: Option<PathBuf>,
    /// `KANIKO_MAX_LAYER_EXPANSION`: how many times its compressed size a layer (or a
    /// remote context) may expand to when unpacked (0: no bound).
    pub max_layer_expansion: u64,
    /// `BUILDER_OUTPUT`: Cloud Build's output directory (`images` written after the push).
    pub builder_output: Option<PathBuf>,
    /// `container`: a runtime's name, one of the container check's signs.
    pub container: Option<String>,
    /// The trace exporter's variables that are set ([`crate::telemetry::settings::VARIABLES`]).
    pub telemetry: Variables,
}

impl Default for Environment {
    fn default() -> Environment {
        Environment {
            ssh_auth_sock: None,
            max_layer_expansion: engine::UnpackLimits::DEFAULT_EXPANSION,
            builder_output: None,
            container: None,
            telemetry: Variables::default(),
        }
    }
}

/// Some variables by name; printed by name only (values may hold tokens).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Variables(BTreeMap<&'static str, String>);

impl Variables {
    fn read(names: &[&'static str], env: EnvLookup) -> Variables {
        Variables(
            names
                .iter()
                .filter_map(|n| env(n).map(|v| (*n, v)))
                .collect(),
        )
    }

    /// The value of `name`, if it was set.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

impl std::fmt::Debug for Variables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl Environment {
    /// Reads and checks every variable once; a bad value is an error naming it.
    pub fn resolve(env: EnvLookup) -> Result<Environment, CliError> {
        Ok(Environment {
            ssh_auth_sock: non_empty(env("SSH_AUTH_SOCK")).map(PathBuf::from),
            max_layer_expansion: max_layer_expansion(env)?,
            builder_output: non_empty(env("BUILDER_OUTPUT")).map(PathBuf::from),
            container: env("container"),
            telemetry: Variables::read(&crate::telemetry::settings::VARIABLES, env),
        })
    }
}

fn max_layer_expansion(env: EnvLookup) -> Result<u64, CliError> {
    const VAR: &str = "KANIKO_MAX_LAYER_EXPANSION";
    match env(VAR) {
        Some(v) => v.trim().parse().map_err(|_| {
            CliError::Usage(format!("{VAR}={v:?}: want a whole number (0: no bound)"))
        }),
        None => Ok(engine::UnpackLimits::DEFAULT_EXPANSION),
    }
}

/// The registry client's variables: `KANIKO_REGISTRY_*` limits, `DOCKER_CONFIG`, and `PATH`
/// (where credential helper programs are looked for after the kaniko dir).
pub(super) fn registry_environment(
    env: EnvLookup,
) -> Result<(registry::Tuning, Option<PathBuf>, Option<String>), CliError> {
    let tuning = registry::Tuning::from_env(env).map_err(|e| match e {
        registry::Error::Setting { var, value, reason } => CliError::Env { var, value, reason },
        other => CliError::Usage(other.to_string()),
    })?;
    Ok((tuning, docker_config(env), env("PATH")))
}

/// `DOCKER_CONFIG`, when set and not empty.
pub(super) fn docker_config(env: EnvLookup) -> Option<PathBuf> {
    non_empty(env("DOCKER_CONFIG")).map(PathBuf::from)
}

impl RegistryOptions {
    /// The Docker config directory: `DOCKER_CONFIG`, else `<kaniko dir>/.docker`.
    pub fn docker_config_dir(&self, kaniko_dir: &Path) -> PathBuf {
        config_dir(self.docker_config.as_deref(), kaniko_dir)
    }

    /// After `--kaniko-dir` moved /kaniko there: the Docker config is the moved one, as
    /// `DOCKER_CONFIG` now says in the process environment (`crate::kaniko_dir`).
    pub fn follow_kaniko_dir(&mut self, kaniko_dir: &Path) {
        self.docker_config = Some(kaniko_dir.join(".docker"));
    }
}

/// `docker_config`, else `<kaniko dir>/.docker`.
pub fn config_dir(docker_config: Option<&Path>, kaniko_dir: &Path) -> PathBuf {
    docker_config.map_or_else(|| kaniko_dir.join(".docker"), Path::to_path_buf)
}

#[cfg(test)]
mod tests;
