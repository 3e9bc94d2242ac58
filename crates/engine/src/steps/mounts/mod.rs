//! `RUN --mount` with Docker's meaning and no privileges: no mount is made. Before the
//! command starts the executor puts each mount's content at its target in the root, and
//! takes it away after the command ([`place`]): `cache` (a directory under `<kaniko
//! dir>/caches`, moved into place when it shares the root's file system, else a symlink to
//! it), `secret` (a file in a tmpfs such as /dev/shm with the target a symlink to it, else
//! the file itself; or an environment variable of the command only), `bind` (a private
//! copy of a path of the context, a stage or an image, thrown away after), `tmpfs` (an
//! empty directory) and `ssh` (a symlink to the executor's `SSH_AUTH_SOCK`). A target's
//! previous content is moved aside and back; the directories made for a target are
//! removed after; a crash-safe [`journal`] lets a later start repair what a killed build
//! left. Secret values never reach a log line, the config or a cache key.

mod cache;
pub mod journal;
mod place;
mod points;
mod secrets;
mod sources;
pub mod spec;

use crate::context::BuildContext;
use crate::root::RootError;
use crate::stage::state::StageState;
use crate::{BuildError, SecretValue};
use dockerfile::{Command, MountKind, Run};
pub use place::Placed;
use spec::{Spec, SpecError};
use std::ffi::OsString;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use tracing::debug;

