//! One stage: resolve the base, unpack it when an instruction needs the filesystem, run each
//! instruction, snapshot after each one that touched the filesystem, and collect layers.

use super::copy::{self, CopySpec};
use super::instructions::{self, MetaState};
use super::run::Process;
use super::user;
use super::{unpack, BuildError, Settings};
use crate::clock;
use crate::context::BuildContext;
use crate::output::image::{new_layer_type, BuiltImage, Layer, LayerSource};
use dockerfile::{Command, CommandLine, GlobalScope, Instruction, Stage, StageScope};
use image::{Descriptor, Format, History, ImageConfig};
use registry::{Client, Reference};
use rootfs::{Changes, Snapshotter};
use std::time::SystemTime;
use tracing::info;

pub struct StageResult {
    pub image: BuiltImage,
}

/// Whether an instruction needs the base image's files on disk.
fn needs_fs(i: &Instruction) -> bool {
    matches!(
        i,
        Instruction::Run(_) | Instruction::Copy(_) | Instruction::Add(_) | Instruction::Workdir(_)
    )
}

struct Builder<'a> {
    settings: &'a Settings,
    ctx: &'a BuildContext,
    config: ImageConfig,
    layers: Vec<Layer>,
    scope: StageScope,
    meta: MetaState,
    snap: Option<Snapshotter>,
    created: String,
}

pub async fn build_stage(
    stage: &Stage,
    global: &GlobalScope,
    ctx: &BuildContext,
    client: &Client,
    settings: &Settings,
) -> Result<StageResult, BuildError> {
    let base_name = global.expand_base(stage)?;
    info!(
        "Building stage '{base_name}' [idx: '{}', base-idx: '-1']",
        stage.index
    );
    let (format, config, layers, remote) = if base_name.eq_ignore_ascii_case("scratch") {
        info!("No base image, nothing to extract");
        let config = ImageConfig {
            architecture: settings.platform.architecture.clone(),
            os: settings.platform.os.clone(),
            variant: settings.platform.variant.clone(),
            ..Default::default()
        };
        (Format::Docker, config, Vec::new(), None)
    } else {
        let reference: Reference =
            base_name
                .parse()
                .map_err(|e: registry::Error| BuildError::Step {
                    line: stage.line,
                    instruction: format!("FROM {}", stage.base),
                    message: e.to_string(),
                })?;
        info!("Retrieving image manifest {reference}");
        let remote = client.pull_image(&reference, &settings.platform).await?;
        info!(
            "Retrieving image {reference} from registry {}",
            remote.reference.registry
        );
        let format = Format::of_manifest(Some(&remote.media_type));
        let layers = remote
            .manifest
            .layers
            .iter()
            .zip(remote.config.rootfs.diff_ids.iter())
            .map(|(d, diff)| Layer {
                desc: d.clone(),
                diff_id: diff.clone(),
                source: LayerSource::Remote(remote.reference.clone()),
            })
            .collect();
        (format, remote.config.clone(), layers, Some(remote))
    };
    let format = settings.image_format.unwrap_or(format);
    let scope = StageScope::new(global, &config.config.env_pairs());
    let created = if settings.reproducible {
        clock::EPOCH.to_string()
    } else {
        clock::rfc3339(SystemTime::now(), false)
    };
    let meta = MetaState::new(&config);
    let mut b = Builder {
        settings,
        ctx,
        config,
        layers,
        scope,
        meta,
        snap: None,
        created,
    };

    // ONBUILD triggers of the base image run first.
    let triggers = b.config.config.on_build.take().unwrap_or_default();
    info!("Executing {} build triggers", triggers.len());
    let mut commands: Vec<Command> = Vec::new();
    for t in &triggers {
        let df = dockerfile::parse(&format!("FROM scratch\n{t}\n"))?;
        commands.extend(df.stages.into_iter().flat_map(|s| s.commands));
    }
    commands.extend(stage.commands.iter().cloned());

    // Unpack only when some instruction needs the filesystem.
    let mut snap = Snapshotter::new(
        settings.root.clone(),
        settings.ignore.clone(),
        settings.snapshot_mode,
    );
    match commands.iter().find(|c| needs_fs(&c.instruction)) {
        Some(cmd) => {
            info!("Unpacking rootfs as cmd {} requires it.", cmd.original);
            if let Some(remote) = &remote {
                snap = unpack::unpack(
                    client,
                    remote,
                    settings.root.clone(),
                    settings.ignore.clone(),
                    snap,
                )
                .await?;
            }
            let mut s = snap;
            s = tokio::task::spawn_blocking(move || s.init_from_walk().map(|_| s))
                .await
                .map_err(|e| BuildError::Other(e.to_string()))??;
            b.snap = Some(s);
        }
        None => info!("Skipping unpacking as no commands require it."),
    }

    for cmd in &commands {
        b.execute(cmd).await?;
    }
    if settings.single_snapshot {
        b.snapshot(None, "single snapshot").await?;
    }
    for (k, v) in &settings.labels {
        b.config
            .config
            .labels
            .get_or_insert_with(Default::default)
            .insert(k.clone(), v.clone());
    }
    b.config.created = Some(b.created.clone());
    if b.config.config.on_build.as_ref().is_some_and(Vec::is_empty) {
        b.config.config.on_build = None;
    }
    let image = BuiltImage {
        format,
        config: b.config,
        layers: b.layers,
        annotations: Default::default(),
    };
    Ok(StageResult { image })
}

