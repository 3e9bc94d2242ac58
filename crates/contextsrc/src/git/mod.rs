//! Git contexts as kaniko reads them: `git://host/org/repo.git[#ref[#commit]]` is fetched
//! over HTTPS (plain HTTP with `GIT_PULL_METHOD=http`). The first fragment is a branch,
//! tag, other ref (`refs/pull/N/head`) or a 40-hex commit; the optional second one a commit
//! to check out. `--git branch=` names a branch or tag instead (refs/heads/ first, then
//! refs/tags/). Credentials: `GIT_TOKEN` (as the user name), else `GIT_USERNAME` and
//! `GIT_PASSWORD`, else `user:token@` in the URL; sent only when the server asks.
//!
//! Unlike kaniko (a full clone), only what the checkout needs is fetched: one commit deep,
//! for a ref or for a commit the server lets us ask for by id.

mod auth;
mod clone;
mod errors;
mod link;
mod submodules;
mod watchdog;

use crate::source::GitUrl;
use crate::{Error, Options};
use std::path::Path;

pub use auth::credentials_allowed;
pub(crate) use auth::Auth;

/// `--git` options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GitOptions {
    /// A branch or tag to check out, over the URL's fragment.
    pub branch: Option<String>,
    /// kaniko's `single-branch`: fetch one branch only. Shallow fetches always do.
    pub single_branch: bool,
    /// Check out submodules too, recursively (up to ten levels, as go-git).
    pub recurse_submodules: bool,
    /// Accept any TLS certificate from the git server.
    pub insecure_skip_tls: bool,
}

/// What to fetch and check out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Want {
    /// The remote's HEAD.
    Head,
    /// A ref, full (`refs/...`) or partial (a branch or tag name).
    Ref(String),
    /// A branch or tag from `--git branch=`: refs/heads/ first, then refs/tags/.
    Branch(String),
}

/// A fetch plan: the ref to follow and the commit to end on, if one is named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    pub want: Want,
    pub commit: Option<String>,
}

/// go-git's `IsHash`: forty hex digits.
fn is_hash(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Plan {
    pub(crate) fn new(url: &GitUrl, opts: &crate::GitOptions) -> Plan {
        let (mut want, mut commit) = match url.reference.as_deref() {
            Some(r) if is_hash(r) => (Want::Head, Some(r.to_ascii_lowercase())),
            Some(r) => (Want::Ref(r.to_string()), None),
            None => (Want::Head, None),
        };
        if let Some(c) = &url.commit {
            commit = Some(c.clone());
        }
        if let Some(b) = &opts.branch {
            want = Want::Branch(b.clone());
        }
        Plan { want, commit }
    }
}

/// The URL to fetch from: `https://` (or `http://` when `GIT_PULL_METHOD=http`) and the
/// repository without its user and password.
fn remote_url(url: &GitUrl, env: &crate::Env) -> (String, Option<(String, String)>) {
    let method = match env.get("GIT_PULL_METHOD") {
        Some("http") => "http",
        _ => "https",
    };
    let (userinfo, repo) = auth::split_userinfo(&url.repo);
    (format!("{method}://{repo}"), userinfo)
}

pub(crate) fn fetch(url: &GitUrl, opts: &Options, dest: &Path) -> Result<(), Error> {
    let location = url.display();
    let (remote, userinfo) = remote_url(url, &opts.env);
    let auth = Auth::from_env(&opts.env, userinfo);
    let plan = Plan::new(url, &opts.git);
    tracing::info!("Cloning build context from {location}");
    tracing::debug!("Getting source from reference {:?}", plan.want);
    let limits = watchdog::Limits::from_env(&opts.env)?;
    let dog = watchdog::Watchdog::start(dest, limits);
    let link = link::Link {
        url: remote,
        auth,
        insecure: opts.git.insecure_skip_tls,
        location,
        interrupt: dog.flag(),
        timeout: limits.timeout,
        resolver: opts.resolver.clone(),
    };
    let result = clone::checkout(&link, &plan, dest).and_then(|repo| {
        if opts.git.recurse_submodules {
            submodules::update(&repo, &link, submodules::MAX_DEPTH)?;
        }
        Ok(())
    });
    match (dog.finish(), result) {
        (Some(bound), _) => Err(Error::Remote {
            location: link.location,
            cause: bound,
        }),
        (_, result) => result,
    }
}

/// The commit checked out in the git work tree at `dir` (a fetched git context), as hex;
/// `None` when `dir` is not one.
pub fn head_commit(dir: &Path) -> Option<String> {
    let repo = gix::open(dir).ok()?;
    let id = repo.head_id().ok()?;
    Some(id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(s: &str, branch: Option<&str>) -> Plan {
        let opts = crate::GitOptions {
            branch: branch.map(str::to_string),
            ..Default::default()
        };
        Plan::new(&GitUrl::parse(s), &opts)
    }

    #[test]
    fn fragments_become_a_ref_and_a_commit() {
        let h = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            plan("h/r.git", None),
            Plan {
                want: Want::Head,
                commit: None
            }
        );
        assert_eq!(
            plan(&format!("h/r.git#{h}"), None),
            Plan {
                want: Want::Head,
                commit: Some(h.into())
            }
        );
        assert_eq!(
            plan(&format!("h/r.git#refs/heads/x#{h}"), None),
            Plan {
                want: Want::Ref("refs/heads/x".into()),
                commit: Some(h.into())
            }
        );
        assert_eq!(
            plan("h/r.git#refs/pull/3/head", Some("v1")),
            Plan {
                want: Want::Branch("v1".into()),
                commit: None
            }
        );
    }

    #[test]
    fn pull_method_and_userinfo() {
        let env = crate::Env::from_pairs([("GIT_PULL_METHOD".into(), "http".into())]);
        let (u, info) = remote_url(&GitUrl::parse("me:tok@h:8080/o/r.git"), &env);
        assert_eq!(u, "http://h:8080/o/r.git");
        assert_eq!(info, Some(("me".into(), "tok".into())));
        let (u, _) = remote_url(&GitUrl::parse("h/r.git"), &crate::Env::default());
        assert_eq!(u, "https://h/r.git");
    }
}
