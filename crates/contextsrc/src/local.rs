//! The context directory a build reads: a local directory as is, a tar archive (a file, or
//! standard input read up to its end marker) unpacked into the work dir, a remote context
//! fetched there.

use crate::tar_end::TarEnd;
use crate::{ContextSource, Error, Options};
use std::io::Read;
use std::path::{Path, PathBuf};
use tracing::warn;

impl ContextSource {
    /// The context directory, with `sub_path` (`--context-sub-path`) applied; archives and
    /// remote contexts go to `work/context`. A directory that does not exist is an empty
    /// context, as kaniko has it. `opts` is what a remote fetch uses.
    pub fn prepare(
        &self,
        sub_path: Option<&str>,
        opts: &Options,
        work: &Path,
    ) -> Result<PathBuf, Error> {
        let dir = match self {
            ContextSource::Dir(p) => p.clone(),
            ContextSource::Tar(path) => {
                let f = std::fs::File::open(path).map_err(|source| Error::Archive {
                    path: path.clone(),
                    source,
                })?;
                unpack_archive(f, work)?
            }
            ContextSource::TarStdin => unpack_archive(std::io::stdin(), work)?,
            remote => remote.fetch_into(opts, work)?,
        };
        let dir = match sub_path {
            Some(sub) if !sub.is_empty() => dir.join(sub),
            _ => dir,
        };
        let missing = matches!(self, ContextSource::Dir(_))
            && matches!(dir.symlink_metadata(), Err(e) if e.kind() == std::io::ErrorKind::NotFound);
        if missing {
            // kaniko only reads a directory context when COPY or ADD needs a file from it.
            warn!("Build context directory {} does not exist: building without one; COPY and ADD will find no files", dir.display());
            let empty = work.join("context");
            std::fs::create_dir_all(&empty).map_err(|e| Error::io(&empty, e))?;
            return Ok(empty);
        }
        Ok(dir)
    }

    /// Whether the context is on this machine (a directory or a tar archive).
    pub fn is_local(&self) -> bool {
        matches!(
            self,
            ContextSource::Dir(_) | ContextSource::Tar(_) | ContextSource::TarStdin
        )
    }

    /// A git repository or a downloaded archive, unpacked into the work dir.
    fn fetch_into(&self, opts: &Options, work: &Path) -> Result<PathBuf, Error> {
        let source = self
            .remote()?
            .ok_or_else(|| Error::Internal("not a remote context".into()))?;
        let dir = work.join("context");
        tracing::debug!("Getting source context from {}", source.display());
        crate::fetch(&source, opts, &dir)?;
        Ok(dir)
    }
}

/// A tar archive (gzip, zstd, bzip2, xz or plain, told by its first bytes) unpacked into
/// `work/context`, read no further than its end marker.
fn unpack_archive(r: impl Read + Send, work: &Path) -> Result<PathBuf, Error> {
    let dir = work.join("context");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let unpack_err = |e: &dyn std::error::Error| Error::UnpackLocal(crate::error::one_line(e));
    let input = rootfs::decompressor(std::io::BufReader::new(r)).map_err(|e| unpack_err(&e))?;
    rootfs::extract_layer(
        TarEnd::new(input),
        &dir,
        &rootfs::IgnoreList::new(Vec::<PathBuf>::new()),
        None,
    )
    .map_err(|e| unpack_err(&e))?;
    Ok(dir)
}
