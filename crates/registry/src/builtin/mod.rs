//! Built-in credential helpers (`--credential-helpers`), with no program in the image:
//! `env` (a registry's user and password in `KANIKO_<HOST>_USER`/`_PASSWORD`), `google`
//! (Artifact Registry and GCR: application default credentials or the metadata server),
//! `ecr` (Amazon ECR: AWS credentials, then ECR's GetAuthorizationToken), `acr` (Azure
//! Container Registry: an Entra ID token exchanged for an ACR refresh token) and `gitlab`
//! (`CI_REGISTRY` with `CI_REGISTRY_USER`/`CI_REGISTRY_PASSWORD` or `CI_JOB_TOKEN`).
//!
//! Each helper answers only for its registries' host names and only when its settings are
//! there; a helper whose settings are there but whose token service refuses fails the run
//! with that service's answer. The environment and the credential files it names are read
//! once, when the keychain is made (before any base image is unpacked over the root).

mod acr;
mod aws;
mod ecr;
mod env;
mod gitlab;
mod google;
mod google_sources;
mod web;

use crate::credential::Credential;
use crate::transport::Endpoint;
use crate::Error;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
pub(crate) use web::Web;

/// One built-in helper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Env,
    Google,
    Ecr,
    Acr,
    Gitlab,
}

/// Every built-in helper, in the order they are asked (the maintained fork's order).
pub const ALL: [Kind; 5] = [Kind::Env, Kind::Google, Kind::Ecr, Kind::Acr, Kind::Gitlab];

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Env => "env",
            Kind::Google => "google",
            Kind::Ecr => "ecr",
            Kind::Acr => "acr",
            Kind::Gitlab => "gitlab",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        ALL.into_iter().find(|k| k.name() == name)
    }

    /// The built-in that stands in for a helper program kaniko's image ships
    /// (`docker-credential-ecr-login`, `-gcr`, `-acr-env`) when a Docker config names it
    /// and the program is not installed.
    pub fn standin_for(program: &str) -> Option<Kind> {
        match program {
            "ecr-login" => Some(Kind::Ecr),
            "gcr" | "gcloud" => Some(Kind::Google),
            "acr-env" => Some(Kind::Acr),
            _ => None,
        }
    }

    /// The credential files this helper may read (named by the environment).
    fn files(self, env: &Snapshot) -> Vec<PathBuf> {
        match self {
            Kind::Google => google_sources::files(env),
            Kind::Ecr => aws::files(env),
            Kind::Acr => acr::files(env),
            Kind::Env | Kind::Gitlab => Vec::new(),
        }
    }
}

/// The largest credential file read.
const MAX_FILE: u64 = 1 << 20;

/// The environment and credential files as they were when the keychain was made.
#[derive(Default)]
pub struct Snapshot {
    vars: HashMap<String, String>,
    files: HashMap<PathBuf, Result<Vec<u8>, String>>,
}

impl Snapshot {
    /// A non-empty variable.
    pub(crate) fn var(&self, k: &str) -> Option<&str> {
        self.vars
            .get(k)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A file read at start, or why it could not be read.
    pub(crate) fn file(&self, path: &Path) -> Result<&[u8], String> {
        match self.files.get(path) {
            Some(Ok(b)) => Ok(b),
            Some(Err(e)) => Err(format!("{}: {e}", path.display())),
            None => Err(format!("{}: not read at start", path.display())),
        }
    }

    fn read(&mut self, path: PathBuf) {
        if self.files.contains_key(&path) {
            return;
        }
        let read = std::fs::File::open(&path).and_then(|f| {
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut std::io::Read::take(f, MAX_FILE + 1), &mut out)?;
            Ok(out)
        });
        let value = match read {
            Ok(b) if b.len() as u64 > MAX_FILE => Err(format!("larger than {MAX_FILE} bytes")),
            Ok(b) => Ok(b),
            Err(e) => Err(e.to_string()),
        };
        self.files.insert(path, value);
    }
}

/// The built-in helpers a run uses, with what they read at start.
#[derive(Default)]
pub struct Builtins {
    enabled: Vec<Kind>,
    env: Snapshot,
}

impl std::fmt::Debug for Builtins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.enabled.iter().map(|k| k.name()).collect();
        write!(f, "Builtins({})", names.join(", "))
    }
}

