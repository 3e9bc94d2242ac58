//! The build: Dockerfile → stages → filesystem → layers → image. [`build`] runs every stage
//! the target needs, in order, over one root directory (in a Pod: `/`).

mod copy;
mod instructions;
mod run;
mod stage;
mod unpack;
mod user;

use crate::context::BuildContext;
use crate::output::image::BuiltImage;
use dockerfile::{BuildArgs, Dockerfile, GlobalScope, PlatformArgs};
use image::Platform;
use registry::Client;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Dockerfile(#[from] dockerfile::Error),
    #[error(transparent)]
    Context(#[from] crate::context::ContextError),
    #[error(transparent)]
    Registry(#[from] registry::Error),
    #[error(transparent)]
    Fs(#[from] rootfs::Error),
    #[error("Dockerfile line {line}: {instruction}: {message}")]
    Step {
        line: usize,
        instruction: String,
        message: String,
    },
    /// A RUN whose command exited non-zero; the executor exits with the same code.
    #[error("Dockerfile line {line}: {instruction}: {message}")]
    RunFailed {
        line: usize,
        instruction: String,
        message: String,
        code: i32,
    },
    #[error("{0}")]
    Other(String),
}

impl BuildError {
    /// The exit code a failing RUN asks the executor to exit with.
    pub fn exit_code(&self) -> Option<i32> {
        match self {
            BuildError::RunFailed { code, .. } => Some(*code),
            _ => None,
        }
    }

    pub(crate) fn step(cmd: &dockerfile::Command, message: impl std::fmt::Display) -> BuildError {
        BuildError::Step {
            line: cmd.line,
            instruction: cmd.original.clone(),
            message: message.to_string(),
        }
    }
}

/// What the engine needs to know, resolved from the command line.
pub struct Settings {
    pub root: PathBuf,
    pub work_dir: PathBuf,
    pub platform: Platform,
    pub build_args: BuildArgs,
    pub target: Option<String>,
    pub snapshot_mode: rootfs::SnapshotMode,
    pub single_snapshot: bool,
    pub layer: rootfs::LayerOptions,
    pub reproducible: bool,
    pub ignore: rootfs::IgnoreList,
    pub labels: Vec<(String, String)>,
    pub image_format: Option<image::Format>,
    pub force_build_metadata: bool,
}

/// The platform args (TARGETPLATFORM ...) for a build on this host for `target`.
pub fn platform_args(target: &Platform) -> PlatformArgs {
    PlatformArgs {
        target_os: target.os.clone(),
        target_arch: target.architecture.clone(),
        target_variant: target.variant.clone().unwrap_or_default(),
        build_os: "linux".into(),
        build_arch: host_arch().into(),
        build_variant: String::new(),
    }
}

/// The host architecture in OCI's terms.
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// Builds the target stage of `df` and returns the image.
pub async fn build(
    df: &Dockerfile,
    ctx: &BuildContext,
    client: &Client,
    settings: &Settings,
) -> Result<BuiltImage, BuildError> {
    let pargs = platform_args(&settings.platform);
    let global = GlobalScope::with_escape(&df.meta_args, &settings.build_args, &pargs, df.escape)?;
    let target = df.target(settings.target.as_deref())?;
    let needed = df.required_stages(target, &global)?;
    if needed.len() > 1 {
        return Err(BuildError::Other(format!(
            "multi-stage builds are not supported yet: stage {target} needs stages {:?}",
            needed.iter().filter(|i| **i != target).collect::<Vec<_>>()
        )));
    }
    // The target needs no other stage: building only it gives the same image.
    let stage = &df.stages[target];
    tracing::info!("Built cross stage deps: map[]");
    let result = stage::build_stage(stage, &global, ctx, client, settings).await?;
    Ok(result.image)
}

/// Where new layer blobs and downloads go: a fresh directory under the kaniko dir.
pub fn work_dir(kaniko_dir: &Path) -> std::io::Result<tempfile::TempDir> {
    std::fs::create_dir_all(kaniko_dir)?;
    tempfile::Builder::new()
        .prefix("build-")
        .tempdir_in(kaniko_dir)
}
