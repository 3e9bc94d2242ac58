//! The stage graph: which stages run (every stage up to the target, as kaniko does, or
//! only those it needs with `--skip-unused-stages`), in order, over one root. Every image
//! base is resolved up front, concurrently. Between stages the root is handed on in place
//! (the next stage is `FROM` this one and nothing else reads it), stashed outside the root
//! (a later stage copies from it or starts from it), or cleared. With a layer cache, a
//! stage may hand on fewer layers on disk than it has (or none): the next user unpacks the
//! rest when it needs them.

use crate::cache::LayerCache;
use crate::context::BuildContext;
use crate::root::RootFs;
use crate::source::{ImageSource, SourceImage};
use crate::stage::{build_stage, materialize, Base, Shared, StageOutput};
use crate::stage_files::{Cleanup, StageFiles};
use crate::{platform_args, BuildError, BuildOptions, BuiltImage};
use dockerfile::{Dockerfile, GlobalScope};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tokio::task::JoinHandle;
use tracing::{info, info_span, Instrument};

/// Builds the target stage of `df` (and the stages before it) and returns its image.
pub async fn build(
    df: &Dockerfile,
    ctx: &BuildContext,
    source: Arc<dyn ImageSource>,
    opts: &BuildOptions,
) -> Result<BuiltImage, BuildError> {
    let (image, cleanup) = build_cached(df, ctx, source, None, opts).await?;
    tokio::task::block_in_place(|| cleanup.wait());
    Ok(image)
}

/// [`build`] with a layer cache: steps that hit are not run. The cache's writes may still
/// be running when this returns: wait for them with [`LayerCache::finish`]; and so may the
/// removal of what earlier stages left under the work directory: wait for it with
/// [`Cleanup::wait`] once the image is pushed.
pub async fn build_cached(
    df: &Dockerfile,
    ctx: &BuildContext,
    source: Arc<dyn ImageSource>,
    cache: Option<&LayerCache>,
    opts: &BuildOptions,
) -> Result<(BuiltImage, Cleanup), BuildError> {
    let pargs = platform_args(&opts.platform);
    let global = GlobalScope::with_escape(&df.meta_args, &opts.build_args, &pargs, df.escape)?;
    let target = df.target(opts.target.as_deref())?;
    let order: Vec<usize> = if opts.skip_unused_stages {
        df.required_stages(target, &global)?.into_iter().collect()
    } else {
        (0..=target).collect()
    };
    let plan = Plan::new(df, &global, &order)?;
    info!("Built cross stage deps: {}", plan.describe());
    let mut pending = prefetch(&plan, &source, opts);
    let files = StageFiles::new(&opts.work_dir);
    let shared = Shared {
        df,
        opts,
        ctx,
        source: source.as_ref(),
        deps: &files,
        global: &global,
        cache,
    };
    let result = run_stages(df, &shared, &plan, &mut pending).await;
    for (_, task) in pending {
        task.abort();
    }
    let cleanup = files.finish();
    let image = result.and_then(|mut outputs| {
        outputs
            .remove(&target)
            .map(|o| o.image)
            .ok_or_else(|| BuildError::Other(format!("internal: stage {target} was not built")))
    });
    match image {
        Ok(image) => Ok((image, cleanup)),
        Err(e) => {
            tokio::task::block_in_place(|| cleanup.wait());
            Err(e)
        }
    }
}

async fn run_stages(
    df: &Dockerfile,
    shared: &Shared<'_>,
    plan: &Plan,
    pending: &mut HashMap<usize, JoinHandle<Result<SourceImage, BuildError>>>,
) -> Result<HashMap<usize, StageOutput>, BuildError> {
    let (opts, files) = (shared.opts, shared.deps);
    let mut root = RootFs::new(opts.root.clone(), opts.ignore.clone(), opts.snapshot_mode);
    if opts.pre_cleanup {
        info!("Cleaning the filesystem before the build");
        root.clear()?;
    }
    let mut outputs: HashMap<usize, StageOutput> = HashMap::new();
    let mut in_place: Option<usize> = None;
    // The final image holds the layers of the target and of the stages it is FROM.
    let mut final_chain = Vec::new();
    let mut next = plan.order.last().copied();
    while let Some(i) = next {
        final_chain.push(i);
        next = plan.base_stage.get(&i).copied().flatten();
    }
    for (pos, &i) in plan.order.iter().enumerate() {
        let stage = &df.stages[i];
        let span = info_span!(
            "Stage",
            kaniko.stage = i,
            kaniko.stage.name = stage.name.as_deref().unwrap_or(""),
            kaniko.stage.base = %plan.base_name[&i],
        );
        let base = match plan.base_stage[&i] {
            Some(b) => {
                info!(
                    "Building stage '{}' [idx: '{i}', base-idx: '{b}']",
                    plan.base_name[&i]
                );
                let prev = outputs.get(&b).ok_or_else(|| {
                    BuildError::Other(format!("internal: stage {b} was not built before {i}"))
                })?;
                let on_disk = if in_place == Some(b) {
                    prev.on_disk
                } else {
                    restore(files, b, pos, plan, &mut root)
                        .instrument(span.clone())
                        .await?
                };
                Base::Stage {
                    image: prev.image.clone(),
                    key: prev.key.clone(),
                    on_disk,
                    scope: Box::new(prev.scope.clone()),
                }
            }
            None => {
                info!(
                    "Building stage '{}' [idx: '{i}', base-idx: '-1']",
                    plan.base_name[&i]
                );
                image_base(i, &plan.base_name[&i], pending)
                    .instrument(span.clone())
                    .await?
            }
        };
        let streamed = final_chain.contains(&i);
        let mut out = build_stage(stage, base, shared, &mut root, streamed)
            .instrument(span.clone())
            .await?;
        files.set_key(i, out.key.clone());
        in_place = None;
        if let Some(&next) = plan.order.get(pos + 1) {
            if plan.base_stage[&next] == Some(i) && plan.takes_over(i, pos + 1) {
                in_place = Some(i);
            } else if plan.used_after(i, pos) {
                files.stash(i, &mut root, out.on_disk, out.image.layers.clone())?;
            } else {
                info!("Deleting filesystem...");
                root.clear()?;
            }
        }
        for j in plan.order[..=pos].iter().copied() {
            if !plan.used_after(j, pos) {
                files.forget(j);
            }
        }
        if opts.materialize && pos + 1 == plan.order.len() {
            materialize(shared.source, &mut out, &mut root, opts.unpack)
                .instrument(span)
                .await?;
        }
        outputs.insert(i, out);
    }
    Ok(outputs)
}

