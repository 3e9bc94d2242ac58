//! Credentials from a Docker config (`$DOCKER_CONFIG/config.json`): `auths` entries (auth,
//! username/password, identitytoken, registrytoken), `credHelpers` and `credsStore`
//! (external `docker-credential-<name>` programs).

use crate::Error;
use base64::Engine;
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Basic { username: String, password: String },
    IdentityToken(String),
    RegistryToken(String),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Basic { username, .. } => write!(f, "Basic({username}, <redacted>)"),
            Credential::IdentityToken(_) => f.write_str("IdentityToken(<redacted>)"),
            Credential::RegistryToken(_) => f.write_str("RegistryToken(<redacted>)"),
        }
    }
}

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
    /// Reads `dir/config.json`; a missing file is an empty keychain.
    pub fn from_dir(dir: &Path) -> Result<Keychain, Error> {
        let path = dir.join("config.json");
        match std::fs::read(&path) {
            Ok(bytes) => {
                let config = serde_json::from_slice(&bytes)
                    .map_err(|e| Error::Config(path.clone(), e.to_string()))?;
                Ok(Keychain { config })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Keychain::default()),
            Err(e) => Err(Error::Io(path, e)),
        }
    }

    pub fn from_json(text: &str) -> Result<Keychain, Error> {
        let config = serde_json::from_str(text)
            .map_err(|e| Error::Config("<inline>".into(), e.to_string()))?;
        Ok(Keychain { config })
    }

    /// The credential for `registry`, if any.
    pub fn get(&self, registry: &str) -> Result<Option<Credential>, Error> {
        if let Some(helper) = self.config.cred_helpers.get(registry) {
            return run_helper(helper, registry);
        }
        for key in keys_for(registry) {
            if let Some(e) = self.config.auths.get(&key) {
                return entry_credential(e, registry);
            }
        }
        // Entries written with a path or scheme we did not guess.
        for (k, e) in &self.config.auths {
            let host = k
                .trim_start_matches("https://")
                .trim_start_matches("http://");
            if host.split('/').next() == Some(registry) {
                return entry_credential(e, registry);
            }
        }
        if let Some(store) = &self.config.creds_store {
            return run_helper(store, registry);
        }
        Ok(None)
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

fn run_helper(name: &str, registry: &str) -> Result<Option<Credential>, Error> {
    use std::io::Write;
    let program = format!("docker-credential-{name}");
    let mut child = std::process::Command::new(&program)
        .arg("get")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| Error::Helper(program.clone(), e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(registry.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| Error::Helper(program.clone(), e.to_string()))?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stdout);
        if msg.contains("credentials not found") {
            return Ok(None);
        }
        return Err(Error::Helper(program, format!("exit {}", out.status)));
    }
    #[derive(serde::Deserialize)]
    struct Reply {
        #[serde(rename = "Username")]
        username: String,
        #[serde(rename = "Secret")]
        secret: String,
    }
    let r: Reply =
        serde_json::from_slice(&out.stdout).map_err(|e| Error::Helper(program, e.to_string()))?;
    if r.username == "<token>" {
        Ok(Some(Credential::IdentityToken(r.secret)))
    } else {
        Ok(Some(Credential::Basic {
            username: r.username,
            password: r.secret,
        }))
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
}
