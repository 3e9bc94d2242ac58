//! `recurse-submodules=true`: every submodule of a checkout is cloned at the commit its
//! parent records, recursively up to go-git's default depth. Relative URLs (`../x.git`)
//! resolve against the parent's URL; credentials go only to the parent's origin. Only
//! http(s) URLs are fetched: a `file://` URL, a local path or an `ssh://` remote (which
//! would read the machine's files or start a program) fails the fetch.

use super::clone;
use super::link::Link;
use super::{Plan, Want};
use crate::Error;

/// go-git's `DefaultSubmoduleRecursionDepth`.
pub(crate) const MAX_DEPTH: u32 = 10;

pub(crate) fn update(repo: &gix::Repository, parent: &Link, depth: u32) -> Result<(), Error> {
    if depth == 0 {
        return Ok(());
    }
    let internal = |e: &dyn std::fmt::Display| {
        Error::Internal(format!("{}: submodules: {e}", parent.location))
    };
    let Some(modules) = repo.submodules().map_err(|e| internal(&e))? else {
        tracing::debug!("{}: no submodules", parent.location);
        return Ok(());
    };
    let workdir = repo.workdir().ok_or_else(|| internal(&"no work tree"))?;
    for sm in modules {
        let path = sm.path().map_err(|e| internal(&e))?;
        // The commit the checked-out tree records for it.
        let Some(commit) = sm.head_id().map_err(|e| internal(&e))? else {
            tracing::debug!("submodule {path} has no commit in the tree");
            continue;
        };
        let url = sm.url().map_err(|e| internal(&e))?;
        let url = resolve(&parent.url, &url.to_bstring().to_string());
        if !over_http(&url) {
            return Err(internal(&format!(
                "submodule {path}: {} is not an http(s) URL (file://, local paths and SSH are refused)",
                redact::url(&url)
            )));
        }
        let path = gix::path::from_bstr(&path)
            .map_err(|e| internal(&e))?
            .into_owned();
        if !inside(workdir, &path) {
            return Err(internal(&format!(
                "submodule path {} leaves the work tree",
                path.display()
            )));
        }
        let link = Link {
            auth: parent
                .auth
                .clone()
                .filter(|_| same_origin(&parent.url, &url)),
            insecure: parent.insecure,
            location: format!("{} (submodule {})", parent.location, path.display()),
            url,
            interrupt: parent.interrupt.clone(),
            timeout: parent.timeout,
            resolver: parent.resolver.clone(),
        };
        tracing::info!("Cloning submodule {} at {commit}", path.display());
        let plan = Plan {
            want: Want::Head,
            commit: Some(commit.to_string()),
        };
        let sub = clone::checkout(&link, &plan, &workdir.join(&path))?;
        update(&sub, &link, depth - 1)?;
    }
    Ok(())
}

/// Whether `rel` stays inside `root`: plain names only, and no symlink on the way.
fn inside(root: &std::path::Path, rel: &std::path::Path) -> bool {
    let mut cur = root.to_path_buf();
    for c in rel.components() {
        let std::path::Component::Normal(name) = c else {
            return false;
        };
        cur.push(name);
        if std::fs::symlink_metadata(&cur).is_ok_and(|m| m.file_type().is_symlink()) {
            return false;
        }
    }
    rel.components().next().is_some()
}

/// A submodule URL relative to its parent's (`./x`, `../x`) made absolute.
fn resolve(parent: &str, url: &str) -> String {
    if !(url.starts_with("./") || url.starts_with("../")) {
        return url.to_string();
    }
    let mut base: Vec<&str> = parent.trim_end_matches('/').split('/').collect();
    for part in url.split('/') {
        match part {
            "." => {}
            ".." => {
                // Never climb into the scheme and host.
                if base.len() > 3 {
                    base.pop();
                }
            }
            p => base.push(p),
        }
    }
    base.join("/")
}

/// Same scheme, host and port.
fn same_origin(a: &str, b: &str) -> bool {
    let a = super::auth::origin(a);
    a.is_some() && a == super::auth::origin(b)
}

/// An absolute `http://` or `https://` URL with a host.
fn over_http(url: &str) -> bool {
    url::Url::parse(url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_urls_resolve_against_the_parent() {
        assert_eq!(
            resolve("https://h/o/app.git", "../lib.git"),
            "https://h/o/lib.git"
        );
        assert_eq!(
            resolve("https://h/o/app.git", "./sub"),
            "https://h/o/app.git/sub"
        );
        assert_eq!(
            resolve("https://h/a.git", "../../../x.git"),
            "https://h/x.git"
        );
        assert_eq!(
            resolve("https://h/a.git", "https://o/x.git"),
            "https://o/x.git"
        );
        assert!(same_origin("https://h:1/a", "https://h:1/b"));
        assert!(!same_origin("https://h/a", "https://evil/b"));
        assert!(!same_origin("https://h/a", "http://h:443/b"));
        assert!(over_http("https://h/x.git") && over_http("http://h:8080/x.git"));
        for bad in [
            "file:///etc/x",
            "/srv/repo.git",
            "ssh://git@h/x.git",
            "git@h:x.git",
            "ext::sh -c x",
        ] {
            assert!(!over_http(bad), "{bad}");
        }
    }
}
