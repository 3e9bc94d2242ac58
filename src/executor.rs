//! The executor's run from resolved options to pushed image: checks, context, Dockerfile,
//! build, outputs. Errors end here as one line on stderr and a non-zero exit.

use crate::cli::{Options, SecretSource};
use crate::engine_options::{build_options, known_build_args, remote_options, target_platforms};
use crate::observe::Observer;
use crate::output;
use crate::output::attestations::Predicate;
use crate::registry_client::registry_client;
use crate::startup::{self, Startup};
use crate::{attestations, caching, container, signals};
use anyhow::{anyhow, bail, Context as _};
use engine::{BuildContext, BuildError, BuildOptions, RegistrySource};
use image::Platform;
use registry::{Client, Reference};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use tracing::{debug, error, info, info_span, warn, Instrument};

pub fn main(mut opts: Options) -> ExitCode {
    let resolver = resolve::Resolver::from_system();
    let observer = Observer::install(&opts, &resolver);
    let startup = match prepare(&mut opts, resolver) {
        Ok(s) => s,
        Err(e) => {
            error!("{e:#}");
            return ExitCode::from(1);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            error!("starting the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    signals::become_subreaper();
    let build = observer.start(runtime.handle(), &opts);
    let export_dockerfile = observer.exports_dockerfile();
    let result = runtime.block_on(
        async {
            // On a task of its own: the build may block this one in a RUN.
            let stop = tokio::spawn(signals::stopped());
            tokio::select! {
                r = run(&opts, &startup, export_dockerfile) => r,
                _ = stop => Err(anyhow!("interrupted")),
            }
        }
        .instrument(build.clone()),
    );
    if !opts.dryrun {
        let failure = result.as_ref().err().map(|e| format!("{e:#}"));
        observer.finish(&runtime, build, failure);
    }
    if let Some(sig) = signals::received() {
        return ExitCode::from(u8::try_from(128 + sig).unwrap_or(1));
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("{e:#}");
            let code = e
                .downcast_ref::<BuildError>()
                .and_then(BuildError::exit_code)
                .unwrap_or(1);
            ExitCode::from(u8::try_from(code).ok().filter(|c| *c != 0).unwrap_or(1))
        }
    }
}

/// Before any thread starts: the container check, a `--kaniko-dir` move (which sets
/// environment variables), then the environment read once and the consumed credentials
/// removed from it. `resolver` holds the name-resolution files as `main` read them first.
fn prepare(opts: &mut Options, resolver: resolve::Resolver) -> anyhow::Result<Startup> {
    let env = |k: &str| {
        (k == "container")
            .then(|| opts.env.container.clone())
            .flatten()
    };
    match container::detect(Path::new("/"), &env) {
        Some(why) => debug!("Running inside a container: {why}"),
        None if opts.force => warn!("Kaniko is being run outside of a container. This can have dangerous effects on your system"),
        None => bail!("kaniko should only be run inside of a container, run with the --force flag if you are sure you want to continue"),
    }
    if opts.kaniko_dir != Path::new(crate::cli::DEFAULT_KANIKO_DIR)
        && crate::kaniko_dir::relocate_process(&opts.kaniko_dir)?
    {
        let to = opts.kaniko_dir.clone();
        opts.registry.follow_kaniko_dir(&to);
    }
    if !startup::inspection_forbidden() {
        warn!("the kernel refused PR_SET_DUMPABLE: a RUN may read the executor's environment and memory");
    }
    let startup = Startup::capture(resolver);
    let secret_vars: Vec<&str> = opts
        .secrets
        .iter()
        .filter_map(|s| match &s.source {
            SecretSource::Env(v) => Some(v.as_str()),
            SecretSource::File(_) => None,
        })
        .collect();
    let forgotten = startup.forget_secrets(&secret_vars);
    debug!("removed from the environment once read: {forgotten:?}");
    Ok(startup)
}

async fn run(opts: &Options, startup: &Startup, export_dockerfile: bool) -> anyhow::Result<()> {
    let started = std::time::SystemTime::now();
    let root = PathBuf::from("/");
    let destinations = destinations(opts)?;
    let work = work_dir(opts)?;
    let context_dir = info_span!("Fetching context", kaniko.context = %opts.context.redacted())
        .in_scope(|| context_dir(opts, startup, work.path()))?;
    let dockerfile_path = resolve_dockerfile(&opts.dockerfile, &context_dir)?;
    let df = read_dockerfile(opts, &dockerfile_path, export_dockerfile)?;
    let platforms = target_platforms(&opts.custom_platforms)?;
    let build_args = known_build_args(&opts.build_args);
    if opts.dryrun {
        return print_plan(opts, &df, &build_args, &platforms[0]);
    }
    let ctx = BuildContext::open(&context_dir, Some(&dockerfile_path))?;
    let client = Arc::new(registry_client(opts, startup)?);
    check_push_permission(opts, &client, &destinations).await?;
    let caches = platforms
        .iter()
        .map(|p| caching::layer_cache(opts, &client, &destinations, p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let build_opts = build_options(
        opts,
        startup,
        &root,
        (&context_dir, work.path()),
        platforms[0].clone(),
        build_args,
    )?;
    let facts = match opts.attestations.any() {
        true => Some(attestations::Facts::gather(
            opts,
            &df,
            &dockerfile_path,
            (&context_dir, work.path()),
            started,
        )?),
        false => None,
    };
    let build = Build {
        df: &df,
        ctx: &ctx,
        client,
        destinations,
        work: work.path(),
        facts,
    };
    let targets: Vec<_> = platforms.into_iter().zip(caches).collect();
    build.run(opts, &targets, build_opts).await
}

/// `--destination`s, parsed; none only with `--no-push`.
fn destinations(opts: &Options) -> anyhow::Result<Vec<Reference>> {
    if opts.destinations.is_empty() && !opts.no_push {
        bail!("you must provide --destination, or use --no-push");
    }
    opts.destinations
        .iter()
        .map(|d| {
            d.parse::<Reference>()
                .map_err(|e| anyhow!("invalid --destination {d:?}: {e}"))
        })
        .collect()
}

/// The context directory (see [`contextsrc::ContextSource::prepare`]); the options of a
/// remote fetch are made only for a remote context.
fn context_dir(opts: &Options, startup: &Startup, work: &Path) -> anyhow::Result<PathBuf> {
    let fetch = match opts.context.is_local() {
        true => contextsrc::Options::default(),
        false => remote_options(opts, startup)?,
    };
    let sub_path = opts.context_sub_path.as_deref();
    Ok(opts.context.prepare(sub_path, &fetch, work)?)
}

/// A fresh work directory in the kaniko dir, after putting back what a killed build's
/// `RUN --mount` left.
fn work_dir(opts: &Options) -> anyhow::Result<tempfile::TempDir> {
    for target in engine::steps::mounts::journal::repair(&opts.kaniko_dir) {
        warn!(
            "Put back {}: a RUN --mount of an earlier build that was killed left it",
            target.display()
        );
    }
    engine::work_dir(&opts.kaniko_dir)
        .with_context(|| format!("creating a work directory in {}", opts.kaniko_dir.display()))
}

/// The Dockerfile at `path`, parsed (and described to telemetry).
fn read_dockerfile(
    opts: &Options,
    path: &Path,
    export_dockerfile: bool,
) -> anyhow::Result<dockerfile::Dockerfile> {
    let text =
        std::fs::read(path).with_context(|| format!("reading Dockerfile {}", path.display()))?;
    let text = String::from_utf8_lossy(&text);
    crate::telemetry::describe_build(&text, opts.target.as_deref(), export_dockerfile);
    dockerfile::parse(&text).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// `--dryrun`: the build's plan on stdout, URLs redacted.
fn print_plan(
    opts: &Options,
    df: &dockerfile::Dockerfile,
    build_args: &dockerfile::BuildArgs,
    platform: &Platform,
) -> anyhow::Result<()> {
    let plan = dockerfile::plan(
        df,
        build_args,
        &engine::platform_args(platform),
        opts.target.as_deref(),
    )?;
    for line in plan {
        println!("{}", redact::urls_in(&line));
    }
    Ok(())
}

/// kaniko's check that every destination can be pushed to, unless skipped.
async fn check_push_permission(
    opts: &Options,
    client: &Client,
    destinations: &[Reference],
) -> anyhow::Result<()> {
    if opts.no_push || opts.skip_push_permission_check {
        return Ok(());
    }
    for d in destinations {
        client
            .check_push_permission(d)
            .await
            .with_context(|| format!("checking push permission for {d}"))?;
    }
    Ok(())
}

/// A build ready to run: the Dockerfile, its context, where the image goes.
struct Build<'a> {
    df: &'a dockerfile::Dockerfile,
    ctx: &'a BuildContext,
    client: Arc<Client>,
    destinations: Vec<Reference>,
    work: &'a Path,
    /// Set when attestations are asked for.
    facts: Option<attestations::Facts<'a>>,
}

impl Build<'_> {
    /// Builds for each target platform in turn (each with its layer cache), then writes
    /// the outputs beside the cache writes (the engine waits for them); `--cleanup` last.
    async fn run(
        self,
        opts: &Options,
        targets: &[(Platform, Option<engine::LayerCache>)],
        mut build_opts: BuildOptions,
    ) -> anyhow::Result<()> {
        let client = &self.client;
        // The final images' layers go to the destinations while they are written.
        let streams = (!opts.no_push && !self.destinations.is_empty()).then(|| {
            Arc::new(output::StreamedUploads::new(
                client.clone(),
                self.destinations.clone(),
            ))
        });
        build_opts.uploads = streams.clone().map(|s| engine::Uploads(s));
        let source = caching::base_source(opts, Arc::new(RegistrySource::new(client.clone())));
        let recorded = Arc::new(attestations::RecordedSource::new(source));
        // An SBOM reads the final filesystem: the root must hold all of it.
        build_opts.materialize |= opts.attestations.sbom;
        // Each target's statements while the root holds its filesystem (the next clears it).
        let (mut facts, all) = (self.facts, platforms(targets));
        let after_each = |platform: &Platform, built: &engine::BuiltImage, o: &BuildOptions| {
            let Some(f) = facts.as_mut() else {
                return Ok(Vec::new());
            };
            let bases = engine::base_images(self.df, o, platform)?;
            f.target(platform, &recorded, (&all, &bases));
            tokio::task::block_in_place(|| {
                attestations::predicates(opts, f, &o.root, built, recorded.as_ref())
            })
            .map_err(|e| BuildError::Other(format!("{e:#}")))
        };
        // The outputs run beside the caches' writes; the build returns once both are done
        // and what earlier stages left is removed.
        let (streams, destinations, work) = (&streams, &self.destinations, self.work);
        let outputs = |built: Vec<(engine::BuiltImage, Vec<Predicate>)>| async move {
            let images = platform_images(opts, targets, built, destinations)?;
            if let Some(s) = streams {
                s.settle().await;
            }
            let set = output::ImageSet { images };
            output::write_all(opts, client, &set, destinations, work).await
        };
        let targets: Vec<engine::Target> = targets
            .iter()
            .map(|(p, c)| (p.clone(), c.as_ref()))
            .collect();
        let source = recorded.clone();
        let after = after_each;
        engine::build_targets(
            self.df,
            self.ctx,
            source,
            &targets,
            &build_opts,
            after,
            outputs,
        )
        .await??;
        if opts.cleanup {
            rootfs::clean_root(&build_opts.root, &build_opts.ignore)?;
        }
        Ok(())
    }
}

fn platforms(targets: &[(Platform, Option<engine::LayerCache>)]) -> Vec<Platform> {
    targets.iter().map(|t| t.0.clone()).collect()
}

/// The built images with the run's annotations, each with its platform and its
/// attestations (`predicates` about it); logged by digest when there are several.
fn platform_images(
    opts: &Options,
    targets: &[(Platform, Option<engine::LayerCache>)],
    built: Vec<(engine::BuiltImage, Vec<Predicate>)>,
    destinations: &[Reference],
) -> anyhow::Result<Vec<output::PlatformImage>> {
    let several = targets.len() > 1;
    targets
        .iter()
        .zip(built)
        .map(|((platform, _), (mut built, predicates))| {
            built.annotations.extend(opts.annotations.iter().cloned());
            let mut image = output::PlatformImage::new(platform.clone(), built);
            if several {
                info!("Built {platform}: {}", image.fin.digest);
            }
            image.attest(destinations, &predicates)?;
            Ok(image)
        })
        .collect()
}

/// `--dockerfile` as kaniko resolves it: absolute, relative to the working directory if it
/// exists there, else relative to the context.
fn resolve_dockerfile(flag: &str, context: &Path) -> anyhow::Result<PathBuf> {
    let p = Path::new(flag);
    let candidates = if p.is_absolute() {
        vec![p.to_path_buf()]
    } else {
        vec![context.join(p), p.to_path_buf()]
    };
    candidates
        .into_iter()
        .find(|c| c.is_file())
        .ok_or_else(|| anyhow!("please provide a valid path to a Dockerfile within the build context with --dockerfile: {flag} not found"))
}
