//! One stage: start from its base (scratch, an image, or an earlier stage), unpack it when
//! an instruction needs the filesystem, run each instruction as a step, snapshot after each
//! one that touched the filesystem, and collect layers, history and cache keys. With a
//! layer cache, a step whose key hits takes its layer from the cache instead of running,
//! and the filesystem is unpacked only when a step must really run (`cache.rs`).

mod cache;
pub(crate) mod files;
mod key;
mod snapshot;
pub(crate) mod state;

pub(crate) use cache::materialize;
pub use state::{Shared, StageOutput, StageState};

use crate::built::BuiltImage;
use crate::key::{CacheKey, KeyChain};
use crate::root::BuildRoot;
use crate::steps::run::DEFAULT_PATH;
use crate::steps::{self, meta::MetaState, Snap};
use crate::{clock, BuildError, BuildOptions};
use dockerfile::{Command, Instruction, Stage, StageScope};
use image::{Format, ImageConfig};
use std::time::SystemTime;
use tracing::field::Empty;
use tracing::{info, info_span, Instrument, Span};

/// What a stage starts from.
pub enum Base {
    Scratch,
    /// An image from a source: its layers, config and format; `digest` starts the key chain.
    Image {
        image: BuiltImage,
        digest: String,
    },
    /// An earlier stage's result; `on_disk`: how many of its layers the root still holds
    /// (with their snapshot table), `None` when it holds none of its files; `scope`: its
    /// variables at its end, which this stage starts with (ENV and ARG values alike).
    Stage {
        image: BuiltImage,
        key: CacheKey,
        on_disk: Option<usize>,
        scope: Box<StageScope>,
    },
}

/// Builds `stage` from `base` in `root`. A stage no instruction of which needs the
/// filesystem is not unpacked: a later stage that copies its files has its layers unpacked
/// for that (`files.rs`). `streamed`: its layers belong to the final image, and go to the
/// build's uploads as they are written.
pub async fn build_stage(
    stage: &Stage,
    base: Base,
    sh: &Shared<'_>,
    root: &mut BuildRoot,
    streamed: bool,
) -> Result<StageOutput, BuildError> {
    let opts = sh.opts;
    let (image, chain_from, on_disk, inherited) = match base {
        Base::Scratch => {
            info!("No base image, nothing to extract");
            (scratch(opts), "scratch".to_string(), None, None)
        }
        Base::Image { image, digest } => (image, digest, None, None),
        Base::Stage {
            image,
            key,
            on_disk,
            scope,
        } => (image, key.0.to_string(), on_disk, Some(*scope)),
    };
    let mut config = image.config.clone();
    if !config.config.env_pairs().iter().any(|(k, _)| k == "PATH") {
        let env = config.config.env.get_or_insert_with(Vec::new);
        env.insert(0, format!("PATH={DEFAULT_PATH}"));
    }
    let format = opts.image_format.unwrap_or(image.format);
    let commands = with_triggers(&mut config, stage)?;
    let mut st = StageState {
        sh,
        index: stage.index,
        // A stage FROM a stage starts with its ARG values too, as in BuildKit.
        scope: inherited.unwrap_or_else(|| StageScope::new(sh.global, &config.config.env_pairs())),
        meta: MetaState::new(&config),
        config,
        layers: image.layers.clone(),
        created: if opts.reproducible {
            clock::EPOCH.to_string()
        } else {
            clock::rfc3339(SystemTime::now(), false)
        },
        keys: KeyChain::new(&chain_from, &opts.platform),
        root,
        // One layer for the whole stage leaves nothing to cache step by step.
        cache: sh.cache.filter(|_| !opts.single_snapshot),
        on_disk,
        uploads: opts.uploads.clone().filter(|_| streamed),
    };
    st.prepare_fs(&commands).await?;
    for (index, cmd) in commands.iter().enumerate() {
        let span = command_span(cmd, index);
        st.execute(cmd).instrument(span).await?;
    }
    if opts.single_snapshot {
        st.snapshot(None, "single snapshot".into()).await?;
    }
    Ok(st.finish(format))
}

/// The trace span of one instruction (the maintained kaniko fork's `Command` span and
/// attributes; the cache fields are recorded when the step is looked up).
fn command_span(cmd: &Command, index: usize) -> Span {
    let phase = match cmd.instruction {
        Instruction::Run(_) => "build",
        _ => "kaniko",
    };
    info_span!(
        "Command",
        kaniko.command = %redact::urls_in(&cmd.original),
        kaniko.phase = phase,
        kaniko.instruction.index = index,
        kaniko.instruction.line = cmd.line,
        kaniko.cache.hit = Empty,
        kaniko.cache.key = Empty,
    )
}