/// Brings stage `b`'s stashed files back into the root when stage at `pos` is their last
/// user; then the stage continues in place (after a fresh baseline walk). Returns how many
/// of its layers the root then holds.
async fn restore(
    files: &StageFiles,
    b: usize,
    pos: usize,
    plan: &Plan,
    root: &mut RootFs,
) -> Result<Option<usize>, BuildError> {
    if !plan.takes_over(b, pos) {
        return Ok(None);
    }
    let Some(on_disk) = files.restore(b, root)? else {
        return Ok(None);
    };
    let mut snap = root.take_snapshotter();
    let snap = tokio::task::spawn_blocking(move || snap.init_from_walk().map(|_| snap))
        .await
        .map_err(BuildError::task)??;
    root.put_snapshotter(snap);
    Ok(Some(on_disk))
}

async fn image_base(
    i: usize,
    name: &str,
    pending: &mut HashMap<usize, JoinHandle<Result<SourceImage, BuildError>>>,
) -> Result<Base, BuildError> {
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

/// Starts resolving every image base at once; each stage awaits its own.
fn prefetch(
    plan: &Plan,
    source: &Arc<dyn ImageSource>,
    opts: &BuildOptions,
) -> HashMap<usize, JoinHandle<Result<SourceImage, BuildError>>> {
    let mut tasks = HashMap::new();
    for &i in &plan.order {
        let name = plan.base_name[&i].clone();
        if plan.base_stage[&i].is_some() || name.eq_ignore_ascii_case("scratch") {
            continue;
        }
        let (source, platform) = (source.clone(), opts.platform.clone());
        let span = info_span!("Retrieving Source Image", kaniko.stage = i, kaniko.image = %name);
        let resolve = async move { Ok(source.resolve(&name, &platform).await?) };
        tasks.insert(i, tokio::spawn(resolve.instrument(span)));
    }
    tasks
}

/// Who starts from whom and who reads whose files.
struct Plan {
    order: Vec<usize>,
    base_name: HashMap<usize, String>,
    /// The earlier stage a stage is `FROM`, if any.
    base_stage: HashMap<usize, Option<usize>>,
    /// For each stage, the positions in `order` of the stages that read it.
    users: BTreeMap<usize, Vec<usize>>,
    /// For each stage, the positions of the stages that copy or mount its files.
    copiers: BTreeMap<usize, Vec<usize>>,
    /// For each stage, the paths later stages name in it, as written (for the log).
    copied: BTreeMap<usize, Vec<String>>,
}

impl Plan {
    fn new(df: &Dockerfile, global: &GlobalScope, order: &[usize]) -> Result<Plan, BuildError> {
        let mut plan = Plan {
            order: order.to_vec(),
            base_name: HashMap::new(),
            base_stage: HashMap::new(),
            users: BTreeMap::new(),
            copiers: BTreeMap::new(),
            copied: BTreeMap::new(),
        };
        for (pos, &i) in order.iter().enumerate() {
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

    /// Whether a stage at a position after `pos` reads stage `i`.
    fn used_after(&self, i: usize, pos: usize) -> bool {
        self.users
            .get(&i)
            .is_some_and(|u| u.iter().any(|p| *p > pos))
    }

    /// Whether the stage at `pos` copies or mounts stage `i`'s files.
    fn copies_at(&self, i: usize, pos: usize) -> bool {
        self.copiers.get(&i).is_some_and(|u| u.contains(&pos))
    }

    /// Whether the stage at `pos` can take over stage `i`'s root as its own.
    fn takes_over(&self, i: usize, pos: usize) -> bool {
        !self.copies_at(i, pos) && !self.used_after(i, pos)
    }

    /// kaniko's log form: `map[0:[/app /etc/x]]` (stage → the paths later stages copy
    /// from it).
    fn describe(&self) -> String {
        let parts: Vec<String> = self
            .copied
            .iter()
            .map(|(i, paths)| format!("{i}:[{}]", paths.join(" ")))
            .collect();
        format!("map[{}]", parts.join(" "))
    }
}