impl Builder<'_> {
    async fn execute(&mut self, cmd: &Command) -> Result<(), BuildError> {
        let instr = self.scope.expand(cmd)?;
        info!("{}", cmd.original);
        self.scope.apply(&instr);
        let env = self.scope.env();
        if instructions::apply(&mut self.config, &mut self.meta, &instr, &env) {
            if self.settings.force_build_metadata {
                self.history(cmd, true);
            }
            return Ok(());
        }
        match &instr {
            Instruction::Run(run) => {
                if !run.mounts.is_empty() {
                    return Err(BuildError::step(cmd, "RUN --mount is not supported yet"));
                }
                if run.network.as_deref().is_some_and(|n| n != "default") {
                    return Err(BuildError::step(
                        cmd,
                        "RUN --network other than default is not supported yet",
                    ));
                }
                if run.security.as_deref() == Some("insecure") {
                    return Err(BuildError::step(
                        cmd,
                        "RUN --security=insecure is not supported yet",
                    ));
                }
                let argv = self.run_argv(run);
                let root = self.settings.root.clone();
                let spec = self.config.config.user.clone().unwrap_or_default();
                let id = if spec.is_empty() {
                    user::Identity {
                        uid: 0,
                        gid: 0,
                        groups: vec![0],
                        home: Some("/root".into()),
                    }
                } else {
                    user::resolve_user(&root, &spec).map_err(|e| BuildError::step(cmd, e))?
                };
                let workdir = self.config.config.working_dir.clone().unwrap_or_default();
                if !workdir.is_empty() {
                    copy::mkdir_all(&root, &workdir, None).map_err(|e| BuildError::step(cmd, e))?;
                }
                info!("Taking snapshot of full filesystem...");
                info!("Running: {argv:?}");
                let process = Process {
                    root: &root,
                    argv,
                    env: self.scope.run_env(),
                    workdir,
                    user: id,
                };
                process.run().map_err(|e| match e {
                    super::run::RunError::Failed { code, .. } => BuildError::RunFailed {
                        line: cmd.line,
                        instruction: cmd.original.clone(),
                        message: e.to_string(),
                        code,
                    },
                    e => BuildError::step(cmd, e),
                })?;
                self.snapshot(None, cmd).await
            }
            Instruction::Copy(c) | Instruction::Add(c) => {
                let is_add = matches!(instr, Instruction::Add(_));
                if c.parents || !c.exclude.is_empty() || c.keep_git_dir {
                    return Err(BuildError::step(
                        cmd,
                        "COPY/ADD --parents, --exclude and --keep-git-dir are not supported yet",
                    ));
                }
                if c.checksum.is_some()
                    && c.sources
                        .iter()
                        .any(|s| !s.starts_with("http://") && !s.starts_with("https://"))
                {
                    return Err(BuildError::step(
                        cmd,
                        "ADD --checksum only applies to URL sources",
                    ));
                }
                if c.from.is_some() {
                    return Err(BuildError::step(
                        cmd,
                        "COPY --from is not supported yet (multi-stage builds are a later feature)",
                    ));
                }
                let written = self.copy(cmd, c, is_add).await?;
                info!("Taking snapshot of files...");
                let paths: Vec<std::path::PathBuf> = written.iter().map(Into::into).collect();
                self.snapshot(Some(paths), cmd).await
            }
            Instruction::Workdir(dir) => {
                let current = self.config.config.working_dir.clone().unwrap_or_default();
                let abs = copy::absolute_dest(dir, &current);
                let abs = crate::context::glob::clean(&abs);
                let abs = format!("/{abs}");
                self.config.config.working_dir = Some(abs.clone());
                let existed = super::run::host_path(&self.settings.root, &abs).is_dir();
                copy::mkdir_all(&self.settings.root, &abs, None)
                    .map_err(|e| BuildError::step(cmd, e))?;
                if existed {
                    return Ok(());
                }
                self.snapshot(Some(vec![abs.into()]), cmd).await
            }
            other => Err(BuildError::step(
                cmd,
                format!("unexpected instruction {other:?}"),
            )),
        }
    }

    fn run_argv(&self, run: &dockerfile::Run) -> Vec<String> {
        if run.heredocs.is_empty() {
            return self.meta.argv(&run.command);
        }
        let text = match &run.command {
            CommandLine::Shell(s) => s.clone(),
            CommandLine::Exec(v) => v.join(" "),
        };
        let only_heredoc = run.heredocs.len() == 1
            && text
                .trim()
                .trim_start_matches("<<")
                .trim_start_matches('-')
                .trim_matches(['"', '\''])
                == run.heredocs[0].name;
        if only_heredoc {
            // The body is the script, run by the shell.
            return self
                .meta
                .argv(&CommandLine::Shell(run.heredocs[0].content.clone()));
        }
        // Otherwise the shell itself reads the heredocs.
        let mut script = text;
        for h in &run.heredocs {
            script.push('\n');
            script.push_str(&h.content);
            if !h.content.ends_with('\n') {
                script.push('\n');
            }
            script.push_str(&h.name);
        }
        self.meta.argv(&CommandLine::Shell(script))
    }

    async fn copy(
        &mut self,
        cmd: &Command,
        c: &dockerfile::Copy,
        is_add: bool,
    ) -> Result<Vec<String>, BuildError> {
        let root = self.settings.root.clone();
        let owner = match &c.chown {
            Some(spec) => {
                Some(user::resolve_chown(&root, spec).map_err(|e| BuildError::step(cmd, e))?)
            }
            None => None,
        };
        let mode = match &c.chmod {
            Some(m) => Some(copy::parse_chmod(m).map_err(|e| BuildError::step(cmd, e))?),
            None => None,
        };
        let workdir = self.config.config.working_dir.clone().unwrap_or_default();
        let mut sources = Vec::new();
        let mut inline: Vec<(String, Vec<u8>)> = c
            .heredocs
            .iter()
            .map(|h| (h.name.clone(), h.content.clone().into_bytes()))
            .collect();
        let mut many = false;
        for src in &c.sources {
            if c.heredocs.iter().any(|h| {
                src.trim_start_matches("<<")
                    .trim_start_matches('-')
                    .trim_matches(['"', '\''])
                    == h.name
            }) {
                continue;
            }
            if is_add && (src.starts_with("http://") || src.starts_with("https://")) {
                inline.push(
                    download(src, c.checksum.as_deref())
                        .await
                        .map_err(|e| BuildError::step(cmd, e))?,
                );
                continue;
            }
            let found = self
                .ctx
                .resolve(src)
                .map_err(|e| BuildError::step(cmd, e))?;
            many |= found.len() > 1;
            sources.extend(found);
        }
        let ctx = self.ctx;
        let exclude = |rel: &str| ctx.excluded(rel);
        let spec = CopySpec {
            src_root: ctx.root(),
            sources,
            inline,
            dest: &c.dest,
            workdir: &workdir,
            owner,
            mode,
            many,
            extract_archives: is_add,
            exclude: Some(&exclude),
        };
        copy::copy(&root, &spec).map_err(|e| BuildError::step(cmd, e))
    }

    /// Takes a snapshot (of `paths`, or of everything) and appends a layer or an empty history entry.
    async fn snapshot(
        &mut self,
        paths: Option<Vec<std::path::PathBuf>>,
        cmd: impl HistorySource,
    ) -> Result<(), BuildError> {
        if self.settings.single_snapshot && cmd.command().is_some() {
            self.history_text(cmd.created_by(), false);
            return Ok(());
        }
        let Some(mut snap) = self.snap.take() else {
            return Err(BuildError::Other(
                "internal: snapshot without an unpacked filesystem".into(),
            ));
        };
        let root = self.settings.root.clone();
        let opts = self.settings.layer.clone();
        let work = self.settings.work_dir.clone();
        let (snap, blob) = tokio::task::spawn_blocking(move || -> Result<_, BuildError> {
            let changes: Changes = match paths {
                Some(p) => snap.take_paths(&p)?,
                None => snap.take_full()?,
            };
            if changes.is_empty() {
                return Ok((snap, None));
            }
            let blob = rootfs::write_layer(&root, &changes, &opts, &work)?;
            Ok((snap, Some(blob)))
        })
        .await
        .map_err(|e| BuildError::Other(e.to_string()))??;
        self.snap = Some(snap);
        match blob {
            None => {
                info!("No files were changed, appending empty layer to config. No layer added to image.");
                self.history_text(cmd.created_by(), true);
            }
            Some(blob) => {
                let desc = Descriptor {
                    media_type: new_layer_type(Format::Oci, blob.compression).to_string(),
                    digest: blob
                        .digest
                        .parse()
                        .map_err(|e: image::DigestError| BuildError::Other(e.to_string()))?,
                    size: blob.size,
                    urls: None,
                    annotations: None,
                    platform: None,
                };
                self.layers.push(Layer {
                    desc,
                    diff_id: blob.diff_id.clone(),
                    source: LayerSource::Local(blob.path),
                });
                self.history_text(cmd.created_by(), false);
            }
        }
        Ok(())
    }

    fn history(&mut self, cmd: &Command, empty: bool) {
        self.history_text(cmd.original.clone(), empty);
    }

    fn history_text(&mut self, created_by: String, empty_layer: bool) {
        self.config.history.push(History {
            created: Some(self.created.clone()),
            created_by: Some(created_by),
            author: Some("kaniko".into()),
            comment: None,
            empty_layer,
        });
    }
}

