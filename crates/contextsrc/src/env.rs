//! The environment a fetch reads, captured once: only the variables the sources know, so a
//! test can hand in its own and nothing else leaks in. Secret values redact themselves.

use std::collections::BTreeMap;
use std::fmt;

/// A value that must never be printed: `Debug` and `Display` show `<redacted>`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The value itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Prefixes and names of the variables the sources read.
const PREFIXES: [&str; 4] = ["AWS_", "GOOGLE_", "AZURE_", "AZURITE_"];
const NAMES: [&str; 11] = [
    "GIT_PULL_METHOD",
    "KANIKO_GIT_MAX_SIZE",
    "KANIKO_GIT_TIMEOUT",
    "GIT_USERNAME",
    "GIT_PASSWORD",
    "GIT_TOKEN",
    "S3_ENDPOINT",
    "S3_FORCE_PATH_STYLE",
    "STORAGE_EMULATOR_HOST",
    "HOME",
    "SSL_CERT_FILE",
];

/// A snapshot of the relevant environment. `Debug` lists names only.
#[derive(Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.vars.keys()).finish()
    }
}

impl Env {
    /// The relevant variables among `pairs`.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Env {
        let vars = pairs
            .into_iter()
            .filter(|(k, _)| {
                NAMES.contains(&k.as_str()) || PREFIXES.iter().any(|p| k.starts_with(p))
            })
            .collect();
        Env { vars }
    }

    /// This environment with `name` set to `value`.
    pub fn with(&self, name: &str, value: &str) -> Env {
        let mut e = self.clone();
        e.vars.insert(name.to_string(), value.to_string());
        e
    }

    /// This environment without `names`.
    pub fn without(&self, names: &[&str]) -> Env {
        let mut e = self.clone();
        e.vars.retain(|k, _| !names.contains(&k.as_str()));
        e
    }

    /// A non-empty variable.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A non-empty variable holding a secret.
    pub fn secret(&self, name: &str) -> Option<Secret> {
        self.get(name).map(Secret::new)
    }

    /// Every variable whose name starts with `prefix`.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.vars
            .iter()
            .filter(move |(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }
}
