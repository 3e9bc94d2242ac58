//! The executor's run from resolved options to pushed image: checks, context, Dockerfile,
//! build, outputs. Errors end here as one line on stderr and a non-zero exit.

use crate::cli::{
    Compression, ContextSource, Options, RegistryOptions, Secret, SecretSource, SnapshotMode,
};
use crate::observe::Observer;
use crate::output;
use crate::startup::{self, Startup};
use crate::{caching, container, signals};
use anyhow::{anyhow, bail, Context as _};
use engine::{BuildContext, BuildError, BuildOptions, RegistrySource};
use image::Platform;
use registry::{Client, Keychain, Reference};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use tracing::{debug, error, info_span, warn, Instrument};

pub fn main(opts: Options) -> ExitCode {
    let resolver = resolve::Resolver::from_system();
    let observer = Observer::install(&opts, &resolver);
    let startup = match prepare(&opts, resolver) {
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
    let build = observer.start(runtime.handle());
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
fn prepare(opts: &Options, resolver: resolve::Resolver) -> anyhow::Result<Startup> {
    match container::detect(Path::new("/"), &|k| std::env::var(k).ok()) {
        Some(why) => debug!("Running inside a container: {why}"),
        None if opts.force => warn!("Kaniko is being run outside of a container. This can have dangerous effects on your system"),
        None => bail!("kaniko should only be run inside of a container, run with the --force flag if you are sure you want to continue"),
    }
    if opts.kaniko_dir != Path::new(crate::cli::DEFAULT_KANIKO_DIR) {
        crate::kaniko_dir::relocate_process(&opts.kaniko_dir)?;
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
    let root = PathBuf::from("/");
    if opts.destinations.is_empty() && !opts.no_push {
        bail!("you must provide --destination, or use --no-push");
    }
    let destinations = opts
        .destinations
        .iter()
        .map(|d| {
            d.parse::<Reference>()
                .map_err(|e| anyhow!("invalid --destination {d:?}: {e}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;

    for target in engine::steps::mounts::journal::repair(&opts.kaniko_dir) {
        warn!(
            "Put back {}: a RUN --mount of an earlier build that was killed left it",
            target.display()
        );
    }
    let work = engine::work_dir(&opts.kaniko_dir)
        .with_context(|| format!("creating a work directory in {}", opts.kaniko_dir.display()))?;
    let context_dir = info_span!("Fetching context", kaniko.context = %opts.context.redacted())
        .in_scope(|| prepare_context(opts, startup, work.path()))?;
    let dockerfile_path = resolve_dockerfile(&opts.dockerfile, &context_dir)?;
    let text = std::fs::read(&dockerfile_path)
        .with_context(|| format!("reading Dockerfile {}", dockerfile_path.display()))?;
    let text = String::from_utf8_lossy(&text);
    crate::telemetry::describe_build(&text, opts.target.as_deref(), export_dockerfile);
    let df = dockerfile::parse(&text).map_err(|e| anyhow!("{}: {e}", dockerfile_path.display()))?;
    let platform = target_platform(opts.custom_platform.as_deref())?;
    let build_args = known_build_args(&opts.build_args);
    if opts.dryrun {
        let plan = dockerfile::plan(
            &df,
            &build_args,
            &engine::platform_args(&platform),
            opts.target.as_deref(),
        )?;
        for line in plan {
            println!("{}", redact::urls_in(&line));
        }
        return Ok(());
    }
    let ctx = BuildContext::open(&context_dir, Some(&dockerfile_path))?;

    let client = Arc::new(registry_client(opts, startup)?);
    if !opts.no_push && !opts.skip_push_permission_check {
        for d in &destinations {
            client
                .check_push_permission(d)
                .await
                .with_context(|| format!("checking push permission for {d}"))?;
        }
    }
    let cache = caching::layer_cache(opts, &client, &destinations, &platform, work.path())?;
    let mut build_opts = build_options(
        opts,
        startup,
        &root,
        (&context_dir, work.path()),
        platform,
        build_args,
    )?;
    // The final image's layers go to the destinations while they are written.
    let streams = (!opts.no_push && !destinations.is_empty()).then(|| {
        Arc::new(output::StreamedUploads::new(
            client.clone(),
            destinations.clone(),
        ))
    });
    build_opts.uploads = streams.clone().map(|s| engine::Uploads(s));
    let source = caching::base_source(opts, Arc::new(RegistrySource::new(client.clone())));
    let built = engine::build_cached(&df, &ctx, source, cache.as_ref(), &build_opts).await;
    let mut cleanup = None;
    let outputs = async {
        let (mut built, stages) = built?;
        cleanup = Some(stages);
        built.annotations.extend(opts.annotations.iter().cloned());
        if let Some(s) = &streams {
            s.settle().await;
        }
        output::write_all(opts, &client, &built, &destinations, work.path()).await
    };
    let pushed = caching::beside_cache_writes(cache.as_ref(), outputs).await;
    // What earlier stages left was removed while the push ran; done before the exit.
    if let Some(c) = cleanup {
        tokio::task::block_in_place(|| c.wait());
    }
    pushed?;
    if opts.cleanup {
        rootfs::clean_root(&root, &build_opts.ignore)?;
    }
    Ok(())
}

/// `--custom-platform`, else this machine's.
pub(crate) fn target_platform(custom: Option<&str>) -> anyhow::Result<Platform> {
    Ok(match custom {
        Some(p) => Platform::parse(p)
            .ok_or_else(|| anyhow!("invalid --custom-platform {p:?}: want os/arch[/variant]"))?,
        None => Platform {
            os: "linux".into(),
            architecture: engine::host_arch().into(),
            variant: None,
            os_version: None,
        },
    })
}

/// The build args that have a value (`--build-arg K` takes it from the environment).
pub(crate) fn known_build_args(args: &[(String, Option<String>)]) -> dockerfile::BuildArgs {
    dockerfile::BuildArgs::new(
        args.iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v))),
    )
}

/// The engine's options from the command line's.
fn build_options(
    opts: &Options,
    startup: &Startup,
    root: &Path,
    (context_dir, work): (&Path, &Path),
    platform: Platform,
    build_args: dockerfile::BuildArgs,
) -> anyhow::Result<BuildOptions> {
    Ok(BuildOptions {
        root: root.to_path_buf(),
        work_dir: work.to_path_buf(),
        platform,
        build_args,
        target: opts.target.clone(),
        skip_unused_stages: opts.skip_unused_stages,
        snapshot_mode: match (opts.snapshot_mode, opts.use_new_run) {
            (_, true) | (SnapshotMode::Time, _) => rootfs::SnapshotMode::Time,
            (SnapshotMode::Redo, _) => rootfs::SnapshotMode::Redo,
            (SnapshotMode::Full, _) => rootfs::SnapshotMode::Full,
        },
        single_snapshot: opts.single_snapshot,
        layer: rootfs::LayerOptions {
            compression: match opts.compression {
                Compression::Gzip => rootfs::Compression::Gzip,
                Compression::Zstd => rootfs::Compression::Zstd,
            },
            level: opts.compression_level,
            reproducible: opts.reproducible,
        },
        reproducible: opts.reproducible,
        ignore: ignore_list(opts, root, context_dir)?,
        labels: opts.labels.clone(),
        image_format: opts.image_format,
        force_build_metadata: opts.force_build_metadata,
        unpack: engine::UnpackLimits {
            retries: opts.image_fs_extract_retry,
            max_expansion: max_layer_expansion()?,
            floor: engine::UnpackLimits::FLOOR,
        },
        hash_sources: opts.cache.enabled,
        materialize: opts.materialize,
        pre_cleanup: opts.pre_cleanup,
        cache_mounts: opts.kaniko_dir.join("caches"),
        secrets: read_secrets(&opts.secrets, startup)?,
        ssh_agent: std::env::var_os("SSH_AUTH_SOCK")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from),
        uploads: None,
        remote: remote_options(opts, startup)?,
    })
}

/// `KANIKO_MAX_LAYER_EXPANSION`: how many times its compressed size a layer may expand to
/// when unpacked (0: no bound).
fn max_layer_expansion() -> anyhow::Result<u64> {
    const VAR: &str = "KANIKO_MAX_LAYER_EXPANSION";
    match std::env::var(VAR) {
        Ok(v) => v
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("{VAR}={v:?}: want a whole number (0: no bound)")),
        Err(_) => Ok(engine::UnpackLimits::DEFAULT_EXPANSION),
    }
}

/// The largest secret, as BuildKit bounds them.
const MAX_SECRET: u64 = 500 * 1024;

/// `--secret` values, read once before the build: a file (at most 500 KiB) or a variable of
/// the executor's environment at start. Errors name the id and the source, never the value.
fn read_secrets(
    secrets: &[Secret],
    startup: &Startup,
) -> anyhow::Result<BTreeMap<String, engine::SecretValue>> {
    use std::io::Read;
    let mut out = BTreeMap::new();
    for s in secrets {
        let bytes = match &s.source {
            SecretSource::File(p) => {
                let mut buf = Vec::new();
                std::fs::File::open(p)
                    .and_then(|f| f.take(MAX_SECRET + 1).read_to_end(&mut buf))
                    .with_context(|| format!("--secret id={}: reading {}", s.id, p.display()))?;
                buf
            }
            SecretSource::Env(var) => startup
                .var(var)
                .ok_or_else(|| anyhow!("--secret id={}: variable {var} is not set", s.id))?
                .as_bytes()
                .to_vec(),
        };
        if bytes.len() as u64 > MAX_SECRET {
            bail!("--secret id={}: larger than {MAX_SECRET} bytes", s.id);
        }
        out.insert(s.id.clone(), engine::SecretValue::new(bytes));
    }
    Ok(out)
}

/// What remote contexts and `ADD <git URL>` fetch with: flags, the environment at start,
/// the resolver, and where git credentials may go.
fn remote_options(opts: &Options, startup: &Startup) -> anyhow::Result<contextsrc::Options> {
    Ok(contextsrc::Options {
        credential_origins: git_credential_origins(opts, startup),
        expansion: contextsrc::Expansion {
            ratio: max_layer_expansion()?,
            floor: engine::UnpackLimits::FLOOR,
        },
        ..opts.remote_context_options(
            contextsrc::Env::from_pairs(startup.vars()),
            startup.resolver.clone(),
        )
    })
}

/// Where `GIT_TOKEN`, `GIT_USERNAME` and `GIT_PASSWORD` may go: the git context's origin
/// (https, or http with `GIT_PULL_METHOD=http`) and the `[scheme://]host[:port]` entries of
/// `KANIKO_GIT_CREDENTIAL_HOSTS` (comma-separated).
fn git_credential_origins(opts: &Options, startup: &Startup) -> Vec<String> {
    let mut out: Vec<String> = startup
        .var("KANIKO_GIT_CREDENTIAL_HOSTS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(str::to_string)
        .collect();
    if let ContextSource::Git { repo, .. } = &opts.context {
        let scheme = match startup.var("GIT_PULL_METHOD") {
            Some("http") => "http",
            _ => "https",
        };
        let authority = repo.split('/').next().unwrap_or(repo);
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        out.push(format!("{scheme}://{host}"));
    }
    out
}

/// The context directory: a local directory as is, a tar archive unpacked into the work dir.
fn prepare_context(opts: &Options, startup: &Startup, work: &Path) -> anyhow::Result<PathBuf> {
    let dir = match &opts.context {
        ContextSource::Dir(p) => p.clone(),
        ContextSource::Tar(path) => {
            let f = std::fs::File::open(path)
                .with_context(|| format!("opening context archive {}", path.display()))?;
            unpack_context(f, work)?
        }
        ContextSource::TarStdin => unpack_context(std::io::stdin(), work)?,
        remote => fetch_remote_context(remote, &remote_options(opts, startup)?, work)?,
    };
    let dir = match &opts.context_sub_path {
        Some(sub) if !sub.is_empty() => dir.join(sub),
        _ => dir,
    };
    let missing = matches!(opts.context, ContextSource::Dir(_))
        && matches!(dir.symlink_metadata(), Err(e) if e.kind() == std::io::ErrorKind::NotFound);
    if missing {
        // kaniko only reads a directory context when COPY or ADD needs a file from it.
        warn!("Build context directory {} does not exist: building without one; COPY and ADD will find no files", dir.display());
        let empty = work.join("context");
        std::fs::create_dir_all(&empty)?;
        return Ok(empty);
    }
    Ok(dir)
}

/// A git repository or a downloaded archive, unpacked into the work dir.
fn fetch_remote_context(
    src: &ContextSource,
    opts: &contextsrc::Options,
    work: &Path,
) -> anyhow::Result<PathBuf> {
    let source = src
        .remote()?
        .ok_or_else(|| anyhow!("not a remote context"))?;
    let dir = work.join("context");
    tracing::debug!("Getting source context from {}", source.display());
    contextsrc::fetch(&source, opts, &dir)?;
    Ok(dir)
}

fn unpack_context(r: impl std::io::Read + Send, work: &Path) -> anyhow::Result<PathBuf> {
    let dir = work.join("context");
    std::fs::create_dir_all(&dir)?;
    let input = rootfs::decompressor(std::io::BufReader::new(r))?;
    rootfs::extract_layer(
        crate::tar_end::TarEnd::new(input),
        &dir,
        &rootfs::IgnoreList::new(Vec::<PathBuf>::new()),
        None,
    )
    .context("unpacking the build context")?;
    Ok(dir)
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

/// The registry client: flags, `KANIKO_REGISTRY_*` limits, the Docker config's
/// credentials with their helper programs resolved now, before any base image is unpacked
/// over the root (in the kaniko directory, then on PATH as it is at start), and the
/// built-in helpers `--credential-helpers` enables (their environment read now too).
fn registry_client(opts: &Options, startup: &Startup) -> anyhow::Result<Client> {
    let config = docker_config_dir(&opts.kaniko_dir);
    client_for(
        &opts.registry,
        opts.push_retry,
        (&opts.kaniko_dir, &config),
        startup,
    )
}

/// A registry client with these options, the Docker config in `config_dir` and credential
/// helpers from `kaniko_dir` first (the executor's and the warmer's).
pub(crate) fn client_for(
    registry: &RegistryOptions,
    push_retry: u32,
    (kaniko_dir, config_dir): (&Path, &Path),
    startup: &Startup,
) -> anyhow::Result<Client> {
    let tuning = registry::Tuning::from_env(&|k| std::env::var(k).ok())?;
    let mut helper_dirs = vec![kaniko_dir.to_path_buf()];
    helper_dirs.extend(
        registry::default_helper_dirs()
            .into_iter()
            .filter(|d| d != kaniko_dir),
    );
    let builtins = registry::Builtins::new(
        registry.credential_helpers.as_deref(),
        startup.vars().collect(),
    );
    tracing::debug!("built-in credential helpers: {:?}", builtins.names());
    let keychain =
        Keychain::from_dir_with_helper_dirs(config_dir, &helper_dirs)?.with_builtins(builtins);
    let options = registry_options(registry, push_retry, &startup.resolver);
    Ok(Client::with_tuning(options, keychain, tuning)?)
}

fn registry_options(
    r: &RegistryOptions,
    push_retry: u32,
    resolver: &resolve::Resolver,
) -> registry::Options {
    registry::Options {
        insecure_push: r.insecure,
        insecure_pull: r.insecure_pull,
        insecure_registries: r.insecure_registries.clone(),
        skip_tls_verify_push: r.skip_tls_verify,
        skip_tls_verify_pull: r.skip_tls_verify_pull,
        skip_tls_verify_registries: r.skip_tls_verify_registries.clone(),
        ca_certs: r.registry_certificates.clone(),
        client_certs: r.registry_client_certs.clone(),
        mirrors: r.registry_mirrors.clone(),
        registry_maps: r.registry_maps.clone(),
        skip_default_fallback: r.skip_default_registry_fallback,
        pull_retries: r.image_download_retry,
        push_retries: push_retry,
        resolver: resolver.clone(),
    }
}

pub(crate) fn docker_config_dir(kaniko_dir: &Path) -> PathBuf {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => kaniko_dir.join(".docker"),
    }
}

/// Paths never unpacked over, snapshotted nor written: every mount point, the context,
/// the kaniko dir, `--ignore-path`, /var/run. Without a readable mount table the build
/// could write over a mounted volume, so that is an error.
fn ignore_list(opts: &Options, root: &Path, context: &Path) -> anyhow::Result<rootfs::IgnoreList> {
    let mut paths: Vec<PathBuf> = Vec::new();
    if root == Path::new("/") {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
            .context("reading /proc/self/mountinfo (the mounted paths a build must not touch)")?;
        paths.extend(
            rootfs::IgnoreList::from_mountinfo(&mountinfo)
                .into_iter()
                .filter(|p| p != Path::new("/")),
        );
        paths.push(context.to_path_buf());
    }
    paths.extend(["/proc", "/sys", "/dev"].map(PathBuf::from));
    paths.push(opts.kaniko_dir.clone());
    paths.extend(opts.ignore_paths.iter().map(PathBuf::from));
    paths.extend(caching::cache_paths(opts));
    if opts.ignore_var_run {
        paths.push("/var/run".into());
    }
    Ok(rootfs::IgnoreList::new(paths))
}
