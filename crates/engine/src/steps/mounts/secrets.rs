//! The mounts that carry credentials: `secret` (a file on a private tmpfs bound read-only
//! at its target, or a variable of the command only) and `ssh` (the executor's agent
//! socket bound at its target, `SSH_AUTH_SOCK` pointing at the first). A secret or agent
//! that was not given skips its mount unless `required`, as BuildKit does.

use super::spec::Spec;
use super::{bind_dir, points, MountError, Planned, Prepared};
use crate::stage::StageState;
use crate::steps::ns::{ChildSetup, Op};
use crate::SecretValue;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use tracing::{debug, warn};

impl Prepared {
    pub(super) fn secret(
        &mut self,
        st: &StageState<'_>,
        spec: &Spec,
        files: &mut Vec<(SecretValue, Spec)>,
    ) -> Result<Option<Planned>, MountError> {
        let Some(value) = st.opts.secrets.get(&spec.id) else {
            if spec.required {
                return Err(MountError::Secret(spec.id.clone()));
            }
            debug!("Secret {:?} not given: its mount is skipped", spec.id);
            return Ok(None);
        };
        if let Some(var) = &spec.env {
            let bytes = value.expose();
            if bytes.contains(&0) {
                return Err(MountError::SecretEnv(spec.id.clone(), var.clone()));
            }
            let v = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(bytes);
            self.env.push((var.into(), v.to_os_string()));
        }
        let Some(target) = &spec.target else {
            return Ok(None);
        };
        let point = points::plan(st.root, target, true)?;
        let staged = staging_dir(&st.opts.work_dir).join(files.len().to_string());
        files.push((value.clone(), spec.clone()));
        let c = |p: &Path| ChildSetup::c(p).map_err(|e| MountError::io(target, e));
        let op = Op::Bind {
            src: c(&staged)?,
            dst: c(&point.host)?,
            remount: libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        };
        let what = format!("mounting secret {:?} at {target}", spec.id);
        Ok(Some(Planned {
            point,
            ops: vec![(op, what)],
        }))
    }

    pub(super) fn ssh(
        &mut self,
        st: &StageState<'_>,
        spec: &Spec,
        index: usize,
        run_env: &[(String, String)],
    ) -> Result<Option<Planned>, MountError> {
        let Some(agent) = st.opts.ssh_agent.as_deref().filter(|a| a.exists()) else {
            if spec.required {
                return Err(MountError::Ssh(spec.id.clone()));
            }
            warn!(
                "No SSH agent (SSH_AUTH_SOCK) for ssh mount {:?}: the mount is skipped",
                spec.id
            );
            return Ok(None);
        };
        let target = spec
            .target
            .clone()
            .unwrap_or_else(|| format!("/run/buildkit/ssh_agent.{index}"));
        let first = !run_env.iter().any(|(k, _)| k == "SSH_AUTH_SOCK")
            && !self.env.iter().any(|(k, _)| k == "SSH_AUTH_SOCK");
        if first {
            self.env
                .push(("SSH_AUTH_SOCK".into(), OsString::from(&target)));
        }
        let spec = Spec {
            target: Some(target),
            readonly: false,
            ..spec.clone()
        };
        bind_dir(st.root, &spec, agent, true).map(Some)
    }
}

pub(super) fn staging_dir(work: &Path) -> PathBuf {
    work.join("secrets")
}

/// Secret files: a private tmpfs on the (empty) staging directory in the work directory,
/// mounted in the child's namespace only, holds them with their mode and owner; each is
/// bound read-only at its target, and the tmpfs is detached before the command starts. On
/// disk there is only the empty directory.
pub(super) fn stage_secrets(
    setup: &mut ChildSetup,
    staging: &Path,
    files: &[(SecretValue, Spec)],
) -> Result<(), MountError> {
    let io = |e| MountError::io("the secrets' staging directory", e);
    std::fs::create_dir_all(staging).map_err(io)?;
    let total: usize = files.iter().map(|(v, _)| v.expose().len() + 4096).sum();
    let data = format!("mode=0700,size={}", total + 65536);
    let c = |p: &Path| ChildSetup::c(p).map_err(io);
    setup.ops.push((
        Op::Tmpfs {
            dst: c(staging)?,
            data: std::ffi::CString::new(data).unwrap_or_default(),
        },
        "mounting the secrets' staging tmpfs".into(),
    ));
    for (k, (value, spec)) in files.iter().enumerate() {
        let op = Op::Write {
            path: c(&staging.join(k.to_string()))?,
            data: value.clone(),
            mode: spec.mode.unwrap_or(0o400),
            uid: spec.uid.unwrap_or(0),
            gid: spec.gid.unwrap_or(0),
        };
        setup
            .ops
            .push((op, format!("writing secret {:?}", spec.id)));
    }
    Ok(())
}
