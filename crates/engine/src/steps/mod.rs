//! One step per instruction, with two faces: what it changes ([`apply`]: the root
//! filesystem and the config) and what decides its result ([`crate::key`]: the cache key).
//! `apply` reports what to snapshot; the stage turns that into a layer or an empty history
//! entry.

mod child;
pub mod copy;
mod exec_format;
pub mod meta;
pub mod mounts;
mod netfilter;
pub mod run;

use crate::stage::state::StageState;
use crate::BuildError;
use dockerfile::{Command, Instruction};
use std::path::PathBuf;
use tracing::info;

/// What a step asks the stage to snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Snap {
    /// Nothing on disk changed: the config only.
    Config,
    /// The whole filesystem (RUN).
    Full,
    /// These container paths (COPY, ADD, WORKDIR).
    Paths(Vec<PathBuf>),
}

/// Whether an instruction needs the base image's files on disk.
pub fn needs_fs(i: &Instruction) -> bool {
    matches!(
        i,
        Instruction::Run(_) | Instruction::Copy(_) | Instruction::Add(_) | Instruction::Workdir(_)
    )
}

/// Applies the expanded instruction `instr` (written as `cmd`) to the stage.
pub async fn apply(
    st: &mut StageState<'_>,
    cmd: &Command,
    instr: &Instruction,
) -> Result<Snap, BuildError> {
    let env = st.scope.env();
    let config_only = meta::apply(&mut st.config, &mut st.meta, instr, &env);
    match instr {
        Instruction::Run(run) => run::apply(st, cmd, run).await,
        Instruction::Copy(c) => copy::apply(st, cmd, c, false).await,
        Instruction::Add(c) => copy::apply(st, cmd, c, true).await,
        Instruction::Workdir(dir) => workdir(st, cmd, dir),
        _ if config_only => Ok(Snap::Config),
        other => Err(BuildError::step(
            cmd,
            format!("unexpected instruction {other:?}"),
        )),
    }
}

/// The working directory `WORKDIR dir` sets when the current one is `current`.
pub fn workdir_path(current: &str, dir: &str) -> String {
    format!(
        "/{}",
        crate::context::glob::clean(&copy::spec::absolute_dest(dir, current))
    )
}

/// WORKDIR: the config's working directory, created (owned by the USER) when missing.
fn workdir(st: &mut StageState<'_>, cmd: &Command, dir: &str) -> Result<Snap, BuildError> {
    let current = st.config.config.working_dir.clone().unwrap_or_default();
    let abs = workdir_path(&current, dir);
    st.config.config.working_dir = Some(abs.clone());
    if st.root.is_dir(&abs) {
        return Ok(Snap::Config);
    }
    let owner = st.user_owner().map_err(|e| BuildError::step(cmd, e))?;
    info!("Creating directory {abs}");
    let made = st
        .root
        .mkdir_all(&abs, owner)
        .map_err(|e| BuildError::step(cmd, e))?;
    Ok(if made.is_empty() {
        Snap::Config
    } else {
        Snap::Paths(made)
    })
}