/// An empty image for the build platform; its working directory is `/`, as BuildKit's
/// `emptyImage` has it (the default PATH is added for every stage that lacks one).
fn scratch(opts: &BuildOptions) -> BuiltImage {
    let mut config = ImageConfig {
        architecture: opts.platform.architecture.clone(),
        os: opts.platform.os.clone(),
        variant: opts.platform.variant.clone(),
        ..Default::default()
    };
    config.config.working_dir = Some("/".into());
    BuiltImage {
        format: Format::Docker,
        config,
        layers: Vec::new(),
        annotations: Default::default(),
    }
}

/// The base image's ONBUILD triggers (run first), then the stage's own instructions.
fn with_triggers(config: &mut ImageConfig, stage: &Stage) -> Result<Vec<Command>, BuildError> {
    let triggers = config.config.on_build.take().unwrap_or_default();
    info!("Executing {} build triggers", triggers.len());
    let mut commands: Vec<Command> = Vec::new();
    for t in &triggers {
        let df = dockerfile::parse(&format!("FROM scratch\n{t}\n"))?;
        commands.extend(df.stages.into_iter().flat_map(|s| s.commands));
    }
    commands.extend(stage.commands.iter().cloned());
    Ok(commands)
}

impl StageState<'_> {
    /// Without a cache, unpacks the base now when some instruction needs the filesystem
    /// (unless the root holds it already); with one, at the first step that must run.
    async fn prepare_fs(&mut self, commands: &[Command]) -> Result<(), BuildError> {
        let Some(cmd) = commands.iter().find(|c| steps::needs_fs(&c.instruction)) else {
            info!("Skipping unpacking as no commands require it.");
            return Ok(());
        };
        if self.cache.is_none() {
            self.ensure_fs(cmd).await?;
        }
        Ok(())
    }

    async fn execute(&mut self, cmd: &Command) -> Result<(), BuildError> {
        let instr = self.scope.expand(cmd)?;
        info!("{}", cmd.original);
        self.scope.apply(&instr);
        if !steps::needs_fs(&instr) {
            return self.run_step(cmd, &instr).await;
        }
        let keys = self.key(cmd, &instr).await?;
        if let Some(k) = &keys {
            if self.use_cached(cmd, &instr, &k.lookup).await {
                self.keys.advance(k.chain.clone());
                return Ok(());
            }
        }
        self.ensure_fs(cmd).await?;
        let before = self.layers.len();
        self.run_step(cmd, &instr).await?;
        self.on_disk = Some(self.layers.len());
        let key = match keys {
            Some(k) => {
                self.store_result(cmd, &instr, &k.lookup, before);
                k.chain
            }
            None => self.output_key(&instr, before),
        };
        self.keys.advance(key);
        Ok(())
    }

    /// Applies a step and snapshots what it changed.
    async fn run_step(&mut self, cmd: &Command, instr: &Instruction) -> Result<(), BuildError> {
        let phase = match instr {
            Instruction::Run(_) => "build",
            _ => "kaniko",
        };
        let applied = steps::apply(self, cmd, instr)
            .instrument(info_span!("Execute", kaniko.phase = phase))
            .await?;
        match applied {
            Snap::Config => {
                if self.sh.opts.force_build_metadata {
                    self.history(cmd.original.clone(), true);
                }
            }
            Snap::Full => self.snapshot(None, cmd.original.clone()).await?,
            Snap::Paths(p) => self.snapshot(Some(p), cmd.original.clone()).await?,
        }
        Ok(())
    }

    fn finish(mut self, format: Format) -> StageOutput {
        for (k, v) in &self.sh.opts.labels {
            self.config
                .config
                .labels
                .get_or_insert_with(Default::default)
                .insert(k.clone(), v.clone());
        }
        self.config.created = Some(self.created.clone());
        if self
            .config
            .config
            .on_build
            .as_ref()
            .is_some_and(Vec::is_empty)
        {
            self.config.config.on_build = None;
        }
        StageOutput {
            key: self.keys.current().clone(),
            on_disk: self.on_disk,
            scope: self.scope,
            image: BuiltImage {
                format,
                config: self.config,
                layers: self.layers,
                annotations: Default::default(),
            },
        }
    }
}
