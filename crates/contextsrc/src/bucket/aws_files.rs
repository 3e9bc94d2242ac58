//! AWS's shared files as its SDKs read them: credentials from `AWS_SHARED_CREDENTIALS_FILE`
//! (default `~/.aws/credentials`) and the region from `AWS_CONFIG_FILE` (default
//! `~/.aws/config`), for the profile `AWS_PROFILE` (default `default`).

use crate::{Env, Error, Secret};
use std::path::PathBuf;

/// The largest shared file read.
const MAX_FILE: u64 = 1 << 20;

/// Keys from one profile of the shared credentials file.
#[derive(Debug, Default)]
pub(super) struct Credentials {
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret>,
    pub session_token: Option<Secret>,
}

fn profile(env: &Env) -> &str {
    env.get("AWS_PROFILE").unwrap_or("default")
}

fn path(env: &Env, var: &str, default: &str) -> Option<PathBuf> {
    match env.get(var) {
        Some(p) => Some(PathBuf::from(p)),
        None => env
            .get("HOME")
            .map(|h| PathBuf::from(h).join(".aws").join(default)),
    }
}

/// Reads a shared file; a missing file is no error, an unreadable or oversized one is.
fn read(env: &Env, var: &str, default: &str) -> Result<Option<String>, Error> {
    let Some(p) = path(env, var, default) else {
        return Ok(None);
    };
    let bad = |why: String| Error::Config(format!("AWS shared file {}: {why}", p.display()));
    match std::fs::metadata(&p) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(bad(e.to_string())),
        Ok(m) if m.len() > MAX_FILE => return Err(bad("larger than 1 MiB".into())),
        Ok(_) => {}
    }
    std::fs::read_to_string(&p)
        .map(Some)
        .map_err(|e| bad(e.to_string()))
}

/// `key = value` pairs of section `name` in an INI text.
fn section<'a>(text: &'a str, name: &str) -> Vec<(&'a str, &'a str)> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(h) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = h.trim() == name;
        } else if let (true, Some((k, v))) = (inside, line.split_once('=')) {
            out.push((k.trim(), v.trim()));
        }
    }
    out
}

/// The profile's keys in the shared credentials file, if it has any.
pub(super) fn credentials(env: &Env) -> Result<Option<Credentials>, Error> {
    let Some(text) = read(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials")? else {
        return Ok(None);
    };
    let mut c = Credentials::default();
    for (k, v) in section(&text, profile(env)) {
        match k {
            "aws_access_key_id" => c.access_key_id = Some(v.to_string()),
            "aws_secret_access_key" => c.secret_access_key = Some(Secret::new(v)),
            "aws_session_token" => c.session_token = Some(Secret::new(v)),
            _ => {}
        }
    }
    Ok(c.access_key_id.is_some().then_some(c))
}

/// The profile's region in the shared config file (`[default]` or `[profile NAME]`).
pub(super) fn region(env: &Env) -> Result<Option<String>, Error> {
    let Some(text) = read(env, "AWS_CONFIG_FILE", "config")? else {
        return Ok(None);
    };
    let name = match profile(env) {
        "default" => "default".to_string(),
        p => format!("profile {p}"),
    };
    Ok(section(&text, &name)
        .into_iter()
        .find(|(k, _)| *k == "region")
        .map(|(_, v)| v.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_profile_from_the_shared_files() {
        let dir = tempfile::tempdir().unwrap();
        let creds = dir.path().join("c");
        let conf = dir.path().join("f");
        std::fs::write(&creds, "[default]\naws_access_key_id = A\naws_secret_access_key=S\n[ci]\naws_access_key_id=B\naws_secret_access_key=T\n").unwrap();
        std::fs::write(
            &conf,
            "[default]\nregion = eu-west-1\n[profile ci]\nregion=us-west-2\n",
        )
        .unwrap();
        let env = |profile: &str| {
            Env::from_pairs([
                (
                    "AWS_SHARED_CREDENTIALS_FILE".into(),
                    creds.display().to_string(),
                ),
                ("AWS_CONFIG_FILE".into(), conf.display().to_string()),
                ("AWS_PROFILE".into(), profile.into()),
            ])
        };
        let c = credentials(&env("default")).unwrap().unwrap();
        assert_eq!(c.access_key_id.as_deref(), Some("A"));
        assert_eq!(c.secret_access_key.unwrap().expose(), "S");
        assert_eq!(region(&env("ci")).unwrap().as_deref(), Some("us-west-2"));
        assert_eq!(
            credentials(&env("ci"))
                .unwrap()
                .unwrap()
                .access_key_id
                .as_deref(),
            Some("B")
        );
        assert!(credentials(&env("none")).unwrap().is_none());
    }
}
