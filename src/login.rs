//! `executor login REGISTRY -u USER (-p PASSWORD | --password-stdin)`: stores the
//! credentials in `$DOCKER_CONFIG/config.json` (else `<kaniko dir>/.docker/config.json`)
//! as `docker login` does with no credential store: `auths[<registry>].auth` is
//! base64 `user:password`, every other entry and key of the file is kept, and the file is
//! replaced whole (a temporary file renamed over it, mode 0600). The registry key is the
//! host as docker writes it (scheme and path dropped; Docker Hub's names become
//! `https://index.docker.io/v1/`). Like the maintained kaniko fork (and unlike docker), the
//! registry is not contacted. The password is never printed.

use crate::cli::LoginOptions;
use anyhow::{bail, Context};
use base64::Engine;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::ExitCode;

/// The most read from stdin for `--password-stdin`.
const MAX_PASSWORD: u64 = 64 * 1024;

pub fn main(opts: LoginOptions) -> ExitCode {
    let dir = crate::cli::config_dir(opts.docker_config.as_deref(), &opts.kaniko_dir);
    match run(&opts, &dir, &mut std::io::stdin().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// The config key docker uses for `registry`.
pub fn server_key(registry: &str) -> String {
    let host = registry
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = host.split('/').next().unwrap_or(host).to_ascii_lowercase();
    match host.as_str() {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => {
            "https://index.docker.io/v1/".into()
        }
        _ => host,
    }
}

fn run(opts: &LoginOptions, dir: &Path, stdin: &mut dyn Read) -> anyhow::Result<()> {
    let password = match &opts.password {
        Some(p) => {
            // Any process of the machine reads argv in /proc/<pid>/cmdline.
            eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
            p.clone()
        }
        None => {
            let mut text = String::new();
            stdin
                .take(MAX_PASSWORD)
                .read_to_string(&mut text)
                .context("reading the password from stdin")?;
            let p = text.strip_suffix('\n').unwrap_or(&text);
            p.strip_suffix('\r').unwrap_or(p).to_string()
        }
    };
    if password.is_empty() {
        bail!("username and password required: the password is empty");
    }
    store(dir, &server_key(&opts.registry), &opts.username, &password)
}

/// Writes the `auths` entry for `key` into `dir/config.json`, keeping the rest.
pub fn store(dir: &Path, key: &str, username: &str, password: &str) -> anyhow::Result<()> {
    let path = dir.join("config.json");
    let mut config = match std::fs::read(&path) {
        Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => serde_json::json!({}),
        Ok(bytes) => serde_json::from_slice::<serde_json::Value>(&bytes)
            .with_context(|| format!("{} is not valid JSON", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::json!({}),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let Some(obj) = config.as_object_mut() else {
        bail!("{} is not a JSON object", path.display());
    };
    let auths = obj.entry("auths").or_insert_with(|| serde_json::json!({}));
    let Some(auths) = auths.as_object_mut() else {
        bail!("{}: \"auths\" is not an object", path.display());
    };
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    auths.insert(key.to_string(), serde_json::json!({ "auth": auth }));
    let text = serde_json::to_string_pretty(&config)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = dir.join(format!(".config.json.{}", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(text.as_bytes())?;
            f.write_all(b"\n")?;
            f.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, &path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("writing {}", path.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_like_docker() {
        assert_eq!(server_key("docker.io"), "https://index.docker.io/v1/");
        assert_eq!(
            server_key("https://index.docker.io/v1/"),
            "https://index.docker.io/v1/"
        );
        assert_eq!(
            server_key("https://Reg.example:5000/v2/"),
            "reg.example:5000"
        );
        assert_eq!(server_key("reg.example"), "reg.example");
    }

    #[test]
    fn merges_and_reads_stdin() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"auths":{"other.example":{"auth":"b3RoZXI6cHc="}},"credHelpers":{"x.example":"gcr"},"psFormat":"t"}"#,
        )
        .unwrap();
        let opts = LoginOptions {
            registry: "reg.example:5000".into(),
            username: "u".into(),
            password: None,
            kaniko_dir: dir.path().into(),
            docker_config: None,
        };
        run(&opts, dir.path(), &mut &b"s3cret\r\n"[..]).unwrap();
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("config.json")).unwrap())
                .unwrap();
        assert_eq!(v["auths"]["reg.example:5000"]["auth"], "dTpzM2NyZXQ=");
        assert_eq!(v["auths"]["other.example"]["auth"], "b3RoZXI6cHc=");
        assert_eq!(v["credHelpers"]["x.example"], "gcr");
        assert_eq!(v["psFormat"], "t");
        let err = run(&opts, dir.path(), &mut &b""[..])
            .unwrap_err()
            .to_string();
        assert!(err.contains("password is empty"), "{err}");
        std::fs::write(dir.path().join("config.json"), "[]").unwrap();
        let err = store(dir.path(), "k", "u", "p").unwrap_err().to_string();
        assert!(err.contains("not a JSON object"), "{err}");
    }
}
