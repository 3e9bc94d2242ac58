//! The mounts that carry credentials: `secret` (a file at its target, or a variable of the
//! command only) and `ssh` (the executor's agent socket linked at its target,
//! `SSH_AUTH_SOCK` pointing at the first). A secret or agent that was not given skips its
//! mount unless `required`, as BuildKit does.

use super::spec::Spec;
use super::{Content, MountError, Prepared};
use crate::stage::state::StageState;
use std::ffi::OsString;
use tracing::{debug, warn};

impl Prepared {
    pub(super) fn secret(
        &mut self,
        st: &StageState<'_>,
        spec: &Spec,
    ) -> Result<Option<Content>, MountError> {
        let Some(value) = st.sh.opts.secrets.get(&spec.id) else {
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
        Ok(Some(Content::Secret {
            value: value.clone(),
            mode: spec.mode.unwrap_or(0o400),
            uid: spec.uid.unwrap_or(0),
            gid: spec.gid.unwrap_or(0),
        }))
    }

    /// An ssh mount: its content, with its target filled in `spec` when not given.
    pub(super) fn ssh(
        &mut self,
        st: &StageState<'_>,
        spec: &mut Spec,
        index: usize,
        run_env: &[(String, String)],
    ) -> Result<Option<Content>, MountError> {
        let Some(agent) = st.sh.opts.ssh_agent.as_deref().filter(|a| a.exists()) else {
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
            .get_or_insert_with(|| format!("/run/buildkit/ssh_agent.{index}"))
            .clone();
        let first = !run_env.iter().any(|(k, _)| k == "SSH_AUTH_SOCK")
            && !self.env.iter().any(|(k, _)| k == "SSH_AUTH_SOCK");
        if first {
            self.env
                .push(("SSH_AUTH_SOCK".into(), OsString::from(&target)));
        }
        Ok(Some(Content::Link(agent.to_path_buf())))
    }
}
