//! `RUN --mount` with Docker's meaning, turned into what the RUN child mounts in its own
//! mount namespace ([`ns`](super::ns)): `cache` (a directory under `<kaniko dir>/caches`),
//! `secret` (a file on a private tmpfs, or an environment variable of the command only),
//! `bind` (a path of the context, a stage or an image; read-only, or a private copy with
//! `rw`), `tmpfs` and `ssh` (the executor's `SSH_AUTH_SOCK`). The mounts are made on the
//! root's directories (symlinks resolved inside the root), parents before children; what
//! was made for them is removed afterwards ([`points`]), so nothing a mount shows or needs
//! ends up in a layer. Secret values never reach a log line, the config or a cache key.

mod cache;
mod points;
mod secrets;
mod sources;
pub mod spec;

use super::ns::{ChildSetup, Op};
use crate::root::{RootError, RootFs};
use crate::stage::StageState;
use crate::BuildError;
use dockerfile::{Command, MountKind, Run};
use spec::{Spec, SpecError};
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
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
    #[error("mount source {path} not found in {from}")]
    Source { path: String, from: String },
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

/// The mounts of one RUN, ready for the child; [`finish`](Prepared::finish) after it ran.
#[derive(Default)]
pub struct Prepared {
    pub setup: ChildSetup,
    /// Variables for the command only (secrets as env, SSH_AUTH_SOCK).
    pub env: Vec<(OsString, OsString)>,
    points: Vec<points::MountPoint>,
    _copies: Vec<tempfile::TempDir>,
    _caches: Vec<cache::CacheDir>,
}

/// One mount: where, and the operation(s) that make it.
struct Planned {
    point: points::MountPoint,
    ops: Vec<(Op, String)>,
}

/// Prepares the mounts and network of `run` (already expanded), whose command sees
/// `run_env` and runs in `workdir`.
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
    out.setup.new_net = run.network.as_deref() == Some("none");
    let mut planned = Vec::new();
    let mut secrets = Vec::new();
    let mut ssh_index = 0;
    for m in &run.mounts {
        let spec = Spec::new(m, workdir)?;
        debug!(
            "Mount for RUN: {} {:?} at {}",
            format!("{:?}", spec.kind).to_lowercase(),
            spec.id,
            spec.target
                .as_deref()
                .or(spec.env.as_deref())
                .unwrap_or("-")
        );
        let p = match spec.kind {
            MountKind::Cache => Some(out.cache(st, &spec).await?),
            MountKind::Bind => Some(out.bind(st, &spec).await?),
            MountKind::Tmpfs => Some(tmpfs(st.root, &spec)?),
            MountKind::Secret => out.secret(st, &spec, &mut secrets)?,
            MountKind::Ssh => {
                ssh_index += 1;
                out.ssh(st, &spec, ssh_index - 1, run_env)?
            }
        };
        planned.extend(p);
    }
    let staging = secrets::staging_dir(&st.opts.work_dir);
    if !secrets.is_empty() {
        secrets::stage_secrets(&mut out.setup, &staging, &secrets)?;
    }
    planned.sort_by_key(|p| p.point.depth);
    for Planned { mut point, ops } in planned {
        // The mount point first, then the mount on it.
        out.setup.ops.append(&mut point.ops);
        out.setup.ops.extend(ops);
        out.points.push(point);
    }
    if !secrets.is_empty() {
        let what = "detaching the secrets' staging tmpfs".to_string();
        let dir = ChildSetup::c(&staging).map_err(|e| MountError::io("secrets", e))?;
        out.setup.ops.push((Op::Detach(dir), what));
    }
    Ok(out)
}

impl Prepared {
    /// Removes the mount points made for the command and releases copies and cache locks.
    pub fn finish(self, root: &mut RootFs) {
        for p in &self.points {
            points::remove_made(root, &p.made);
        }
        for p in &self.points {
            if let Some(a) = &p.anchor {
                a.restore(root);
            }
        }
    }

    async fn cache(&mut self, st: &StageState<'_>, spec: &Spec) -> Result<Planned, MountError> {
        let seed = match &spec.from {
            Some(from) => {
                let tree = sources::tree(st, Some(from)).await?;
                Some(sources::locate(&tree, &spec.source, Some(from))?)
            }
            None => None,
        };
        let caches = &st.opts.cache_mounts;
        let dir = cache::open(caches, spec, seed.as_deref()).await?;
        let planned = bind_dir(st.root, spec, &dir.path, false)?;
        self._caches.push(dir);
        Ok(planned)
    }

    async fn bind(&mut self, st: &StageState<'_>, spec: &Spec) -> Result<Planned, MountError> {
        let tree = sources::tree(st, spec.from.as_deref()).await?;
        let host = sources::locate(&tree, &spec.source, spec.from.as_deref())?;
        let is_file = !host.is_dir();
        let work = &st.opts.work_dir;
        let (src, copy) = sources::bind_source(&tree, &host, spec.readonly, work)?;
        self._copies.extend(copy);
        bind_dir(st.root, spec, &src, is_file)
    }
}

/// A bind of the host path `src` at the spec's target (read-only when the spec says so).
fn bind_dir(root: &RootFs, spec: &Spec, src: &Path, file: bool) -> Result<Planned, MountError> {
    let target = spec.target.as_deref().unwrap_or("/");
    let point = points::plan(root, target, file)?;
    let c = |p: &Path| ChildSetup::c(p).map_err(|e| MountError::io(target, e));
    let remount = if spec.readonly {
        libc::MS_RDONLY | inherited_flags(src)
    } else {
        0
    };
    let what = format!("mounting the {:?} mount at {target}", spec.kind).to_lowercase();
    let op = Op::Bind {
        src: c(src)?,
        dst: c(&point.host)?,
        remount,
    };
    Ok(Planned {
        point,
        ops: vec![(op, what)],
    })
}

/// The flags of the file system under `p` a read-only remount must keep.
fn inherited_flags(p: &Path) -> libc::c_ulong {
    use nix::sys::statvfs::FsFlags;
    let Ok(s) = nix::sys::statvfs::statvfs(p) else {
        return 0;
    };
    let f = s.flags();
    let mut out = 0;
    for (st, ms) in [
        (FsFlags::ST_NOSUID, libc::MS_NOSUID),
        (FsFlags::ST_NODEV, libc::MS_NODEV),
        (FsFlags::ST_NOEXEC, libc::MS_NOEXEC),
        (FsFlags::ST_NOATIME, libc::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, libc::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, libc::MS_RELATIME),
    ] {
        if f.contains(st) {
            out |= ms;
        }
    }
    out
}

fn tmpfs(root: &RootFs, spec: &Spec) -> Result<Planned, MountError> {
    let target = spec.target.as_deref().unwrap_or("/");
    let point = points::plan(root, target, false)?;
    let data = spec.size.map(|s| format!("size={s}")).unwrap_or_default();
    let op = Op::Tmpfs {
        dst: ChildSetup::c(&point.host).map_err(|e| MountError::io(target, e))?,
        data: std::ffi::CString::new(data).unwrap_or_default(),
    };
    Ok(Planned {
        point,
        ops: vec![(op, format!("mounting a tmpfs at {target}"))],
    })
}
