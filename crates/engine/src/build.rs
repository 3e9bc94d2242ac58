//! The build: which stages run (every stage up to the target, as kaniko does, or
//! only those it needs with `--skip-unused-stages`), in order, over one root. Every image
//! base is resolved up front, concurrently. Between stages the root is handed on in place
//! (the next stage is `FROM` this one and nothing else reads it), stashed outside the root
//! (a later stage copies from it or starts from it), or cleared. With a layer cache, a
//! stage may hand on fewer layers on disk than it has (or none): the next user unpacks the
//! rest when it needs them.

use crate::cache::LayerCache;
use crate::context::BuildContext;
use crate::platforms::{Pending, SharedStages};
use crate::root::BuildRoot;
use crate::source::ImageSource;
use crate::stage::files::StageFiles;
use crate::stage::{build_stage, materialize, Base, Shared, StageOutput};
use crate::stage_plan::StagePlan;
use crate::{BuildError, BuildOptions, BuiltImage};
use dockerfile::Dockerfile;
use image::Platform;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use tracing::{info, info_span, Instrument, Span};

/// One target platform's build (`opts.platform`) in a run of several over the same root:
/// the root is cleared first when an earlier build of the run used it; the stages `shared`
/// holds are built by the first build only. Call [`SharedStages::finish`] after the last.
pub async fn build_platform(
    df: &Dockerfile,
    ctx: &BuildContext,
    source: Arc<dyn ImageSource>,
    cache: Option<&LayerCache>,
    opts: &BuildOptions,
    shared: &SharedStages,
) -> Result<BuiltImage, BuildError> {
    let first = shared.begin_build() == 0;
    let (global, target, mut plan) = StagePlan::for_target(df, opts, &opts.platform)?;
    plan.keep = shared.stages.clone();
    info!("Built cross stage deps: {}", plan.describe());
    if first {
        // The later targets' bases too, concurrently (their shared stages are not theirs).
        for p in shared.platforms.iter().filter(|p| **p != opts.platform) {
            let (_, _, later) = StagePlan::for_target(df, opts, p)?;
            shared.put_bases(p, prefetch(&later, &source, &shared.stages));
        }
    }
    let mut pending = match shared.take_bases(&opts.platform) {
        Some(p) => p,
        None => prefetch(&plan, &source, &Default::default()),
    };
    let sh = Shared {
        df,
        opts,
        ctx,
        source: source.as_ref(),
        deps: &shared.files,
        global: &global,
        cache,
    };
    let result = run_stages(df, &sh, &plan, &mut pending, (shared, first)).await;
    for (_, task) in pending {
        task.abort();
    }
    shared.end_build();
    result.and_then(|mut outputs| {
        outputs
            .remove(&target)
            .map(|o| o.image)
            .ok_or_else(|| BuildError::Other(format!("internal: stage {target} was not built")))
    })
}

/// The stage loop's state: the root, the outputs so far, and which stage the root holds
/// in place.
struct Stages<'a, 'b> {
    shared: &'a Shared<'b>,
    plan: &'a StagePlan,
    root: BuildRoot,
    outputs: HashMap<usize, StageOutput>,
    in_place: Option<usize>,
}

async fn run_stages(
    df: &Dockerfile,
    shared: &Shared<'_>,
    plan: &StagePlan,
    pending: &mut Pending,
    (carried, first): (&SharedStages, bool),
) -> Result<HashMap<usize, StageOutput>, BuildError> {
    let opts = shared.opts;
    let mut root = BuildRoot::new(opts.root.clone(), opts.ignore.clone(), opts.snapshot_mode);
    if !first {
        info!("Deleting filesystem...");
        root.clear()?;
    } else if opts.pre_cleanup {
        info!("Cleaning the filesystem before the build");
        root.clear()?;
    }
    let mut run = Stages {
        shared,
        plan,
        root,
        outputs: HashMap::new(),
        in_place: None,
    };
    let final_chain = plan.final_chain();
    for (pos, &i) in plan.order.iter().enumerate() {
        let stage = &df.stages[i];
        let span = info_span!(
            "Stage",
            kaniko.stage = i,
            kaniko.stage.name = stage.name.as_deref().unwrap_or(""),
            kaniko.stage.base = %plan.base_name[&i],
        );
        if let Some(out) = carried.output(i) {
            info!(
                "Reusing stage {i} as built for {}: it does not depend on the target platform",
                plan.platform[&i]
            );
            run.in_place = None;
            run.forget_unused(pos);
            run.outputs.insert(i, out);
            continue;
        }
        let base = run.base(i, pos, pending, &span).await?;
        let streamed = final_chain.contains(&i);
        let stage_opts = on_platform(opts, &plan.platform[&i]);
        let stage_shared = Shared {
            opts: stage_opts.as_ref().unwrap_or(opts),
            ..*shared
        };
        let mut out = build_stage(stage, base, &stage_shared, &mut run.root, streamed)
            .instrument(span.clone())
            .await?;
        carried.record(i, &out);
        run.hand_on(i, pos, &out)?;
        if opts.materialize && pos + 1 == plan.order.len() {
            materialize(shared.source, &mut out, &mut run.root, opts.unpack)
                .instrument(span)
                .await?;
        }
        run.outputs.insert(i, out);
    }
    Ok(run.outputs)
}

