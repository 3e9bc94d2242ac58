//! `ADD <git URL> <dest>`: the repository is cloned with the git context code (one commit
//! deep where the ref allows, the same credentials from `GIT_TOKEN`, `GIT_USERNAME` and
//! `GIT_PASSWORD`) into the work directory, and its checkout, or the `#ref:subdir` folder of
//! it, is the tree ADD copies. `.git` is dropped unless `--keep-git-dir`. Only HTTP(S)
//! remotes are served (`git://` and SSH remotes fail clearly), as the context code does.

use std::path::{Path, PathBuf};

/// Clones `src` (`https://host/repo.git[#ref[:subdir]]`) under `work` with `remote`'s
/// settings; returns the tree and the commit checked out.
pub fn clone(
    src: &str,
    keep_git_dir: bool,
    work: &Path,
    remote: &contextsrc::Options,
) -> Result<(PathBuf, String), String> {
    let (scheme, rest) = src
        .split_once("://")
        .filter(|(s, _)| *s == "https" || *s == "http")
        .ok_or_else(|| {
            format!(
                "ADD {}: only http(s) git remotes are supported (no git:// or SSH)",
                redact::url(src)
            )
        })?;
    let (repo, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (reference, subdir) = fragment.split_once(':').unwrap_or((fragment, ""));
    let url = contextsrc::GitUrl {
        repo: repo.to_string(),
        reference: Some(reference.to_string()).filter(|r| !r.is_empty()),
        commit: None,
    };
    let method = if scheme == "http" { "http" } else { "https" };
    // The environment's git credentials go only where they belong: the git context's own
    // origin or one KANIKO_GIT_CREDENTIAL_HOSTS names (plain http only when named so).
    let mut env = remote.env.with("GIT_PULL_METHOD", method);
    let authority = repo.split('/').next().unwrap_or(repo);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let origin = format!("{scheme}://{host}/");
    if !contextsrc::git::credentials_allowed(&origin, &remote.credential_origins) {
        env = env.without(&["GIT_TOKEN", "GIT_USERNAME", "GIT_PASSWORD"]);
    }
    let opts = contextsrc::Options {
        env,
        git: contextsrc::GitOptions::default(),
        ..remote.clone()
    };
    let dest = tempfile::Builder::new()
        .prefix("git-")
        .tempdir_in(work)
        .map_err(|e| format!("ADD {}: {e}", url.display()))?
        .keep();
    contextsrc::fetch(&contextsrc::Source::Git(url), &opts, &dest).map_err(|e| e.to_string())?;
    let commit = contextsrc::git::head_commit(&dest)
        .ok_or_else(|| format!("ADD {}: no commit checked out", redact::url(src)))?;
    if !keep_git_dir {
        let _ = std::fs::remove_dir_all(dest.join(".git"));
    }
    let tree = dest.join(crate::context::glob::clean(subdir));
    if !tree.is_dir() {
        return Err(format!(
            "ADD {}: no folder {subdir:?} in the repository",
            redact::url(src)
        ));
    }
    Ok((tree, commit))
}
