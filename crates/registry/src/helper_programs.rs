//! Credential helper programs (`docker-credential-<name>`), found once when the keychain is
//! made, which the executor does before any base image is unpacked over the root: in
//! kaniko's own directory first, then on PATH as it was at start. A program found is pinned
//! to its real path, device, inode and change time; one replaced or changed afterwards (by
//! a layer or a RUN) is refused, never run, and a helper not found at start is never looked
//! for again, so a base image cannot plant one and receive the user's secrets.

use crate::credential::Credential;
use crate::Error;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a helper may take to answer.
const HELPER_TIMEOUT: Duration = Duration::from_secs(60);
/// The most of a helper's answer that is read.
const MAX_ANSWER: u64 = 1 << 20;

/// A program as it was when found.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Pinned {
    path: PathBuf,
    dev: u64,
    ino: u64,
    ctime: (i64, i64),
}

impl Pinned {
    fn of(path: &Path) -> Option<Pinned> {
        let real = std::fs::canonicalize(path).ok()?;
        let m = std::fs::metadata(&real).ok()?;
        (m.is_file() && m.mode() & 0o111 != 0).then(|| Pinned {
            path: real,
            dev: m.dev(),
            ino: m.ino(),
            ctime: (m.ctime(), m.ctime_nsec()),
        })
    }
}

/// The helper programs a Docker config names, resolved at start.
#[derive(Debug, Default)]
pub(crate) struct Helpers {
    /// By helper name (`gcr` for `docker-credential-gcr`); None when not found at start.
    found: HashMap<String, Option<Pinned>>,
    /// Where they were looked for, for the message when one is missing.
    searched: Vec<PathBuf>,
}

/// Where helpers are looked for by default: `/kaniko`, then each absolute entry of `path`
/// (the `PATH` the caller read at start).
pub fn default_helper_dirs(path: Option<&str>) -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from("/kaniko")];
    if let Some(path) = path {
        dirs.extend(std::env::split_paths(path).filter(|p| p.is_absolute()));
    }
    dirs
}

impl Helpers {
    /// Finds `docker-credential-<name>` for each name in the first of `dirs` holding it.
    pub fn resolve<'a>(names: impl IntoIterator<Item = &'a str>, dirs: &[PathBuf]) -> Helpers {
        let found = names
            .into_iter()
            .filter(|n| !n.is_empty())
            .map(|name| {
                let program = program(name);
                let pinned = if name.contains('/') {
                    None
                } else {
                    dirs.iter().find_map(|d| Pinned::of(&d.join(&program)))
                };
                (name.to_string(), pinned)
            })
            .collect();
        Helpers {
            found,
            searched: dirs.to_vec(),
        }
    }

    /// Whether helper `name` was looked for at start and not found.
    pub fn missing(&self, name: &str) -> bool {
        matches!(self.found.get(name), Some(None))
    }

    /// Asks helper `name` for the credential of `server`.
    pub fn get(&self, name: &str, server: &str) -> Result<Option<Credential>, Error> {
        let fail = |why: String| Error::Helper(program(name), why);
        let Some(Some(pinned)) = self.found.get(name) else {
            let dirs: Vec<String> = self
                .searched
                .iter()
                .map(|d| d.display().to_string())
                .collect();
            return Err(fail(format!(
                "not found at start in {} (helpers are never looked up after the base image is unpacked)",
                dirs.join(":")
            )));
        };
        if Pinned::of(&pinned.path).as_ref() != Some(pinned) {
            return Err(fail(format!(
                "{} changed since the executor started (a base image or a RUN replaced it); not running it",
                pinned.path.display()
            )));
        }
        run_program(&pinned.path, server)
    }
}

fn program(name: &str) -> String {
    format!("docker-credential-{name}")
}