impl Builtins {
    /// The helpers `names` enables (`None`: all; unknown names are warned about and
    /// skipped, as kaniko does), reading `vars` and the files they name now.
    pub fn new(names: Option<&[String]>, vars: HashMap<String, String>) -> Builtins {
        let enabled = match names {
            None => ALL.to_vec(),
            Some(names) => {
                if names.is_empty() {
                    tracing::info!("all credential helpers disabled");
                }
                let mut out = Vec::new();
                for n in names {
                    match Kind::from_name(n) {
                        Some(k) if !out.contains(&k) => out.push(k),
                        Some(_) => {}
                        None => tracing::warn!("Unknown cred-source {n:?}, skipping."),
                    }
                }
                out
            }
        };
        let mut b = Builtins {
            enabled,
            env: Snapshot {
                vars,
                files: HashMap::new(),
            },
        };
        // Stand-ins may run whatever the flag says, so every helper's files are read;
        // twice, for the files a credentials file names (Google's external accounts).
        for _ in 0..2 {
            for k in ALL {
                for f in k.files(&b.env) {
                    b.env.read(f);
                }
            }
        }
        b
    }

    /// The enabled helpers' names, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.enabled.iter().map(|k| k.name()).collect()
    }

    /// The first enabled helper's credential for the registry in `ctx`.
    pub(crate) async fn get(&self, ctx: &Ctx<'_>) -> Result<Option<Credential>, Error> {
        for &k in &self.enabled {
            if let Some(c) = self.ask(k, ctx).await? {
                tracing::debug!(
                    "credentials for {} from the {} helper",
                    ctx.registry,
                    k.name()
                );
                return Ok(Some(c));
            }
        }
        Ok(None)
    }

    /// Helper `kind`'s credential for the registry in `ctx`, enabled or not.
    pub(crate) async fn ask(&self, kind: Kind, ctx: &Ctx<'_>) -> Result<Option<Credential>, Error> {
        let host = hostname(ctx.registry);
        match kind {
            Kind::Env => Ok(env::get(&self.env, ctx.registry)),
            Kind::Gitlab => Ok(gitlab::get(&self.env, &host)),
            Kind::Ecr => ecr::get(&self.env, ctx, &host).await,
            Kind::Google => google::get(&self.env, ctx, &host).await,
            Kind::Acr => acr::get(&self.env, ctx, &host).await,
        }
    }
}

/// What a helper may use for one registry.
pub(crate) struct Ctx<'a> {
    pub web: Web<'a>,
    /// `host[:port]` as the image reference names it.
    pub registry: &'a str,
    /// How the registry itself is reached (ACR's token exchange is on it).
    pub endpoint: &'a Endpoint,
}

/// The host name of `host[:port]` (or `[v6]:port`), lowercased.
pub(crate) fn hostname(registry: &str) -> String {
    let host = match registry.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => registry.rsplit_once(':').map_or(registry, |(h, _)| h),
    };
    host.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_hosts() {
        let b = Builtins::new(None, HashMap::new());
        assert_eq!(b.names(), ["env", "google", "ecr", "acr", "gitlab"]);
        let some = ["ecr".to_string(), "nope".into(), "ecr".into(), "env".into()];
        assert_eq!(
            Builtins::new(Some(&some), HashMap::new()).names(),
            ["ecr", "env"]
        );
        assert!(Builtins::new(Some(&[]), HashMap::new()).names().is_empty());
        assert_eq!(hostname("A.Example:5000"), "a.example");
        assert_eq!(hostname("[::1]:5000"), "::1");
        assert_eq!(Kind::standin_for("ecr-login"), Some(Kind::Ecr));
        assert_eq!(Kind::standin_for("osxkeychain"), None);
    }

    #[test]
    fn files_are_read_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "jwt").unwrap();
        let vars = HashMap::from([(
            "AZURE_FEDERATED_TOKEN_FILE".to_string(),
            token.display().to_string(),
        )]);
        let b = Builtins::new(Some(&[]), vars);
        std::fs::write(&token, "changed later").unwrap();
        assert_eq!(b.env.file(&token).unwrap(), b"jwt");
        assert!(b.env.file(Path::new("/nowhere")).is_err());
    }
}