impl Stages<'_, '_> {
    /// What stage `i` (at `pos`) starts from: an earlier stage's output, its files in the
    /// root (in place or restored) when it is their last user, or an image; its waits run
    /// in the stage's `span`.
    async fn base(
        &mut self,
        i: usize,
        pos: usize,
        pending: &mut Pending,
        span: &Span,
    ) -> Result<Base, BuildError> {
        let plan = self.plan;
        let Some(b) = plan.base_stage[&i] else {
            info!(
                "Building stage '{}' [idx: '{i}', base-idx: '-1']",
                plan.base_name[&i]
            );
            return image_base(i, &plan.base_name[&i], pending)
                .instrument(span.clone())
                .await;
        };
        info!(
            "Building stage '{}' [idx: '{i}', base-idx: '{b}']",
            plan.base_name[&i]
        );
        let prev = self.outputs.get(&b).ok_or_else(|| {
            BuildError::Other(format!("internal: stage {b} was not built before {i}"))
        })?;
        let on_disk = if self.in_place == Some(b) {
            prev.on_disk
        } else {
            restore(self.shared.deps, b, pos, plan, &mut self.root)
                .instrument(span.clone())
                .await?
        };
        Ok(Base::Stage {
            image: prev.image.clone(),
            key: prev.key.clone(),
            on_disk,
            scope: Box::new(prev.scope.clone()),
        })
    }

    /// After stage `i` (at `pos`): hands the root on in place to the next stage, stashes
    /// the stage's files for a later reader, or clears the root; forgets the files of
    /// stages no later stage reads.
    fn hand_on(&mut self, i: usize, pos: usize, out: &StageOutput) -> Result<(), BuildError> {
        let (plan, files) = (self.plan, self.shared.deps);
        files.set_key(i, out.key.clone());
        self.in_place = None;
        if let Some(&next) = plan.order.get(pos + 1) {
            if plan.base_stage[&next] == Some(i) && plan.takes_over(i, pos + 1) {
                self.in_place = Some(i);
            } else if plan.used_after(i, pos) {
                files.stash(i, &mut self.root, out.on_disk, out.image.layers.clone())?;
            } else {
                info!("Deleting filesystem...");
                self.root.clear()?;
            }
        }
        self.forget_unused(pos);
        Ok(())
    }

    /// Forgets the files of the stages up to `pos` that no later stage reads.
    fn forget_unused(&self, pos: usize) {
        for j in self.plan.order[..=pos].iter().copied() {
            if !self.plan.used_after(j, pos) {
                self.shared.deps.forget(j);
            }
        }
    }
}

/// Brings stage `b`'s stashed files back into the root when stage at `pos` is their last
/// user; then the stage continues in place (after a fresh baseline walk). Returns how many
/// of its layers the root then holds.
async fn restore(
    files: &StageFiles,
    b: usize,
    pos: usize,
    plan: &StagePlan,
    root: &mut BuildRoot,
) -> Result<Option<usize>, BuildError> {
    if !plan.takes_over(b, pos) {
        return Ok(None);
    }
    let Some(on_disk) = files.restore(b, root)? else {
        return Ok(None);
    };
    root.with_snapshotter(|snap| snap.init_from_walk())
        .await
        .map_err(BuildError::task)??;
    Ok(Some(on_disk))
}

async fn image_base(i: usize, name: &str, pending: &mut Pending) -> Result<Base, BuildError> {
    if name.eq_ignore_ascii_case("scratch") {
        return Ok(Base::Scratch);
    }
    let task = pending
        .remove(&i)
        .ok_or_else(|| BuildError::Other(format!("internal: no base resolved for stage {i}")))?;
    let img = task.await.map_err(BuildError::task)??;
    let digest = img
        .name
        .rsplit_once('@')
        .map_or_else(|| img.name.clone(), |(_, d)| d.to_string());
    Ok(Base::Image {
        image: BuiltImage {
            format: img.format(),
            config: img.config,
            layers: img.layers,
            annotations: Default::default(),
        },
        digest,
    })
}

/// `opts` for a stage that runs on `platform`, when that is not the target's.
fn on_platform(opts: &BuildOptions, platform: &Platform) -> Option<BuildOptions> {
    (opts.platform != *platform).then(|| BuildOptions {
        platform: platform.clone(),
        ..opts.clone()
    })
}

/// Starts resolving every image base at once (each for its stage's platform; none for the
/// stages in `skip`, which another build makes); each stage awaits its own.
fn prefetch(plan: &StagePlan, source: &Arc<dyn ImageSource>, skip: &BTreeSet<usize>) -> Pending {
    let mut tasks = HashMap::new();
    for &i in &plan.order {
        let name = plan.base_name[&i].clone();
        if plan.base_stage[&i].is_some()
            || name.eq_ignore_ascii_case("scratch")
            || skip.contains(&i)
        {
            continue;
        }
        let (source, platform) = (source.clone(), plan.platform[&i].clone());
        let span = info_span!("Retrieving Source Image", kaniko.stage = i, kaniko.image = %name);
        let resolve = async move { Ok(source.resolve(&name, &platform).await?) };
        tasks.insert(i, tokio::spawn(resolve.instrument(span)));
    }
    tasks
}
