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

    /// The credential for `registry`, if any: a `credHelpers` entry, then an `auths` entry,
    /// then the `credsStore`.
    pub fn get(&self, registry: &str) -> Result<Option<Credential>, Error> {
        let keys = keys_for(registry);
        if let Some(helper) = keys.iter().find_map(|k| self.config.cred_helpers.get(k)) {
            return run_helper(helper, &server_url(registry));
        }
        for key in &keys {
            if let Some(e) = self.config.auths.get(key) {
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
        if let Some(store) = self.config.creds_store.as_ref().filter(|s| !s.is_empty()) {
            return run_helper(store, &server_url(registry));
        }
        Ok(None)
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

fn run_helper(name: &str, server: &str) -> Result<Option<Credential>, Error> {
    run_program(&format!("docker-credential-{name}"), server)
}

/// Runs `program get` with `server` on stdin and reads its `{Username, Secret}` answer.
/// Its output never goes into an error: it may hold the secret.
fn run_program(program: &str, server: &str) -> Result<Option<Credential>, Error> {
    use std::io::Write;
    let fail = |why: String| Error::Helper(program.to_string(), why);
    let mut child = std::process::Command::new(program)
        .arg("get")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| fail(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading stdin is judged by its exit status below.
        let _ = stdin.write_all(server.as_bytes());
    }
    let out = child.wait_with_output().map_err(|e| fail(e.to_string()))?;
    if !out.status.success() {
        if String::from_utf8_lossy(&out.stdout).contains("credentials not found") {
            return Ok(None);
        }
        return Err(fail(format!("{} for {server}", out.status)));
    }
    #[derive(serde::Deserialize)]
    struct Reply {
        #[serde(rename = "Username")]
        username: String,
        #[serde(rename = "Secret")]
        secret: String,
    }
    let r: Reply = serde_json::from_slice(&out.stdout)
        .map_err(|_| fail("answer is not {\"Username\", \"Secret\"} JSON".into()))?;
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

    fn helper_script(dir: &Path, body: &str) -> String {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join("docker-credential-test");
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p.to_string_lossy().into_owned()
    }

    #[test]
    fn credential_helpers() {
        let dir = tempfile::tempdir().unwrap();
        // The helper echoes the server it was asked about as the username.
        let basic = helper_script(
            dir.path(),
            r#"[ "$1" = get ] || exit 3; read s; printf '{"ServerURL":"%s","Username":"%s","Secret":"hunter2"}' "$s" "$s""#,
        );
        assert_eq!(
            run_program(&basic, "h.example").unwrap(),
            Some(Credential::Basic {
                username: "h.example".into(),
                password: "hunter2".into()
            })
        );
        let token = helper_script(
            dir.path(),
            r#"printf '{"Username":"<token>","Secret":"refresh"}'"#,
        );
        assert_eq!(
            run_program(&token, "h").unwrap(),
            Some(Credential::IdentityToken("refresh".into()))
        );
        let none = helper_script(
            dir.path(),
            "echo credentials not found in native keychain; exit 1",
        );
        assert_eq!(run_program(&none, "h").unwrap(), None);
        let broken = helper_script(dir.path(), "echo hunter2; exit 2");
        let err = run_program(&broken, "h").unwrap_err().to_string();
        assert!(
            err.contains("exit status: 2") && !err.contains("hunter2"),
            "{err}"
        );
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
