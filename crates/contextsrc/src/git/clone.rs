//! The gix side of a git context: a clone into the context directory over gix's HTTP
//! transport (reqwest + rustls), one commit deep where the plan allows, with our own
//! credentials callback and TLS setting, and no git configuration read from the machine.

use super::errors::{classify, refused_by_id};
use super::link::Link;
use super::{Auth, Plan, Want};
use crate::Error;
use gix::protocol::transport::client::blocking_io::http;
use gix::remote::fetch::Shallow;
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Fetches what `plan` names into `dest` and checks it out.
pub(crate) fn checkout(link: &Link, plan: &Plan, dest: &Path) -> Result<gix::Repository, Error> {
    let Some(commit) = &plan.commit else {
        return shallow_ref(link, &plan.want, dest);
    };
    // A commit by id, one deep; servers that refuse wants by id get a full fetch of the
    // ref, then the commit is checked out from it.
    match clone(link, dest, Target::Revision(commit), Depth::Shallow) {
        Err(e) if refused_by_id(&e) => {
            tracing::debug!("the server refused a fetch by commit id; fetching the whole ref");
            let repo = fetch_ref(link, &plan.want, dest, Depth::FullNoCheckout)?;
            checkout_commit(&repo, commit, link)?;
            Ok(repo)
        }
        other => other,
    }
}

/// What a clone asks for.
enum Target<'a> {
    Head,
    Ref(&'a str),
    Revision(&'a str),
}

/// How much a clone fetches, and whether it checks out.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Depth {
    /// One commit deep, checked out.
    Shallow,
    /// The whole history of the ref, not checked out (a commit is, later).
    FullNoCheckout,
}

fn shallow_ref(link: &Link, want: &Want, dest: &Path) -> Result<gix::Repository, Error> {
    fetch_ref(link, want, dest, Depth::Shallow)
}

/// Clones the ref `want` names (the remote's HEAD, a ref, or a `--git branch=` name looked
/// up as a branch, then as a tag).
fn fetch_ref(
    link: &Link,
    want: &Want,
    dest: &Path,
    depth: Depth,
) -> Result<gix::Repository, Error> {
    match want {
        Want::Head => clone(link, dest, Target::Head, depth),
        Want::Ref(r) => clone(link, dest, Target::Ref(r), depth),
        Want::Branch(b) => {
            let head = format!("refs/heads/{b}");
            match clone(link, dest, Target::Ref(&head), depth) {
                Err(Error::NotFound { .. }) => {
                    let tag = format!("refs/tags/{b}");
                    clone(link, dest, Target::Ref(&tag), depth).map_err(|e| match e {
                        Error::NotFound { location, .. } => Error::NotFound {
                            location,
                            what: format!("invalid branch: {b}"),
                        },
                        e => e,
                    })
                }
                other => other,
            }
        }
    }
}

/// One clone attempt into an emptied `dest`.
fn clone(
    link: &Link,
    dest: &Path,
    target: Target<'_>,
    depth: Depth,
) -> Result<gix::Repository, Error> {
    empty_dir(dest)?;
    let err = |e: gix::Error| classify(&e, link, &target_name(&target));
    let mut prep = gix::clone::PrepareFetch::new(
        link.url.as_str(),
        dest,
        gix::create::Kind::WithWorktree,
        gix::create::Options::default(),
        gix::open::Options::isolated(),
    )
    .map_err(err)?;
    if depth == Depth::Shallow {
        prep = prep.with_shallow(Shallow::DepthAtRemote(NonZeroU32::MIN));
    }
    prep = match target {
        Target::Head => prep,
        Target::Ref(r) => prep.with_ref_name(Some(r)).map_err(err)?,
        Target::Revision(c) => prep.with_revision(Some(c)).map_err(err)?,
    };
    let auth = link.auth.clone();
    let (insecure, timeout, resolver) = (link.insecure, link.timeout, link.resolver.clone());
    let origin = super::auth::origin(&link.url);
    prep = prep.configure_connection(move |conn| {
        if let Some(a) = auth.clone() {
            let origin = origin.clone();
            conn.set_credentials(move |action| Ok(credentials(&a, &origin, action)));
        }
        conn.set_transport_options(Box::new(transport_options(
            insecure,
            timeout,
            resolver.clone(),
        )));
        Ok(())
    });
    if depth == Depth::FullNoCheckout {
        let (repo, _) = prep
            .fetch_only(gix::progress::Discard, &link.interrupt)
            .map_err(err)?;
        return Ok(repo);
    }
    let (mut co, _) = prep
        .fetch_then_checkout(gix::progress::Discard, &link.interrupt)
        .map_err(err)?;
    let (repo, _) = co
        .main_worktree(gix::progress::Discard, &link.interrupt)
        .map_err(err)?;
    Ok(repo)
}

