//! The build's plan of stages: the order they run in, the base each starts from, and which
//! later stages read each one's files (by position), so the stage loop knows whether to
//! hand the root on in place, stash it, or clear it. Each stage runs on its `FROM
//! --platform`, else the build's target platform.

use crate::{platform_args, BuildError, BuildOptions};
use dockerfile::{Dockerfile, GlobalScope};
use image::Platform;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Who starts from whom and who reads whose files.
pub(crate) struct StagePlan {
    pub(crate) order: Vec<usize>,
    pub(crate) base_name: HashMap<usize, String>,
    /// The earlier stage a stage is `FROM`, if any.
    pub(crate) base_stage: HashMap<usize, Option<usize>>,
    /// For each stage, the positions in `order` of the stages that read it.
    pub(crate) users: BTreeMap<usize, Vec<usize>>,
    /// For each stage, the positions of the stages that copy or mount its files.
    pub(crate) copiers: BTreeMap<usize, Vec<usize>>,
    /// For each stage, the paths later stages name in it, as written (for the log).
    pub(crate) copied: BTreeMap<usize, Vec<String>>,
    /// The platform each stage runs on.
    pub(crate) platform: HashMap<usize, Platform>,
    /// Stages whose files outlive this build (shared with the next target platform's).
    pub(crate) keep: BTreeSet<usize>,
}

/// The images a build of `df` for `platform` starts its stages from, each with the
/// platform it is resolved for (the stage's `FROM --platform`, else `platform`): what the
/// provenance of that target names, whichever target's build resolved them first.
pub fn base_images(
    df: &Dockerfile,
    opts: &BuildOptions,
    platform: &Platform,
) -> Result<Vec<(String, Platform)>, BuildError> {
    let (_, _, plan) = StagePlan::for_target(df, opts, platform)?;
    Ok(plan
        .order
        .iter()
        .filter(|i| plan.base_stage[*i].is_none())
        .map(|i| (plan.base_name[i].clone(), plan.platform[i].clone()))
        .filter(|(name, _)| !name.eq_ignore_ascii_case("scratch"))
        .collect())
}

impl StagePlan {
    /// The plan of `df` built for `platform` as `opts` asks: the global scope (with the
    /// platform's args), the target stage, and the plan of the stages that run.
    pub(crate) fn for_target(
        df: &Dockerfile,
        opts: &BuildOptions,
        platform: &Platform,
    ) -> Result<(GlobalScope, usize, StagePlan), BuildError> {
        let pargs = platform_args(platform);
        let global = GlobalScope::with_escape(&df.meta_args, &opts.build_args, &pargs, df.escape)?;
        let target = df.target(opts.target.as_deref())?;
        let order: Vec<usize> = if opts.skip_unused_stages {
            df.required_stages(target, &global)?.into_iter().collect()
        } else {
            (0..=target).collect()
        };
        let plan = StagePlan::new(df, &global, &order, platform)?;
        Ok((global, target, plan))
    }

    pub(crate) fn new(
        df: &Dockerfile,
        global: &GlobalScope,
        order: &[usize],
        target: &Platform,
    ) -> Result<StagePlan, BuildError> {
        let mut plan = StagePlan {
            order: order.to_vec(),
            base_name: HashMap::new(),
            base_stage: HashMap::new(),
            users: BTreeMap::new(),
            copiers: BTreeMap::new(),
            copied: BTreeMap::new(),
            platform: HashMap::new(),
            keep: BTreeSet::new(),
        };
        for (pos, &i) in order.iter().enumerate() {
            let platform = stage_platform(df, i, global)?;
            plan.platform
                .insert(i, platform.unwrap_or_else(|| target.clone()));
            let base = df.base(i, global)?;
            plan.base_name.insert(i, base.name);
            plan.base_stage.insert(i, base.stage);
            let mut reads: Vec<usize> = Vec::new();
            for read in df.stages[i].reads() {
                if read.from.contains('$') {
                    reads.extend(0..i); // decided at run time: keep them all
                } else {
                    let idx = df.stage_ref(i, read.from);
                    if let Some(idx) = idx {
                        plan.copied.entry(idx).or_default().extend(read.paths);
                    }
                    reads.extend(idx);
                }
            }
            for r in reads {
                plan.copiers.entry(r).or_default().push(pos);
                plan.users.entry(r).or_default().push(pos);
            }
            if let Some(b) = base.stage {
                plan.users.entry(b).or_default().push(pos);
            }
        }
        Ok(plan)
    }

    /// The stages whose layers the final image holds: the target and the stages it is
    /// `FROM`, in turn.
    pub(crate) fn final_chain(&self) -> Vec<usize> {
        let mut chain = Vec::new();
        let mut next = self.order.last().copied();
        while let Some(i) = next {
            chain.push(i);
            next = self.base_stage.get(&i).copied().flatten();
        }
        chain
    }

    /// Whether a stage at a position after `pos` (or a later build) reads stage `i`.
    pub(crate) fn used_after(&self, i: usize, pos: usize) -> bool {
        self.keep.contains(&i)
            || self
                .users
                .get(&i)
                .is_some_and(|u| u.iter().any(|p| *p > pos))
    }

    /// Whether the stage at `pos` copies or mounts stage `i`'s files.
    fn copies_at(&self, i: usize, pos: usize) -> bool {
        self.copiers.get(&i).is_some_and(|u| u.contains(&pos))
    }

    /// Whether the stage at `pos` can take over stage `i`'s root as its own.
    pub(crate) fn takes_over(&self, i: usize, pos: usize) -> bool {
        !self.copies_at(i, pos) && !self.used_after(i, pos)
    }

    /// kaniko's log form: `map[0:[/app /etc/x]]` (stage → the paths later stages copy
    /// from it).
    pub(crate) fn describe(&self) -> String {
        let parts: Vec<String> = self
            .copied
            .iter()
            .map(|(i, paths)| format!("{i}:[{}]", paths.join(" ")))
            .collect();
        format!("map[{}]", parts.join(" "))
    }
}

/// Stage `i`'s `FROM --platform`, expanded with the global scope, if it has one.
pub(crate) fn stage_platform(
    df: &Dockerfile,
    i: usize,
    global: &GlobalScope,
) -> Result<Option<Platform>, BuildError> {
    let stage = &df.stages[i];
    let Some(text) = global.expand_platform(stage)? else {
        return Ok(None);
    };
    Platform::parse(&text).map(Some).ok_or_else(|| {
        BuildError::Other(format!(
            "line {}: FROM --platform={text}: want os/arch[/variant]",
            stage.line
        ))
    })
}
