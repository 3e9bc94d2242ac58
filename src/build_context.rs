//! The build context directory: a local directory as is, a tar archive (a file or standard
//! input) unpacked into the work dir, a remote context fetched there.

use crate::cli::{ContextSource, Options};
use crate::engine_options::remote_options;
use crate::startup::Startup;
use anyhow::{anyhow, Context as _};
use std::path::{Path, PathBuf};
use tracing::warn;

/// The context directory: a local directory as is, a tar archive unpacked into the work dir.
pub(crate) fn prepare_context(
    opts: &Options,
    startup: &Startup,
    work: &Path,
) -> anyhow::Result<PathBuf> {
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
