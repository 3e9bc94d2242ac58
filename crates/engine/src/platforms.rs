//! One Dockerfile built for several target platforms in turn, over one root and one build
//! context. A stage pinned to a platform (`FROM --platform=$BUILDPLATFORM`) that sees
//! nothing of the target platform is built once, by the first target's build, and its
//! result and files are handed to the later targets' builds (BuildKit merges such stages
//! because their steps are identical; here it is decided from the Dockerfile, below).
//! Every target's base images start resolving when the first build starts.

use crate::source::SourceImage;
use crate::stage::files::{Cleanup, StageFiles};
use crate::stage::StageOutput;
use crate::stage_plan::stage_platform;
use crate::{platform_args, BuildError, BuildOptions};
use dockerfile::{Dockerfile, GlobalScope, Instruction};
use image::Platform;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use tokio::task::JoinHandle;

/// Base images resolving, by stage.
pub(crate) type Pending = HashMap<usize, JoinHandle<Result<SourceImage, BuildError>>>;

/// What the builds of one run share: the stages built once, their outputs once built, and
/// the stage files (kept across builds for the shared stages only).
pub struct SharedStages {
    pub(crate) stages: BTreeSet<usize>,
    /// The run's target platforms, in order.
    pub(crate) platforms: Vec<Platform>,
    /// Later targets' base images, resolving since the first build started.
    bases: Mutex<HashMap<String, Pending>>,
    outputs: Mutex<HashMap<usize, StageOutput>>,
    pub(crate) files: StageFiles,
    builds: AtomicUsize,
}

impl SharedStages {
    /// For a build of `df` for each of `platforms` (`opts` gives the build args, the
    /// target stage and the work directory).
    pub fn new(
        df: &Dockerfile,
        opts: &BuildOptions,
        platforms: &[Platform],
    ) -> Result<SharedStages, BuildError> {
        let stages = match platforms.len() {
            0 | 1 => BTreeSet::new(),
            _ => shareable(df, opts, platforms)?,
        };
        Ok(SharedStages {
            stages,
            platforms: platforms.to_vec(),
            bases: Mutex::new(HashMap::new()),
            outputs: Mutex::new(HashMap::new()),
            files: StageFiles::new(&opts.work_dir),
            builds: AtomicUsize::new(0),
        })
    }

    /// Counts a build starting; returns how many started before it.
    pub(crate) fn begin_build(&self) -> usize {
        self.builds.fetch_add(1, Ordering::SeqCst)
    }

    /// The stages built once for every platform.
    pub fn stages(&self) -> &BTreeSet<usize> {
        &self.stages
    }

    /// Stage `i`'s output, when a former build made it and it is shared.
    pub(crate) fn output(&self, i: usize) -> Option<StageOutput> {
        self.outputs.lock().ok()?.get(&i).cloned()
    }

    /// Records stage `i`'s output for later builds, when it is shared.
    pub(crate) fn record(&self, i: usize, out: &StageOutput) {
        if self.stages.contains(&i) {
            if let Ok(mut o) = self.outputs.lock() {
                o.insert(i, out.clone());
            }
        }
    }

    /// Keeps the base images resolving for `platform`'s build.
    pub(crate) fn put_bases(&self, platform: &Platform, pending: Pending) {
        if let Ok(mut b) = self.bases.lock() {
            b.insert(platform.to_string(), pending);
        }
    }

    /// The base images resolving for `platform`'s build, if an earlier build started them.
    pub(crate) fn take_bases(&self, platform: &Platform) -> Option<Pending> {
        self.bases.lock().ok()?.remove(&platform.to_string())
    }

    /// After one platform's build: drops the files of every stage not shared.
    pub(crate) fn end_build(&self) {
        self.files.forget_except(&self.stages);
    }

    /// After the last build (or a failed one): stops resolving bases no build took, and
    /// starts removing every stage file (see [`Cleanup`]).
    pub fn finish(&self) -> Cleanup {
        if let Ok(mut b) = self.bases.lock() {
            b.drain().flat_map(|(_, p)| p).for_each(|(_, t)| t.abort());
        }
        self.files.finish()
    }
}

/// The stages built once: pinned by `FROM --platform` to the same platform, with the same
/// base and the same values of the ARGs they declare for every target platform, no ARG
/// default naming a `TARGET…` arg, reading only stages that are shared too, and not in the
/// target stage's `FROM` chain (each target gets its own image).
fn shareable(
    df: &Dockerfile,
    opts: &BuildOptions,
    platforms: &[Platform],
) -> Result<BTreeSet<usize>, BuildError> {
    let globals = platforms
        .iter()
        .map(|p| {
            GlobalScope::with_escape(
                &df.meta_args,
                &opts.build_args,
                &platform_args(p),
                df.escape,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let target = df.target(opts.target.as_deref())?;
    let mut chain = BTreeSet::from([target]);
    let mut out = BTreeSet::new();
    for i in 0..=target {
        let mut views = Vec::new();
        for g in &globals {
            views.push(stage_view(df, i, g)?);
        }
        let same = match views.first() {
            Some(Some(first)) => {
                first.0.is_some() && views.iter().all(|v| v.as_ref() == Some(first))
            }
            _ => false,
        };
        let reads_shared = stage_reads(df, i, &globals[0])?
            .iter()
            .all(|r| r.is_some_and(|j| out.contains(&j)));
        if same && reads_shared {
            out.insert(i);
        }
    }
    // The target's own chain of FROM stages is built per platform.
    let mut next = Some(target);
    while let Some(i) = next {
        chain.insert(i);
        next = df.base(i, &globals[0])?.stage;
    }
    Ok(out.difference(&chain).copied().collect())
}

/// What a stage sees of one target platform: its pinned platform, its base, and the
/// values of the ARGs it declares; `None` when an ARG default names a `TARGET…` arg.
type View = (Option<Platform>, String, Vec<(String, Option<String>)>);

fn stage_view(df: &Dockerfile, i: usize, g: &GlobalScope) -> Result<Option<View>, BuildError> {
    let platform = stage_platform(df, i, g)?;
    let base = df.base(i, g)?.name;
    let mut args = Vec::new();
    for c in &df.stages[i].commands {
        if let Instruction::Arg(decls) = &c.instruction {
            for a in decls {
                if a.default.as_deref().is_some_and(|d| d.contains("TARGET")) {
                    return Ok(None);
                }
                args.push((a.name.clone(), g.lookup(&a.name)));
            }
        }
    }
    Ok(Some((platform, base, args)))
}

/// The stages stage `i` reads (its `FROM` stage, `COPY --from`, `RUN --mount from=`): the
/// stage's index, `None` for a `$` word decided at run time; images are not listed.
fn stage_reads(
    df: &Dockerfile,
    i: usize,
    g: &GlobalScope,
) -> Result<Vec<Option<usize>>, BuildError> {
    let mut out: Vec<Option<usize>> = df.base(i, g)?.stage.into_iter().map(Some).collect();
    for r in df.stages[i].reads() {
        if r.from.contains('$') {
            out.push(None);
        } else if let Some(j) = df.stage_ref(i, r.from) {
            out.push(Some(j));
        }
    }
    Ok(out)
}
