//! Credentials from a Docker config (`$DOCKER_CONFIG/config.json`): `auths` entries (auth,
//! username/password, identitytoken, registrytoken), `credHelpers` and `credsStore`
//! (external `docker-credential-<name>` programs, resolved when the keychain is made: see
//! `helper_programs`), then the built-in helpers `--credential-helpers` enables (`builtin`).

use crate::builtin::{Builtins, Ctx, Kind};
use crate::credential::Credential;
use crate::helper_programs::{default_helper_dirs, Helpers};
use crate::Error;
use base64::Engine;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Default, serde::Deserialize)]
struct ConfigFile {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: HashMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Default, Clone, serde::Deserialize)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    identitytoken: Option<String>,
    registrytoken: Option<String>,
}

#[derive(Default)]
pub struct Keychain {
    config: ConfigFile,
    helpers: Helpers,
    builtins: Builtins,
}

/// What the Docker config says about a registry.
enum Lookup {
    Found(Credential),
    /// A helper program kaniko's image ships, not installed here: its built-in stands in.
    Builtin(Kind),
    Nothing,
}

impl fmt::Debug for Keychain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keychain({} auths)", self.config.auths.len())
    }
}

/// The keys an `auths` entry may use for `registry`.
fn keys_for(registry: &str) -> Vec<String> {
    let mut keys = vec![
        registry.to_string(),
        format!("https://{registry}"),
        format!("http://{registry}"),
    ];
    keys.push(format!("https://{registry}/v1/"));
    keys.push(format!("https://{registry}/v2/"));
    if registry == crate::reference::DOCKER_HUB {
        keys.extend(
            [
                "https://index.docker.io/v1/",
                "docker.io",
                "registry-1.docker.io",
            ]
            .map(String::from),
        );
    }
    keys
}

impl Keychain {
    /// Reads `dir/config.json` (a missing file is an empty keychain); credential helpers
    /// are resolved now, in `/kaniko` only.
    pub fn from_dir(dir: &Path) -> Result<Keychain, Error> {
        Self::from_dir_with_helper_dirs(dir, &default_helper_dirs(None))
    }

    /// Like [`from_dir`](Self::from_dir), resolving credential helpers in `helper_dirs`
    /// (in order) now, so nothing placed there later is ever run.
    pub fn from_dir_with_helper_dirs(
        dir: &Path,
        helper_dirs: &[PathBuf],
    ) -> Result<Keychain, Error> {
        let path = dir.join("config.json");
        match std::fs::read(&path) {
            Ok(bytes) => {
                let config = serde_json::from_slice(&bytes)
                    .map_err(|e| Error::Config(path.clone(), e.to_string()))?;
                Ok(Self::with_config(config, helper_dirs))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Keychain::default()),
            Err(e) => Err(Error::Io(path, e)),
        }
    }

    pub fn from_json(text: &str) -> Result<Keychain, Error> {
        let config = serde_json::from_str(text)
            .map_err(|e| Error::Config("<inline>".into(), e.to_string()))?;
        Ok(Self::with_config(config, &default_helper_dirs(None)))
    }

    fn with_config(config: ConfigFile, helper_dirs: &[PathBuf]) -> Keychain {
        let names = config
            .cred_helpers
            .values()
            .chain(config.creds_store.iter())
            .map(String::as_str);
        let helpers = Helpers::resolve(names, helper_dirs);
        Keychain {
            config,
            helpers,
            builtins: Builtins::default(),
        }
    }

    /// This keychain asking `builtins` when the Docker config has nothing for a registry.
    pub fn with_builtins(mut self, builtins: Builtins) -> Keychain {
        self.builtins = builtins;
        self
    }

    /// The Docker config's credential for `registry`, if any (built-in helpers aside).
    pub fn get(&self, registry: &str) -> Result<Option<Credential>, Error> {
        Ok(match self.lookup(registry)? {
            Lookup::Found(c) => Some(c),
            Lookup::Builtin(_) | Lookup::Nothing => None,
        })
    }

    /// The credential for the registry in `ctx`: the Docker config's, else the first
    /// enabled built-in helper's.
    pub(crate) async fn resolve(&self, ctx: &Ctx<'_>) -> Result<Option<Credential>, Error> {
        match self.lookup(ctx.registry)? {
            Lookup::Found(c) => Ok(Some(c)),
            Lookup::Builtin(kind) => {
                tracing::debug!(
                    "the Docker config names {} for {}: using the built-in helper",
                    kind.name(),
                    ctx.registry
                );
                self.builtins.ask(kind, ctx).await
            }
            Lookup::Nothing => self.builtins.get(ctx).await,
        }
    }

    /// Helper program `name`'s answer, or the built-in standing in for it.
    fn helper(&self, name: &str, registry: &str) -> Result<Lookup, Error> {
        if self.helpers.missing(name) {
            if let Some(kind) = Kind::standin_for(name) {
                return Ok(Lookup::Builtin(kind));
            }
        }
        let found = self.helpers.get(name, &server_url(registry))?;
        Ok(found.map_or(Lookup::Nothing, Lookup::Found))
    }

