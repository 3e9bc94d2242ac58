//! A build run (`build` and `build_cached` are its one-target cases) over its target
//! platforms: the Dockerfile built once per target, in turn, over
//! one root (the stages that do not depend on the target built by the first only), each
//! followed by the caller's look at the root it left, then the outputs with every image
//! while the layer caches' writes finish. One call owns every
//! wait, so no caller can return before the cache writes or the stages' cleanup are done.

use crate::build::build_platform;
use crate::cache::LayerCache;
use crate::context::BuildContext;
use crate::platforms::SharedStages;
use crate::source::ImageSource;
use crate::{BuildError, BuildOptions, BuiltImage};
use dockerfile::Dockerfile;
use image::Platform;
use std::future::Future;
use std::sync::Arc;
use tracing::{info_span, Instrument, Span};

/// Builds the target stage of `df` (and the stages before it) and returns its image.
pub async fn build(
    df: &Dockerfile,
    ctx: &BuildContext,
    source: Arc<dyn ImageSource>,
    opts: &BuildOptions,
) -> Result<BuiltImage, BuildError> {
    build_cached(df, ctx, source, None, opts, |image| async { image }).await
}

/// [`build`] with a layer cache (steps that hit are not run), then `outputs` with the
/// image: [`build_targets`] for one target, `opts.platform`.
pub async fn build_cached<T, F, Fut>(
    df: &Dockerfile,
    ctx: &BuildContext,
    source: Arc<dyn ImageSource>,
    cache: Option<&LayerCache>,
    opts: &BuildOptions,
    outputs: F,
) -> Result<T, BuildError>
where
    F: FnOnce(BuiltImage) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let targets = [(opts.platform.clone(), cache)];
    let after_each = |_: &Platform, _: &BuiltImage, _: &BuildOptions| Ok(());
    build_targets(df, ctx, source, &targets, opts, after_each, |mut images| {
        let (image, ()) = images.remove(0);
        outputs(image)
    })
    .await
}

/// A platform to build for and its layer cache.
pub type Target<'a> = (Platform, Option<&'a LayerCache>);

/// Builds `df` for every target in turn, each followed by `after_each` (the root still
/// holds that target's final stage: the next target clears it), then runs `outputs` with
/// the images and what `after_each` returned (in the targets' order) while every cache's
/// writes finish. Returns once all is done: the
/// outputs, the cache writes (whether the build failed or not: the work directory they
/// read from outlives them) and the removal of what earlier stages left, which runs beside
/// the outputs.
pub async fn build_targets<T, X, A, F, Fut>(
    df: &Dockerfile,
    ctx: &BuildContext,
    source: Arc<dyn ImageSource>,
    targets: &[Target<'_>],
    opts: &BuildOptions,
    after_each: A,
    outputs: F,
) -> Result<T, BuildError>
where
    A: FnMut(&Platform, &BuiltImage, &BuildOptions) -> Result<X, BuildError>,
    F: FnOnce(Vec<(BuiltImage, X)>) -> Fut,
    Fut: Future<Output = T>,
{
    let platforms: Vec<Platform> = targets.iter().map(|t| t.0.clone()).collect();
    let shared = SharedStages::new(df, opts, &platforms)?;
    let built = build_each(df, ctx, &source, targets, opts, &shared, after_each).await;
    // Every write has started once the builds are done.
    let writes = async {
        for cache in targets.iter().filter_map(|t| t.1) {
            cache.finish().await;
        }
    };
    let cleanup = shared.finish();
    let result = match built {
        Ok(images) => Ok(tokio::join!(outputs(images), writes).0),
        Err(e) => {
            writes.await;
            Err(e)
        }
    };
    tokio::task::block_in_place(|| cleanup.wait());
    result
}

/// One image per target, in turn, with `after_each`'s look at it; each in a span naming
/// its platform when there are several.
async fn build_each<X>(
    df: &Dockerfile,
    ctx: &BuildContext,
    source: &Arc<dyn ImageSource>,
    targets: &[Target<'_>],
    opts: &BuildOptions,
    shared: &SharedStages,
    mut after_each: impl FnMut(&Platform, &BuiltImage, &BuildOptions) -> Result<X, BuildError>,
) -> Result<Vec<(BuiltImage, X)>, BuildError> {
    let mut images = Vec::with_capacity(targets.len());
    for (platform, cache) in targets {
        let target_opts = BuildOptions {
            platform: platform.clone(),
            ..opts.clone()
        };
        let span = match targets.len() {
            1 => Span::current(),
            _ => info_span!("Platform", kaniko.platform = %platform),
        };
        let build = build_platform(df, ctx, source.clone(), *cache, &target_opts, shared);
        let image = build.instrument(span.clone()).await?;
        let seen = span.in_scope(|| after_each(platform, &image, &target_opts))?;
        images.push((image, seen));
    }
    Ok(images)
}
