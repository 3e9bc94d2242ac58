//! Real base images for the tests: a busybox-static root file system made into an image
//! with umoci and pushed with skopeo ([`push_image`], [`push_busybox`]); and the way back:
//! [`inspect`] with skopeo, [`unpack`] with umoci, [`run`] with runc. Multi-platform bases
//! (amd64 and arm64 busybox in one index): [`push_busybox_index`].
//!
//! Every call works in its own temporary directory; only the busybox root file system is
//! made once per process and shared.

mod bundle;
mod inspect;
mod multiarch;
mod push;
mod raw;
mod rootfs;

pub use bundle::{run, run_bundle, unpack, unpack_layout, unpack_platform, RunOutput};
pub use inspect::{inspect, inspect_as, inspect_raw};
pub use multiarch::{aarch64_emulation, push_busybox_index, Platform, ARM64_DIR};
pub use push::{push_busybox, push_busybox_with, push_image, Access, Format, ImageSpec, TlsMode};
pub use raw::push_with_raw_layer;
pub use rootfs::{busybox_rootfs, busybox_rootfs_from};

use anyhow::{bail, Context, Result};
use std::process::{Command, Stdio};

/// Runs `cmd` with no stdin; its stdout, or an error quoting its stderr.
pub(crate) fn exec(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
