//! One stage: start from its base (scratch, an image, or an earlier stage), unpack it when
//! an instruction needs the filesystem, run each instruction as a step, snapshot after each
//! one that touched the filesystem, and collect layers, history and cache keys.

use crate::built::{new_layer_type, BuiltImage, Layer, LayerSource};
use crate::context::BuildContext;
use crate::key::{run_inputs, sources_digest, CacheKey, KeyChain};
use crate::root::RootFs;
use crate::source::ImageSource;
use crate::stash::StageFiles;
use crate::steps::{self, meta::MetaState, Snap};
use crate::{clock, user, BuildError, BuildOptions};
use dockerfile::{Command, GlobalScope, Instruction, Stage, StageScope};
use image::{Descriptor, Format, History, ImageConfig};
use std::path::PathBuf;
use std::time::SystemTime;
use tracing::info;

/// Docker's PATH for an image whose config sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What a stage starts from.
pub enum Base {
    Scratch,
    /// An image from a source: its layers, config and format; `digest` starts the key chain.
    Image {
        image: BuiltImage,
        digest: String,
    },
    /// An earlier stage's result; `in_place` when the root still holds its files.
    Stage {
        image: BuiltImage,
        key: CacheKey,
        in_place: bool,
    },
}

/// What a stage hands on: its image, the key of its last step, and whether the root holds
/// its files (it was unpacked) at the end.
pub struct StageOutput {
    pub image: BuiltImage,
    pub key: CacheKey,
    pub files_in_root: bool,
}

/// Everything the stage's steps read and change.
pub struct StageState<'a> {
    pub opts: &'a BuildOptions,
    pub ctx: &'a BuildContext,
    pub source: &'a dyn ImageSource,
    pub deps: &'a StageFiles,
    pub root: &'a mut RootFs,
    pub config: ImageConfig,
    pub meta: MetaState,
    pub scope: StageScope,
    pub layers: Vec<Layer>,
    pub created: String,
    pub keys: KeyChain,
}

/// The shared parts of a build each stage uses.
pub struct Shared<'a> {
    pub opts: &'a BuildOptions,
    pub ctx: &'a BuildContext,
    pub source: &'a dyn ImageSource,
    pub deps: &'a StageFiles,
    pub global: &'a GlobalScope,
}

/// Builds `stage` from `base` in `root`; `keep_files` when a later stage reads its files
/// (then it is unpacked even if no instruction of its own needs the filesystem).
pub async fn build_stage(
    stage: &Stage,
    base: Base,
    sh: &Shared<'_>,
    root: &mut RootFs,
    keep_files: bool,
) -> Result<StageOutput, BuildError> {
    let opts = sh.opts;
    let (image, chain_from, in_place) = match base {
        Base::Scratch => {
            info!("No base image, nothing to extract");
            (scratch(opts), "scratch".to_string(), false)
        }
        Base::Image { image, digest } => (image, digest, false),
        Base::Stage {
            image,
            key,
            in_place,
        } => (image, key.0.to_string(), in_place),
    };
    let mut config = image.config.clone();
    if !config.config.env_pairs().iter().any(|(k, _)| k == "PATH") {
        let env = config.config.env.get_or_insert_with(Vec::new);
        env.insert(0, format!("PATH={DEFAULT_PATH}"));
    }
    let format = opts.image_format.unwrap_or(image.format);
    let commands = with_triggers(&mut config, stage)?;
    let mut st = StageState {
        opts,
        ctx: sh.ctx,
        source: sh.source,
        deps: sh.deps,
        scope: StageScope::new(sh.global, &config.config.env_pairs()),
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
    };
    let files_in_root = st
        .prepare_fs(&commands, &image, in_place, keep_files)
        .await?;
    for cmd in &commands {
        st.execute(cmd).await?;
    }
    if opts.single_snapshot {
        st.snapshot(None, "single snapshot".into()).await?;
    }
    Ok(st.finish(format, files_in_root))
}