#[derive(Debug, thiserror::Error)]
pub enum MountError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Root(#[from] RootError),
    #[error(transparent)]
    Cache(#[from] cache::CacheError),
    #[error("secret {0}: not found")]
    Secret(String),
    #[error("secret {0} holds a NUL byte: it cannot be the environment variable {1}")]
    SecretEnv(String, String),
    #[error("no SSH agent for ssh mount {0:?}: start the executor with SSH_AUTH_SOCK naming an agent socket")]
    Ssh(String),
    #[error("mount target {0}: {1} would be made inside a path the build must not write")]
    Ignored(String, PathBuf),
    #[error("mount target {0}: {1} is or holds a path the build must not write (a mount, the executor's directory, the context)")]
    Covers(String, PathBuf),
    #[error("mount source {path} not found in {from}")]
    Source { path: String, from: String },
    #[error("mount target {target}: {what} ({path} is not visible inside the build root)")]
    Outside {
        target: String,
        what: &'static str,
        path: PathBuf,
    },
    #[error("mount target {0}: the command replaced a directory above it by a symlink; its mount cannot be taken away safely")]
    Replaced(String),
    #[error("{0}: {1}")]
    Io(String, io::Error),
    #[error(transparent)]
    Build(Box<BuildError>),
}

impl From<BuildError> for MountError {
    fn from(e: BuildError) -> MountError {
        MountError::Build(Box::new(e))
    }
}

impl MountError {
    pub(crate) fn io(what: &str, e: io::Error) -> MountError {
        MountError::Io(what.to_string(), e)
    }
}

/// What a mount shows at its target.
enum Content {
    /// A cache directory (held, with its lock, until the mount is taken away; shared by
    /// the mounts of one RUN that name the same cache); a read-only one is shown as a
    /// throwaway copy.
    Cache {
        dir: Arc<cache::CacheDir>,
        readonly: bool,
    },
    /// A private copy of a host path (a bind mount), without the paths `hidden` excludes.
    Copy {
        src: PathBuf,
        hidden: Option<Hidden>,
    },
    /// An empty directory (tmpfs).
    Empty,
    /// A secret file with its mode and owner.
    Secret {
        value: SecretValue,
        mode: u32,
        uid: u32,
        gid: u32,
    },
    /// A symlink to a host path (the SSH agent's socket).
    Link(PathBuf),
}

/// The build context's `.dockerignore`d paths below a bind's source.
struct Hidden {
    tree: BuildContext,
    below: PathBuf,
}

/// One mount: its absolute target and what goes there.
struct Planned {
    target: String,
    content: Content,
}

/// The mounts of one RUN, ready to be put in place ([`Prepared::place`]).
#[derive(Default)]
pub struct Prepared {
    planned: Vec<Planned>,
    /// Variables for the command only (secrets as env, SSH_AUTH_SOCK).
    pub env: Vec<(OsString, OsString)>,
}

/// Prepares the mounts of `run` (already expanded), whose command sees `run_env` and runs
/// in `workdir`.
pub async fn prepare(
    st: &StageState<'_>,
    cmd: &Command,
    run: &Run,
    workdir: &str,
    run_env: &[(String, String)],
) -> Result<Prepared, BuildError> {
    plan(st, run, workdir, run_env).await.map_err(|e| match e {
        MountError::Build(b) => *b,
        e => BuildError::step(cmd, e),
    })
}

async fn plan(
    st: &StageState<'_>,
    run: &Run,
    workdir: &str,
    run_env: &[(String, String)],
) -> Result<Prepared, MountError> {
    let mut out = Prepared::default();
    let mut ssh_index = 0;
    // A cache one RUN mounts twice is opened (and locked) once.
    let mut opened: Vec<(String, Arc<cache::CacheDir>)> = Vec::new();
    for m in &run.mounts {
        let mut spec = Spec::new(m, workdir)?;
        debug!(
            "Mount for RUN: {} {:?} at {}",
            format!("{:?}", spec.kind).to_lowercase(),
            spec.id,
            spec.target
                .as_deref()
                .or(spec.env.as_deref())
                .unwrap_or("-")
        );
        let content = match spec.kind {
            MountKind::Cache => Some(cache_content(st, &spec, &mut opened).await?),
            MountKind::Bind => Some(bind_content(st, &spec).await?),
            MountKind::Tmpfs => Some(Content::Empty),
            MountKind::Secret => out.secret(st, &spec)?,
            MountKind::Ssh => {
                ssh_index += 1;
                out.ssh(st, &mut spec, ssh_index - 1, run_env)?
            }
        };
        if let (Some(content), Some(target)) = (content, spec.target) {
            out.planned.push(Planned { target, content });
        }
    }
    Ok(out)
}

async fn cache_content(
    st: &StageState<'_>,
    spec: &Spec,
    opened: &mut Vec<(String, Arc<cache::CacheDir>)>,
) -> Result<Content, MountError> {
    let again = opened.iter().find(|(id, _)| *id == spec.id);
    if let Some((_, dir)) = again.filter(|_| spec.sharing != spec::Sharing::Private) {
        return Ok(Content::Cache {
            dir: dir.clone(),
            readonly: spec.readonly,
        });
    }
    let seed = match &spec.from {
        Some(from) => {
            let tree = sources::tree(st, Some(from)).await?;
            Some(sources::locate(&tree, &spec.source, Some(from))?)
        }
        None => None,
    };
    let caches = &st.sh.opts.cache_mounts;
    let _ = std::fs::create_dir_all(caches); // errors are cache::open's to report
    let shares_root = place::same_device(caches, st.root.dir());
    let dir = Arc::new(cache::open(caches, spec, seed.as_deref(), shares_root).await?);
    opened.push((spec.id.clone(), dir.clone()));
    Ok(Content::Cache {
        dir,
        readonly: spec.readonly,
    })
}

async fn bind_content(st: &StageState<'_>, spec: &Spec) -> Result<Content, MountError> {
    let tree = sources::tree(st, spec.from.as_deref()).await?;
    let src = sources::locate(&tree, &spec.source, spec.from.as_deref())?;
    let hidden = tree.filters().then(|| Hidden {
        below: src
            .strip_prefix(tree.root())
            .unwrap_or(std::path::Path::new(""))
            .to_path_buf(),
        tree,
    });
    Ok(Content::Copy { src, hidden })
}
