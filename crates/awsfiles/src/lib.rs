//! AWS's shared files as the AWS SDKs read them (the Go SDK v2 that kaniko and its ECR
//! helper use): where they are, which profile applies, and a profile's values.
//!
//! - Files: `AWS_CONFIG_FILE` (else `$HOME/.aws/config`) and `AWS_SHARED_CREDENTIALS_FILE`
//!   (else `$HOME/.aws/credentials`); the profile is `AWS_PROFILE`, else
//!   `AWS_DEFAULT_PROFILE`, else `default`.
//! - Lines: blank lines and lines starting with `#` or `;` are skipped; anything after a
//!   `#` or `;` on a section or property line is a comment; `key = value` (or `key:
//!   value`), keys lowercased, values trimmed and unquoted; an indented line continues the
//!   value above it; a line that is none of these makes the file invalid.
//! - Sections: in the config file `[default]` and `[profile NAME]` (other names are
//!   ignored), in the credentials file `[NAME]` (`[profile NAME]` is ignored there); the
//!   credentials file's values win over the config file's.
//! - Static keys need both `aws_access_key_id` and `aws_secret_access_key`: a profile with
//!   one of them in a file is an error, as in the SDKs.
//!
//! Reading the files is the caller's (when, and with what bound); this crate parses text.

mod parse;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

pub use parse::ParseError;

/// Where the shared files are and which profile applies, from environment variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Files {
    pub config: Option<PathBuf>,
    pub credentials: Option<PathBuf>,
    pub profile: String,
}

impl Files {
    /// The files and profile `var` (a non-empty environment variable's value) names.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Files {
        let path = |name: &str, default: &str| {
            var(name)
                .map(PathBuf::from)
                .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".aws").join(default)))
        };
        Files {
            config: path("AWS_CONFIG_FILE", "config"),
            credentials: path("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
            profile: var("AWS_PROFILE")
                .or_else(|| var("AWS_DEFAULT_PROFILE"))
                .unwrap_or_else(|| "default".into()),
        }
    }
}

/// A shared file's text and the name it goes by in messages (its path).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub name: String,
    pub text: String,
}

/// An access key, its secret and the session token of temporary credentials; `Debug`
/// shows the key id only.
#[derive(Clone, PartialEq, Eq)]
pub struct Keys {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keys({}, <redacted>)", self.access_key_id)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    #[error("{file}: {error}")]
    Parse { file: String, error: ParseError },
    #[error(
        "{file}: profile {profile} has only one of aws_access_key_id and aws_secret_access_key"
    )]
    PartialKeys { file: String, profile: String },
}

/// One profile's values, both files merged.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Profile {
    name: String,
    values: BTreeMap<String, String>,
    /// The file whose section of this profile holds a lone key id or secret.
    partial: Option<String>,
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Profile({}: ", self.name)?;
        f.debug_list().entries(self.values.keys()).finish()?;
        f.write_str(")")
    }
}

const KEY_ID: &str = "aws_access_key_id";
const SECRET: &str = "aws_secret_access_key";
const TOKEN: &str = "aws_session_token";

impl Profile {
    /// Profile `name` from the files' texts (a missing or unreadable file is `None`: the
    /// SDKs treat it as empty).
    pub fn read(
        name: &str,
        config: Option<&Source>,
        credentials: Option<&Source>,
    ) -> Result<Profile, Error> {
        let mut p = Profile {
            name: name.to_string(),
            ..Profile::default()
        };
        if let Some(Source { name: file, text }) = config {
            let sections = parse::sections(text).map_err(|error| Error::Parse {
                file: file.clone(),
                error,
            })?;
            // `[profile NAME]`; for the default profile `[default]` too, which a
            // `[profile default]` overrides.
            let prefixed = sections.get(&format!("profile {name}"));
            let section =
                prefixed.or_else(|| sections.get("default").filter(|_| name == "default"));
            if let Some(s) = section {
                p.merge(file, s);
            }
        }
        if let Some(Source { name: file, text }) = credentials {
            let sections = parse::sections(text).map_err(|error| Error::Parse {
                file: file.clone(),
                error,
            })?;
            if let Some(s) = sections.get(name).filter(|_| !name.starts_with("profile ")) {
                p.merge(file, s);
            }
        }
        Ok(p)
    }

    /// Adds a file's section: its keys only as a pair, other values one by one.
    fn merge(&mut self, file: &str, section: &BTreeMap<String, String>) {
        let (id, secret) = (section.get(KEY_ID), section.get(SECRET));
        self.partial = (id.is_some() != secret.is_some()).then(|| file.to_string());
        for (k, v) in section {
            if ![KEY_ID, SECRET, TOKEN].contains(&k.as_str()) {
                self.values.insert(k.clone(), v.clone());
            }
        }
        if let (Some(id), Some(secret)) = (id, secret) {
            self.values.insert(KEY_ID.into(), id.clone());
            self.values.insert(SECRET.into(), secret.clone());
            if let Some(t) = section.get(TOKEN) {
                self.values.insert(TOKEN.into(), t.clone());
            }
        }
    }

    /// A value of the profile (keys are lowercase).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// The profile's region.
    pub fn region(&self) -> Option<&str> {
        self.get("region").filter(|r| !r.is_empty())
    }

    /// The profile's static keys: `None` when it has none.
    pub fn keys(&self) -> Result<Option<Keys>, Error> {
        if let Some(file) = &self.partial {
            return Err(Error::PartialKeys {
                file: file.clone(),
                profile: self.name.clone(),
            });
        }
        let (Some(id), Some(secret)) = (self.get(KEY_ID), self.get(SECRET)) else {
            return Ok(None);
        };
        if id.is_empty() || secret.is_empty() {
            return Ok(None);
        }
        Ok(Some(Keys {
            access_key_id: id.to_string(),
            secret_access_key: secret.to_string(),
            session_token: self
                .get(TOKEN)
                .filter(|t| !t.is_empty())
                .map(str::to_string),
        }))
    }
}

#[cfg(test)]
mod tests;
