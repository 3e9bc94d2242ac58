//! What a bind (or a cache's `from`) mount shows: a path of the build context, of an
//! earlier stage's files or of an image's (`from=`), resolved inside its tree. The context
//! is seen as the build sees it: a path `.dockerignore` excludes does not exist.

use super::MountError;
use crate::context::BuildContext;
use crate::stage::state::StageState;
use crate::BuildError;
use std::path::PathBuf;

/// The tree `from` names (an earlier stage or an image), or the build context.
pub async fn tree(st: &StageState<'_>, from: Option<&str>) -> Result<BuildContext, BuildError> {
    match from {
        Some(f) => st.tree_from(f).await,
        None => Ok(st.sh.ctx.clone()),
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
