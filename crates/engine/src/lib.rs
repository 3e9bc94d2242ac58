//! The build engine: a parsed Dockerfile and a build context in, a [`BuiltImage`] out. It
//! knows nothing of the command line: the executor turns flags into [`BuildOptions`] and
//! calls [`build`].
//!
//! The data path, one module each: the build [`context`] → the build's stages (`build.rs`,
//! planned in `stage_plan.rs`) → one stage at a time ([`stage`]) over a root filesystem
//! value ([`root`]), its base image read through an image [`source`] and unpacked
//! ([`unpack`]) → one [`steps`] entry per instruction (what it changes, and the cache
//! [`key`] of its result) → layers and config ([`built`]). A layer [`cache`] spares the steps whose keys it holds. Nothing assumes
//! the root is `/`: tests build into any directory.

mod build;
pub mod built;
pub mod cache;
pub mod clock;
pub mod context;
mod error;
pub mod key;
mod options;
pub mod platforms;
pub mod root;
pub mod source;
mod stage;
mod stage_plan;
pub mod steps;
mod targets;
mod unpack;
pub mod upload;
pub mod user;

pub use build::build_platform;
pub use built::{new_layer_type, BuiltImage, Finished, Layer, LayerSource};
pub use cache::{CacheSettings, LayerCache};
pub use context::BuildContext;
pub use error::BuildError;
pub use options::{host_arch, platform_args, BuildOptions, SecretValue, UnpackLimits};
pub use platforms::SharedStages;
pub use root::BuildRoot;
pub use source::{ImageSource, RegistrySource, SourceImage, WarmedSource};
pub use stage::files::Cleanup;
pub use stage_plan::base_images;
pub use targets::{build, build_cached, build_targets, Target};
pub use upload::{LayerSink, LayerUploads, Uploads};

/// Where new layer blobs and downloads go: a fresh directory under the kaniko dir.
pub fn work_dir(kaniko_dir: &std::path::Path) -> std::io::Result<tempfile::TempDir> {
    std::fs::create_dir_all(kaniko_dir)?;
    tempfile::Builder::new()
        .prefix("build-")
        .tempdir_in(kaniko_dir)
}
