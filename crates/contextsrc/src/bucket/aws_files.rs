//! AWS's shared files for an S3 context: the profile's keys and region, read now from the
//! files the environment names and parsed by the AWS SDKs' rules (the `awsfiles` crate).

use crate::{Env, Error};
use std::path::Path;

/// The largest shared file read.
const MAX_FILE: u64 = 1 << 20;

/// Reads a shared file; a missing file is no error, an unreadable or oversized one is.
fn read(p: &Path) -> Result<Option<awsfiles::Source>, Error> {
    let bad = |why: String| Error::Config(format!("AWS shared file {}: {why}", p.display()));
    match std::fs::metadata(p) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(bad(e.to_string())),
        Ok(m) if m.len() > MAX_FILE => return Err(bad("larger than 1 MiB".into())),
        Ok(_) => {}
    }
    let text = std::fs::read_to_string(p).map_err(|e| bad(e.to_string()))?;
    Ok(Some(awsfiles::Source {
        name: p.display().to_string(),
        text,
    }))
}

/// The profile the environment names, from both shared files.
pub(super) fn profile(env: &Env) -> Result<awsfiles::Profile, Error> {
    let files = awsfiles::Files::from_env(|k| env.get(k).map(str::to_string));
    let source = |p: &Option<std::path::PathBuf>| p.as_deref().map(read).transpose();
    let (config, credentials) = (
        source(&files.config)?.flatten(),
        source(&files.credentials)?.flatten(),
    );
    Ok(awsfiles::Profile::read(
        &files.profile,
        config.as_ref(),
        credentials.as_ref(),
    )?)
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
        let credentials = |p: &str| profile(&env(p)).unwrap().keys().unwrap();
        let region = |p: &str| profile(&env(p)).unwrap().region().map(str::to_string);
        let c = credentials("default").unwrap();
        assert_eq!(c.access_key_id, "A");
        assert_eq!(c.secret_access_key, "S");
        assert_eq!(region("ci").as_deref(), Some("us-west-2"));
        assert_eq!(credentials("ci").unwrap().access_key_id, "B");
        assert!(credentials("none").is_none());
    }
}