/// What a history entry is made from: an instruction, or a note for the single snapshot.
trait HistorySource {
    fn created_by(&self) -> String;
    fn command(&self) -> Option<&Command>;
}

impl HistorySource for &Command {
    fn created_by(&self) -> String {
        self.original.clone()
    }
    fn command(&self) -> Option<&Command> {
        Some(self)
    }
}

impl HistorySource for &str {
    fn created_by(&self) -> String {
        (*self).to_string()
    }
    fn command(&self) -> Option<&Command> {
        None
    }
}

/// ADD <url>: the file name and its contents, checked against `--checksum` when given.
async fn download(url: &str, checksum: Option<&str>) -> Result<(String, Vec<u8>), String> {
    let resp = reqwest::get(url)
        .await
        .map_err(|e| format!("downloading {url}: {e}"))?;
    if !resp.status().is_success() {
        return Err(format!("downloading {url}: HTTP {}", resp.status()));
    }
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let name = path
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or("index.html")
        .to_string();
    let body = resp
        .bytes()
        .await
        .map_err(|e| format!("downloading {url}: {e}"))?
        .to_vec();
    if let Some(want) = checksum {
        let got = image::Digest::sha256(&body);
        if got.as_str() != want {
            return Err(format!(
                "checksum mismatch for {url}: want {want}, got {got}"
            ));
        }
    }
    Ok((name, body))
}