fn target_name(t: &Target<'_>) -> String {
    match t {
        Target::Head => "HEAD".into(),
        Target::Ref(r) => (*r).into(),
        Target::Revision(c) => (*c).into(),
    }
}

/// Answers the transport's request for credentials with ours, only for the origin they
/// belong to (`origin`: scheme, host, port): after a redirect elsewhere there are none.
fn credentials(
    auth: &Auth,
    origin: &Option<super::auth::Origin>,
    action: gix::credentials::helper::Action,
) -> Option<gix::credentials::protocol::Outcome> {
    match action {
        gix::credentials::helper::Action::Get(ctx)
            if origin.is_none() || super::auth::context_origin(&ctx) != *origin =>
        {
            tracing::debug!(
                "no credentials for {:?}: not the repository's origin",
                ctx.host
            );
            None
        }
        gix::credentials::helper::Action::Get(ctx) => Some(gix::credentials::protocol::Outcome {
            identity: gix::sec::identity::Account {
                username: auth.user.expose().to_string(),
                password: auth.password.expose().to_string(),
                oauth_refresh_token: None,
            },
            next: ctx.into(),
        }),
        _ => None,
    }
}

/// HTTP options: reqwest's own client with our resolver, verifying certificates unless
/// told not to.
fn transport_options(
    insecure: bool,
    timeout: std::time::Duration,
    resolver: resolve::Resolver,
) -> http::Options {
    let backend = http::reqwest::Options {
        configure_client: Some(Box::new(move |b| {
            Ok(b.dns_resolver(Arc::new(resolver.clone()))
                .danger_accept_invalid_certs(insecure)
                .timeout(timeout))
        })),
        configure_request: None,
    };
    http::Options {
        connect_timeout: Some(std::time::Duration::from_secs(20)),
        backend: Some(Arc::new(Mutex::new(backend))),
        ..http::Options::default()
    }
}

/// Writes the tree of `commit` into the work tree of a repository that has it.
fn checkout_commit(repo: &gix::Repository, commit: &str, link: &Link) -> Result<(), Error> {
    let missing = || Error::NotFound {
        location: link.location.clone(),
        what: format!("no such commit {commit}"),
    };
    let id = gix::ObjectId::from_hex(commit.as_bytes()).map_err(|_| missing())?;
    let tree = repo
        .find_object(id)
        .ok()
        .and_then(|o| o.peel_to_tree().ok())
        .ok_or_else(missing)?
        .id;
    let internal =
        |e: &dyn std::fmt::Display| Error::Internal(format!("checking out {commit}: {e}"));
    let workdir = repo.workdir().ok_or_else(|| internal(&"no work tree"))?;
    let mut index = repo.index_from_tree(&tree).map_err(|e| internal(&e))?;
    let mut opts = repo
        .checkout_options(gix::worktree::stack::state::attributes::Source::IdMapping)
        .map_err(|e| internal(&e))?;
    opts.destination_is_initially_empty = true;
    let objects = repo.objects.clone().into_arc().map_err(|e| internal(&e))?;
    gix::worktree::state::checkout(
        &mut index,
        workdir,
        objects,
        &gix::progress::Discard,
        &gix::progress::Discard,
        &link.interrupt,
        opts,
    )
    .map_err(|e| internal(&e))?;
    index.write(Default::default()).map_err(|e| internal(&e))?;
    Ok(())
}

/// Makes `dir` an empty directory (a failed attempt may have left a partial clone).
fn empty_dir(dir: &Path) -> Result<(), Error> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(dir, e)),
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
}