    /// A `credHelpers` entry, then an `auths` entry, then the `credsStore`.
    fn lookup(&self, registry: &str) -> Result<Lookup, Error> {
        let found = |c: Option<Credential>| c.map_or(Lookup::Nothing, Lookup::Found);
        let keys = keys_for(registry);
        if let Some(helper) = keys.iter().find_map(|k| self.config.cred_helpers.get(k)) {
            return self.helper(helper, registry);
        }
        for key in &keys {
            if let Some(e) = self.config.auths.get(key) {
                return entry_credential(e, registry).map(found);
            }
        }
        // Entries written with a path or scheme we did not guess.
        for (k, e) in &self.config.auths {
            let host = k
                .trim_start_matches("https://")
                .trim_start_matches("http://");
            if host.split('/').next() == Some(registry) {
                return entry_credential(e, registry).map(found);
            }
        }
        if let Some(store) = self.config.creds_store.as_ref().filter(|s| !s.is_empty()) {
            return self.helper(store, registry);
        }
        Ok(Lookup::Nothing)
    }
}

/// The server URL a credential helper is asked about (Docker Hub's is its v1 index URL).
fn server_url(registry: &str) -> String {
    if registry == crate::reference::DOCKER_HUB {
        "https://index.docker.io/v1/".into()
    } else {
        registry.into()
    }
}

fn entry_credential(e: &AuthEntry, registry: &str) -> Result<Option<Credential>, Error> {
    if let Some(t) = e.registrytoken.as_ref().filter(|t| !t.is_empty()) {
        return Ok(Some(Credential::RegistryToken(t.clone())));
    }
    if let Some(t) = e.identitytoken.as_ref().filter(|t| !t.is_empty()) {
        return Ok(Some(Credential::IdentityToken(t.clone())));
    }
    if let Some(a) = e.auth.as_ref().filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(a.trim())
            .map_err(|_| Error::Config(registry.into(), "auth is not valid base64".into()))?;
        let text = String::from_utf8(decoded)
            .map_err(|_| Error::Config(registry.into(), "auth is not UTF-8".into()))?;
        let (u, p) = text
            .split_once(':')
            .ok_or_else(|| Error::Config(registry.into(), "auth is not user:password".into()))?;
        return Ok(Some(Credential::Basic {
            username: u.into(),
            password: p.into(),
        }));
    }
    match (&e.username, &e.password) {
        (Some(u), Some(p)) if !u.is_empty() => Ok(Some(Credential::Basic {
            username: u.clone(),
            password: p.clone(),
        })),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_forms() {
        let k = Keychain::from_json(
            r#"{"auths":{
              "a.example":{"auth":"dXNlcjpwYXNz"},
              "https://b.example/v1/":{"username":"u","password":"p"},
              "c.example":{"identitytoken":"tok"},
              "d.example":{"registrytoken":"rt"},
              "https://index.docker.io/v1/":{"auth":"aHViOnNlY3JldA=="}}}"#,
        )
        .unwrap();
        assert_eq!(
            k.get("a.example").unwrap(),
            Some(Credential::Basic {
                username: "user".into(),
                password: "pass".into()
            })
        );
        assert_eq!(
            k.get("b.example").unwrap(),
            Some(Credential::Basic {
                username: "u".into(),
                password: "p".into()
            })
        );
        assert_eq!(
            k.get("c.example").unwrap(),
            Some(Credential::IdentityToken("tok".into()))
        );
        assert_eq!(
            k.get("d.example").unwrap(),
            Some(Credential::RegistryToken("rt".into()))
        );
        assert!(matches!(
            k.get("index.docker.io").unwrap(),
            Some(Credential::Basic { .. })
        ));
        assert_eq!(k.get("none.example").unwrap(), None);
        let dbg = format!("{:?}", k.get("a.example").unwrap());
        assert!(!dbg.contains("pass"), "{dbg}");
    }

    #[test]
    fn other_key_spellings() {
        let k = Keychain::from_json(
            r#"{"auths":{
              "http://e.example:5000":{"auth":"dXNlcjpwYXNz"},
              "https://f.example/v2/token":{"username":"f","password":"x"}}}"#,
        )
        .unwrap();
        assert!(matches!(
            k.get("e.example:5000").unwrap(),
            Some(Credential::Basic { .. })
        ));
        assert!(
            matches!(k.get("f.example").unwrap(), Some(Credential::Basic { username, .. }) if username == "f")
        );
        assert_eq!(k.get("e.example").unwrap(), None);
        assert!(
            Keychain::from_json(r#"{"auths":{"g.example":{"auth":"@@"}}}"#)
                .unwrap()
                .get("g.example")
                .is_err()
        );
    }

    #[test]
    fn missing_file_is_empty_and_bad_json_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            Keychain::from_dir(dir.path()).unwrap().get("a").unwrap(),
            None
        );
        std::fs::write(dir.path().join("config.json"), "{not json").unwrap();
        let err = Keychain::from_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("config.json"), "{err}");
    }

    #[test]
    fn credential_helpers() {
        assert_eq!(server_url("index.docker.io"), "https://index.docker.io/v1/");
        // credHelpers wins over auths for its registry; credsStore is the fallback.
        let k = Keychain::from_json(
            r#"{"auths":{"h.example":{"auth":"dXNlcjpwYXNz"}, "i.example":{"auth":"dXNlcjpwYXNz"}},
                "credHelpers":{"h.example":"kaniko-rs-test-missing"},
                "credsStore":"kaniko-rs-test-missing-store"}"#,
        )
        .unwrap();
        let err = k.get("h.example").unwrap_err().to_string();
        assert!(
            err.contains("docker-credential-kaniko-rs-test-missing"),
            "{err}"
        );
        assert!(k.get("i.example").unwrap().is_some());
        let err = k.get("j.example").unwrap_err().to_string();
        assert!(
            err.contains("docker-credential-kaniko-rs-test-missing-store"),
            "{err}"
        );
    }
}