/// Runs `program get` with `server` on stdin and reads its `{Username, Secret}` answer.
/// Its output never goes into an error: it may hold the secret.
pub(crate) fn run_program(program: &Path, server: &str) -> Result<Option<Credential>, Error> {
    let fail = |why: String| Error::Helper(program.display().to_string(), why);
    let mut cmd = Command::new(program);
    cmd.arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = programs::spawn(&mut cmd).map_err(|e| fail(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading stdin is judged by its exit status below.
        let _ = stdin.write_all(server.as_bytes());
    }
    let stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(s) = stdout {
            let _ = s.take(MAX_ANSWER).read_to_end(&mut out);
        }
        out
    });
    let deadline = Instant::now() + HELPER_TIMEOUT;
    let status = loop {
        match child.try_wait().map_err(|e| fail(e.to_string()))? {
            Some(s) => break s,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!("no answer within {HELPER_TIMEOUT:?}")));
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    };
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        if String::from_utf8_lossy(&out).contains("credentials not found") {
            return Ok(None);
        }
        return Err(fail(format!("{status} for {server}")));
    }
    #[derive(serde::Deserialize)]
    struct Reply {
        #[serde(rename = "Username")]
        username: String,
        #[serde(rename = "Secret")]
        secret: String,
    }
    let r: Reply = serde_json::from_slice(&out)
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
    use std::os::unix::fs::PermissionsExt;

    fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
        let p = dir.join(format!("docker-credential-{name}"));
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    #[test]
    fn answers() {
        let dir = tempfile::tempdir().unwrap();
        // The helper echoes the server it was asked about as the username.
        let basic = script(
            dir.path(),
            "basic",
            r#"[ "$1" = get ] || exit 3; read s; printf '{"ServerURL":"%s","Username":"%s","Secret":"hunter2"}' "$s" "$s""#,
        );
        assert_eq!(
            run_program(&basic, "h.example").unwrap(),
            Some(Credential::Basic {
                username: "h.example".into(),
                password: "hunter2".into()
            })
        );
        let token = script(
            dir.path(),
            "token",
            r#"printf '{"Username":"<token>","Secret":"refresh"}'"#,
        );
        assert_eq!(
            run_program(&token, "h").unwrap(),
            Some(Credential::IdentityToken("refresh".into()))
        );
        let none = script(
            dir.path(),
            "none",
            "echo credentials not found in native keychain; exit 1",
        );
        assert_eq!(run_program(&none, "h").unwrap(), None);
        let broken = script(dir.path(), "broken", "echo hunter2; exit 2");
        let err = run_program(&broken, "h").unwrap_err().to_string();
        assert!(
            err.contains("exit status: 2") && !err.contains("hunter2"),
            "{err}"
        );
    }

    #[test]
    fn resolved_once_first_directory_wins_and_replacement_is_refused() {
        let own = tempfile::tempdir().unwrap();
        let path = tempfile::tempdir().unwrap();
        let answer = r#"printf '{"Username":"u","Secret":"s"}'"#;
        script(own.path(), "a", answer);
        script(path.path(), "a", "exit 9");
        let dirs = [own.path().to_path_buf(), path.path().to_path_buf()];
        let h = Helpers::resolve(["a", "late", "../x"], &dirs);
        assert!(h.get("a", "r").unwrap().is_some());

        // Planted after the keychain was made: never found.
        script(own.path(), "late", answer);
        let err = h.get("late", "r").unwrap_err().to_string();
        assert!(
            err.contains("docker-credential-late") && err.contains("not found"),
            "{err}"
        );
        assert!(h.get("../x", "r").is_err());

        // Replaced after the keychain was made: refused, not run.
        let marker = own.path().join("ran");
        let a = own.path().join("docker-credential-a");
        std::fs::remove_file(&a).unwrap();
        script(
            own.path(),
            "a",
            &format!("touch {}; {answer}", marker.display()),
        );
        let err = h.get("a", "r").unwrap_err().to_string();
        assert!(err.contains("changed since the executor started"), "{err}");
        assert!(!marker.exists());
    }
}
