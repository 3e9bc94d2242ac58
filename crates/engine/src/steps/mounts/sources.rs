//! What a bind (or a cache's `from`) mount shows: a path of the build context, of an
//! earlier stage's files or of an image's (`from=`), resolved inside its tree. The context
//! is seen as the build sees it: a path `.dockerignore` excludes does not exist, and when
//! it hides anything the mount shows a private copy without those paths. A writable bind
//! (`rw`) shows a private copy too, whose writes are thrown away with it.

use super::MountError;
use crate::context::BuildContext;
use crate::stage::StageState;
use crate::BuildError;
use std::path::{Path, PathBuf};

/// The tree `from` names (an earlier stage or an image), or the build context.
pub async fn tree(st: &StageState<'_>, from: Option<&str>) -> Result<BuildContext, BuildError> {
    match from {
        Some(f) => st.deps.tree(f, st.source, st.opts).await,
        None => Ok(st.ctx.clone()),
    }
}

/// The host path of `source` (tree-relative, "" the root) in `tree`, which must exist.
pub fn locate(
    tree: &BuildContext,
    source: &str,
    from: Option<&str>,
) -> Result<PathBuf, MountError> {
    let missing = || MountError::Source {
        path: format!("/{source}"),
        from: from.unwrap_or("the build context").to_string(),
    };
    if !source.is_empty() && tree.excluded(source) {
        return Err(missing());
    }
    let host = tree.host_path(source, true).map_err(|_| missing())?;
    if std::fs::symlink_metadata(&host).is_err() {
        return Err(missing());
    }
    Ok(host)
}

/// What a bind mount shows: the tree's own files (read-only, nothing hidden), or a private
/// copy under `work` (kept alive by the returned directory).
pub fn bind_source(
    tree: &BuildContext,
    host: &Path,
    readonly: bool,
    work: &Path,
) -> Result<(PathBuf, Option<tempfile::TempDir>), MountError> {
    if readonly && !tree.filters() {
        return Ok((host.to_path_buf(), None));
    }
    let err = |e| MountError::io(&host.display().to_string(), e);
    let tmp = tempfile::Builder::new()
        .prefix("mount-")
        .tempdir_in(work)
        .map_err(err)?;
    let copy = tmp.path().join("m");
    let below = host
        .strip_prefix(tree.root())
        .unwrap_or(Path::new(""))
        .to_path_buf();
    let visible = |rel: &Path| {
        let p = below.join(rel);
        p.as_os_str().is_empty() || !tree.excluded(&p.to_string_lossy())
    };
    crate::stash::copy_tree(host, &copy, &visible).map_err(err)?;
    Ok((copy, Some(tmp)))
}
