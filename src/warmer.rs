//! The warmer (the binary called as `warmer`, or `executor warmer`): stores base images in
//! the base-image cache directory, each named by its digest, for builds run with
//! `--cache=true --cache-dir=...`. `--image` names images, `--dockerfile` adds every
//! stage's base. As kaniko's warmer, an image that fails is a warning; the run fails when
//! no image could be warmed.

use crate::cli::WarmerOptions;
use crate::engine_options::{known_build_args, target_platform};
use crate::registry_client::client_for;
use anyhow::{bail, Context as _};
use engine::cache::warmer::{dockerfile_bases, warm_image, WarmOptions};
use std::path::Path;
use std::process::ExitCode;
use tracing::warn;

pub fn main(opts: WarmerOptions) -> ExitCode {
    let log = (opts.log_format, opts.verbosity, opts.log_timestamp);
    crate::subcommand::run(log, run(&opts))
}

async fn run(opts: &WarmerOptions) -> anyhow::Result<()> {
    let platform = target_platform(opts.custom_platform.as_deref())?;
    let mut images = opts.images.clone();
    if let Some(path) = &opts.dockerfile {
        let text = std::fs::read(path)
            .with_context(|| format!("reading Dockerfile {}", path.display()))?;
        let args = known_build_args(&opts.build_args);
        let bases = dockerfile_bases(&String::from_utf8_lossy(&text), &args, &platform)
            .with_context(|| format!("{}", path.display()))?;
        images.extend(bases.into_iter().filter(|b| !opts.images.contains(b)));
    }
    let kaniko_dir = Path::new(crate::cli::DEFAULT_KANIKO_DIR);
    let startup = crate::startup::Startup::capture(resolve::Resolver::from_system());
    let client = client_for(&opts.registry, 0, kaniko_dir, &startup)?;
    let warm = WarmOptions {
        dir: opts.cache_dir.clone(),
        ttl: opts.cache_ttl,
        force: opts.force,
        platform,
    };
    let mut failed = 0;
    for image in &images {
        if let Err(e) = warm_image(&client, image, &warm).await {
            warn!("Error while trying to warm image: {image} {e}");
            failed += 1;
        }
    }
    if failed == images.len() {
        bail!("Failed to warm any of the given images");
    }
    Ok(())
}