/// An empty image for the build platform.
fn scratch(opts: &BuildOptions) -> BuiltImage {
    BuiltImage {
        format: Format::Docker,
        config: ImageConfig {
            architecture: opts.platform.architecture.clone(),
            os: opts.platform.os.clone(),
            variant: opts.platform.variant.clone(),
            ..Default::default()
        },
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
    /// Unpacks the base when some instruction needs the filesystem or `keep_files` (unless
    /// the root holds it already), and takes the baseline snapshot. Returns whether the root
    /// holds the stage's files.
    async fn prepare_fs(
        &mut self,
        commands: &[Command],
        image: &BuiltImage,
        in_place: bool,
        keep_files: bool,
    ) -> Result<bool, BuildError> {
        if in_place {
            return Ok(true);
        }
        match commands.iter().find(|c| steps::needs_fs(&c.instruction)) {
            Some(cmd) => info!("Unpacking rootfs as cmd {} requires it.", cmd.original),
            None if keep_files => info!("Unpacking rootfs: a later stage reads its files."),
            None => {
                info!("Skipping unpacking as no commands require it.");
                return Ok(false);
            }
        }
        crate::unpack::unpack(
            self.source,
            &image.layers,
            self.root,
            self.opts.extract_retries,
        )
        .await?;
        let mut snap = self.root.take_snapshotter();
        let snap = tokio::task::spawn_blocking(move || snap.init_from_walk().map(|_| snap))
            .await
            .map_err(BuildError::task)??;
        self.root.put_snapshotter(snap);
        Ok(true)
    }

    async fn execute(&mut self, cmd: &Command) -> Result<(), BuildError> {
        let instr = self.scope.expand(cmd)?;
        info!("{}", cmd.original);
        self.scope.apply(&instr);
        let key = self.key(cmd, &instr)?;
        match steps::apply(self, cmd, &instr).await? {
            Snap::Config => {
                if self.opts.force_build_metadata {
                    self.history(cmd.original.clone(), true);
                }
            }
            Snap::Full => self.snapshot(None, cmd.original.clone()).await?,
            Snap::Paths(p) => self.snapshot(Some(p), cmd.original.clone()).await?,
        }
        self.keys.advance(key);
        Ok(())
    }

    /// The cache key of `instr`: COPY/ADD sources are hashed only for a cache to use.
    fn key(&self, cmd: &Command, instr: &Instruction) -> Result<CacheKey, BuildError> {
        let inputs = match instr {
            Instruction::Run(r) => {
                let mut inputs = run_inputs(
                    &self.scope.run_env(),
                    self.config.config.user.as_deref().unwrap_or(""),
                    self.config.config.working_dir.as_deref().unwrap_or(""),
                    &self.meta.shell,
                );
                // What its bind mounts of the context show (never a secret's value).
                let mounts = steps::mounts::key_inputs(self, r);
                inputs.extend(mounts.map_err(|e| BuildError::step(cmd, e))?);
                inputs
            }
            Instruction::Copy(c) | Instruction::Add(c)
                if self.opts.hash_sources && c.from.is_none() =>
            {
                let mut rels = Vec::new();
                for s in &c.sources {
                    rels.extend(self.ctx.resolve(s).unwrap_or_default());
                }
                let d =
                    sources_digest(self.ctx, &rels, false).map_err(|e| BuildError::step(cmd, e))?;
                vec![format!("sources {d}")]
            }
            _ => Vec::new(),
        };
        Ok(self.keys.key(instr, &inputs))
    }

    /// The owner of directories WORKDIR creates: the stage's USER, if any.
    pub fn user_owner(&self) -> Result<Option<(u32, u32)>, user::UserError> {
        match self.config.config.user.as_deref() {
            None | Some("") => Ok(None),
            Some(u) => user::resolve_user(self.root, u).map(|id| Some((id.uid, id.gid))),
        }
    }

    /// Takes a snapshot (of `paths`, or of everything) and appends a layer, or an empty
    /// history entry when nothing changed.
    async fn snapshot(
        &mut self,
        paths: Option<Vec<PathBuf>>,
        created_by: String,
    ) -> Result<(), BuildError> {
        if self.opts.single_snapshot && created_by != "single snapshot" {
            self.history(created_by, false);
            return Ok(());
        }
        let mut snap = self.root.take_snapshotter();
        let root = self.root.dir().to_path_buf();
        let layer_opts = self.opts.layer.clone();
        let work = self.opts.work_dir.clone();
        let (snap, blob) = tokio::task::spawn_blocking(move || {
            let result = (|| {
                let changes = match &paths {
                    Some(p) => snap.take_paths(p)?,
                    None => snap.take_full()?,
                };
                if changes.is_empty() {
                    return Ok(None);
                }
                rootfs::write_layer(&root, &changes, &layer_opts, &work).map(Some)
            })();
            (snap, result)
        })
        .await
        .map_err(BuildError::task)?;
        self.root.put_snapshotter(snap);
        match blob? {
            None => {
                info!("No files were changed, appending empty layer to config. No layer added to image.");
                self.history(created_by, true);
            }
            Some(blob) => {
                self.layers.push(new_layer(blob)?);
                self.history(created_by, false);
            }
        }
        Ok(())
    }

    fn history(&mut self, created_by: String, empty_layer: bool) {
        self.config.history.push(History {
            created: Some(self.created.clone()),
            created_by: Some(created_by),
            author: Some("kaniko".into()),
            comment: None,
            empty_layer,
        });
    }

    fn finish(mut self, format: Format, files_in_root: bool) -> StageOutput {
        for (k, v) in &self.opts.labels {
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
            files_in_root,
            key: self.keys.current().clone(),
            image: BuiltImage {
                format,
                config: self.config,
                layers: self.layers,
                annotations: Default::default(),
            },
        }
    }
}

/// A layer written by this build.
fn new_layer(blob: rootfs::LayerBlob) -> Result<Layer, BuildError> {
    let digest = blob
        .digest
        .parse()
        .map_err(|e: image::DigestError| BuildError::Other(e.to_string()))?;
    Ok(Layer {
        desc: Descriptor {
            media_type: new_layer_type(Format::Oci, blob.compression).to_string(),
            digest,
            size: blob.size,
            urls: None,
            annotations: None,
            platform: None,
        },
        diff_id: blob.diff_id.clone(),
        source: LayerSource::Local(blob.path),
    })
}
