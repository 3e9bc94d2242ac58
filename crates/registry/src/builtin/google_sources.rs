//! Where the `google` helper's credentials come from, as Google's client libraries find
//! application default credentials: the JSON file `GOOGLE_APPLICATION_CREDENTIALS` names,
//! else gcloud's `application_default_credentials.json` (in `CLOUDSDK_CONFIG`, else
//! `$HOME/.config/gcloud`), else the metadata server (`GCE_METADATA_HOST`, else
//! 169.254.169.254). A file is a `service_account` key, an `authorized_user` (gcloud's
//! login) or an `external_account` (workload identity federation with a subject token
//! file). Endpoints are the file's own `token_uri`/`token_url`.

use super::web::fail;
use super::Snapshot;
use crate::Error;
use std::path::PathBuf;

const HELPER: &str = "google";

/// A credentials file's contents (the fields each kind uses).
#[derive(serde::Deserialize)]
pub(crate) struct File {
    #[serde(rename = "type")]
    pub kind: String,
    pub client_email: Option<String>,
    pub private_key: Option<String>,
    pub private_key_id: Option<String>,
    pub token_uri: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub refresh_token: Option<String>,
    pub audience: Option<String>,
    pub subject_token_type: Option<String>,
    pub token_url: Option<String>,
    pub service_account_impersonation_url: Option<String>,
    pub credential_source: Option<Source>,
}

/// Where an external account's subject token is.
#[derive(serde::Deserialize)]
pub(crate) struct Source {
    pub file: Option<String>,
    pub format: Option<Format>,
}

#[derive(serde::Deserialize)]
pub(crate) struct Format {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub subject_token_field_name: Option<String>,
}

/// The credentials file in use, if any: the variable's, else gcloud's when it exists.
pub(crate) fn path(env: &Snapshot) -> Option<PathBuf> {
    if let Some(f) = env.var("GOOGLE_APPLICATION_CREDENTIALS") {
        return Some(PathBuf::from(f));
    }
    let dir = match env.var("CLOUDSDK_CONFIG") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env.var("HOME")?).join(".config/gcloud"),
    };
    let well_known = dir.join("application_default_credentials.json");
    env.file(&well_known).is_ok().then_some(well_known)
}

/// The files read at start: the candidates above, and an external account's token file.
pub(crate) fn files(env: &Snapshot) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(f) = env.var("GOOGLE_APPLICATION_CREDENTIALS") {
        out.push(PathBuf::from(f));
    } else if let Some(d) = env.var("CLOUDSDK_CONFIG").map(PathBuf::from).or_else(|| {
        env.var("HOME")
            .map(|h| PathBuf::from(h).join(".config/gcloud"))
    }) {
        out.push(d.join("application_default_credentials.json"));
    }
    if let Some(Ok(f)) = load(env) {
        if let Some(t) = f.credential_source.and_then(|s| s.file) {
            out.push(PathBuf::from(t));
        }
    }
    out
}

/// The credentials file parsed: `None` without one, an error for one that cannot be used.
pub(crate) fn load(env: &Snapshot) -> Option<Result<File, Error>> {
    let p = path(env)?;
    Some(env.file(&p).map_err(|e| fail(HELPER, e)).and_then(|bytes| {
        serde_json::from_slice(bytes).map_err(|e| {
            fail(
                HELPER,
                format!(
                    "{}: not a credentials file (line {}, column {})",
                    p.display(),
                    e.line(),
                    e.column()
                ),
            )
        })
    }))
}

/// An external account's subject token, from its file (text, or a JSON field).
pub(crate) fn subject_token(env: &Snapshot, f: &File) -> Result<String, Error> {
    let src = f
        .credential_source
        .as_ref()
        .ok_or_else(|| fail(HELPER, "external_account without credential_source"))?;
    let file = src.file.as_deref().ok_or_else(|| {
        fail(
            HELPER,
            "external_account credential_source has no file (only file sources are supported)",
        )
    })?;
    let bytes = env
        .file(std::path::Path::new(file))
        .map_err(|e| fail(HELPER, e))?;
    let json_field = src
        .format
        .as_ref()
        .filter(|fm| fm.kind.as_deref() == Some("json"))
        .and_then(|fm| fm.subject_token_field_name.clone());
    match json_field {
        Some(field) => serde_json::from_slice::<serde_json::Value>(bytes)
            .ok()
            .and_then(|v| v.get(&field).and_then(|t| t.as_str()).map(str::to_string))
            .ok_or_else(|| fail(HELPER, format!("{file}: no {field} field"))),
        None => Ok(String::from_utf8_lossy(bytes).trim().to_string()),
    }
}
