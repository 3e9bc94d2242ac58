//! The cache key of a filesystem step (RUN, COPY, ADD, WORKDIR, VOLUME): the stage's chain
//! and the expanded instruction with what else the step reads (see [`crate::key`]). The
//! costly inputs (source contents, the digest of a `COPY --from` image) are only computed
//! for a build with a cache.

use super::StageState;
use crate::key::{keyed_env, run_inputs, sources_digest, CacheKey};
use crate::steps::copy::is_url;
use crate::BuildError;
use dockerfile::{Command, Instruction, MountKind, Run};

/// A step's keys: where it moves the chain, and what the cache looks it up by (the same,
/// but for `COPY --link`, whose layer does not depend on what is below it).
pub(crate) struct StepKeys {
    pub chain: CacheKey,
    pub lookup: CacheKey,
}

impl StageState<'_> {
    /// The keys of `instr`, or `None` when only its result can tell (ADD of a URL without
    /// `--checksum`: the body may change at any time).
    pub(crate) async fn key(
        &self,
        cmd: &Command,
        instr: &Instruction,
    ) -> Result<Option<StepKeys>, BuildError> {
        let cfg = &self.config.config;
        let workdir = cfg.working_dir.as_deref().unwrap_or("");
        let user = cfg.user.as_deref().unwrap_or("");
        let inputs = match instr {
            Instruction::Run(r) => {
                let mut inputs = run_inputs(
                    &keyed_env(&self.scope.run_env(), &self.scope.env()),
                    user,
                    workdir,
                    &self.meta.shell,
                );
                inputs.extend(self.mount_inputs(cmd, r).await?);
                inputs
            }
            Instruction::Copy(c) | Instruction::Add(c) => {
                let is_add = matches!(instr, Instruction::Add(_));
                let mut inputs = vec![format!("workdir {workdir}")];
                match self.copy_sources(cmd, c, is_add).await? {
                    Some(s) => inputs.extend(s),
                    None => return Ok(None),
                }
                inputs
            }
            // The directories WORKDIR creates belong to the USER.
            Instruction::Workdir(_) => vec![format!("workdir {workdir}"), format!("user {user}")],
            _ => Vec::new(),
        };
        let chain = self.keys.key(instr, &inputs);
        let lookup = self
            .keys
            .link_key(instr, &inputs)
            .unwrap_or_else(|| chain.clone());
        Ok(Some(StepKeys { chain, lookup }))
    }

    /// What `--from=<from>` names, by content: the last key of that stage, or the manifest
    /// digest of that image.
    async fn source_of(&self, from: &str) -> Result<String, BuildError> {
        let stage = self.sh.df.stage_ref(self.index, from);
        if let Some(k) = stage.and_then(|i| self.sh.deps.stage_key(i)) {
            return Ok(format!("stage {k}"));
        }
        let img = self.sh.source.resolve(from, &self.sh.opts.platform).await?;
        let digest = img
            .name
            .rsplit_once('@')
            .map_or(img.name.as_str(), |(_, d)| d);
        Ok(format!("image {digest}"))
    }

    /// What a RUN's mounts show: the context files a bind mount shows, the stage or image
    /// a bind mount (or a new cache, `type=cache,from=`) takes its files from. Never a
    /// secret's value (the instruction holds its id).
    async fn mount_inputs(&self, cmd: &Command, r: &Run) -> Result<Vec<String>, BuildError> {
        let mut out = Vec::new();
        if !self.sh.opts.hash_sources {
            return Ok(out);
        }
        for (i, m) in r.mounts.iter().enumerate() {
            match (&m.kind, &m.from) {
                (MountKind::Bind | MountKind::Cache, Some(from)) => {
                    out.push(format!("mount {i} from {}", self.source_of(from).await?));
                }
                (MountKind::Bind, None) => {
                    let rel = crate::context::glob::clean(m.source.as_deref().unwrap_or(""));
                    let ctx = self.sh.ctx;
                    let d = tokio::task::block_in_place(|| {
                        sources_digest(ctx, std::slice::from_ref(&rel), false)
                    })
                    .map_err(|e| BuildError::step(cmd, e))?;
                    out.push(format!("mount {i} /{rel} {d}"));
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// What a COPY/ADD copies: the digest of its context sources, the key of the stage or
    /// the digest of the image it copies from; `None` for an unpinned URL.
    async fn copy_sources(
        &self,
        cmd: &Command,
        c: &dockerfile::Copy,
        is_add: bool,
    ) -> Result<Option<Vec<String>>, BuildError> {
        if !self.sh.opts.hash_sources {
            return Ok(Some(Vec::new()));
        }
        if let Some(from) = &c.from {
            return Ok(Some(vec![format!("from {}", self.source_of(from).await?)]));
        }
        if is_add && c.checksum.is_none() && c.sources.iter().any(|s| is_url(s)) {
            return Ok(None);
        }
        let mut rels = Vec::new();
        for s in c.sources.iter().filter(|s| !is_url(s)) {
            rels.extend(self.sh.ctx.resolve(s).unwrap_or_default());
        }
        let ctx = self.sh.ctx;
        let d = tokio::task::block_in_place(|| sources_digest(ctx, &rels, false))
            .map_err(|e| BuildError::step(cmd, e))?;
        Ok(Some(vec![format!("sources {d}")]))
    }
}
