//! COPY and ADD as steps: the checks BuildKit makes on their sources and flags (`--checksum`
//! only for one URL, no URL or git source for COPY), then what to copy: heredoc files, ADD's
//! downloads, and paths of the context, a stage or an image (wildcards; with `--parents`
//! the part of a source before a `/./` pivot is the base its path is kept below). `ADD` of
//! a git repository copies its checkout (`git_source`).

mod archive;
mod chmod;
mod download;
mod entry;
mod git_source;
mod link;
pub(crate) mod spec;
mod write;

use super::Snap;
use crate::context::{glob, BuildContext, ContextError, DockerIgnore};
use crate::root::BuildRoot;
use crate::stage::state::StageState;
use crate::{user, BuildError};
use chmod::Chmod;
use dockerfile::Command;
use entry::Content;
use spec::{CopySpec, Item};
use tracing::info;
use write::copy;

/// Whether a COPY or ADD source is an HTTP(S) URL.
pub fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// Whether BuildKit takes the source for a git repository: `git://`, `ssh://`, scp-like
/// `user@host:path`, or an HTTP(S) URL whose path ends in `.git`.
pub fn is_git(s: &str) -> bool {
    let s = s.split('#').next().unwrap_or(s);
    if s.starts_with("git://") || s.starts_with("ssh://") {
        return true;
    }
    if is_url(s) {
        let path = s.split('?').next().unwrap_or(s);
        return path.ends_with(".git");
    }
    // scp-like: user@host:path, with no `/` before the `:`.
    match (s.find('@'), s.find(':'), s.find('/')) {
        (Some(at), Some(colon), slash) => at < colon && slash.is_none_or(|sl| colon < sl),
        _ => false,
    }
}

fn file_name(p: &std::path::Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The source and flag rules BuildKit checks before copying anything.
fn check(c: &dockerfile::Copy, is_add: bool) -> Result<(), String> {
    for src in &c.sources {
        match (is_git(src), is_url(src), is_add) {
            (true, _, false) => return Err("source can't be a git ref for COPY".into()),
            (true, _, true) if c.sources.len() > 1 => {
                return Err("a git repository must be ADD's only source".into())
            }
            (false, true, false) => return Err("source can't be a URL for COPY".into()),
            _ => {}
        }
    }
    if c.checksum.is_some() {
        if !is_add {
            return Err("checksum can't be specified for COPY".into());
        }
        if c.sources.len() != 1 {
            return Err("checksum can't be specified for multiple sources".into());
        }
        if !c.sources.iter().all(|s| is_url(s)) {
            return Err("checksum requires HTTP(S) or Git sources".into());
        }
        if c.sources.iter().any(|s| is_git(s)) {
            return Err("--checksum of a git source is not supported".into());
        }
    }
    Ok(())
}

/// `--parents`: the base (the part before a `/./` pivot, else the tree's root) and the
/// pattern below it, both cleaned.
fn split_pivot(src: &str) -> (String, String) {
    match src.split_once("/./") {
        Some((base, pattern)) => (glob::clean(base), glob::clean(pattern)),
        None => (String::new(), glob::clean(src)),
    }
}

/// The items `src` names in `tree` (`--parents`: kept below their base).
fn items_of<'a>(
    tree: &'a BuildContext,
    src: &str,
    parents: bool,
) -> Result<Vec<Item<'a>>, ContextError> {
    if !parents {
        let found = tree.resolve(src)?;
        return Ok(found.into_iter().map(|rel| Item::Path(tree, rel)).collect());
    }
    let (base, pattern) = split_pivot(src);
    let bases = if base.is_empty() {
        vec![base]
    } else {
        tree.resolve(&base)?
    };
    let mut out = Vec::new();
    for b in bases {
        let full = if b.is_empty() {
            pattern.clone()
        } else {
            format!("{b}/{pattern}")
        };
        for rel in tree.resolve(&full)? {
            out.push(Item::Parents {
                tree,
                base: b.clone(),
                rel,
            });
        }
    }
    Ok(out)
}

/// COPY/ADD as a step: sources gathered, destination resolved, snapshot of what was written.
pub async fn apply(
    st: &mut StageState<'_>,
    cmd: &Command,
    c: &dockerfile::Copy,
    is_add: bool,
) -> Result<Snap, BuildError> {
    let step = |e: &dyn std::fmt::Display| BuildError::step(cmd, e);
    check(c, is_add).map_err(|e| step(&e))?;
    let exclude =
        DockerIgnore::from_patterns(&c.exclude).map_err(|e| step(&format!("--exclude: {e}")))?;
    let owner = match &c.chown {
        Some(spec) => Some(user::resolve_chown(st.root, spec).map_err(|e| step(&e))?),
        None => None,
    };
    let mode = c
        .chmod
        .as_deref()
        .map(Chmod::parse)
        .transpose()
        .map_err(|e| step(&e))?;
    let git = c.sources.iter().find(|s| is_add && is_git(s));
    let tree = source_tree(st, cmd, c, git).await?;
    let heredoc = |src: &str| {
        c.heredocs.iter().any(|h| {
            src.trim_start_matches("<<")
                .trim_start_matches('-')
                .trim_matches(['"', '\''])
                == h.name
        })
    };
    let sources: Vec<&String> = c
        .sources
        .iter()
        .filter(|s| !heredoc(s) && git.is_none())
        .collect();
    let downloads = fetch_all(st, c, is_add, &sources)
        .await
        .map_err(|e| step(&e))?;
    let mut items = Vec::new();
    if git.is_some() {
        items.push(Item::Path(&tree, String::new()));
    }
    items.extend(gather(c, is_add, &tree, &sources, &downloads).map_err(|e| step(&e))?);
    if items.is_empty() {
        // Only wildcards that matched nothing: BuildKit allows an empty wildcard for every
        // source, so nothing is copied and not even the destination is made.
        info!("No files matched {}", c.sources.join(" "));
        return Ok(Snap::Paths(Vec::new()));
    }
    let workdir = st.config.config.working_dir.clone().unwrap_or_default();
    let spec = CopySpec {
        items,
        dest: &c.dest,
        workdir: &workdir,
        owner,
        mode,
        // ADD extracts local archives unless `--unpack=false`; downloads only with `--unpack`.
        extract_archives: is_add && c.unpack != Some(false),
        exclude,
        // BuildKit copies --link with --chmod as an ordinary COPY.
        link: c.link && c.chmod.is_none(),
    };
    let root: &BuildRoot = st.root;
    let written = tokio::task::block_in_place(|| copy(root, &spec)).map_err(|e| step(&e))?;
    info!("Taking snapshot of files...");
    Ok(Snap::Paths(written))
}

/// An ADD URL source fetched: its name, its file, and a tree holding the file when
/// `--unpack` extracts it.
struct Download {
    name: String,
    path: std::path::PathBuf,
    unpack: Option<BuildContext>,
}

fn downloads(c: &dockerfile::Copy, is_add: bool, src: &str) -> bool {
    is_add && c.from.is_none() && is_url(src)
}

/// Fetches the URL sources, in order.
async fn fetch_all(
    st: &StageState<'_>,
    c: &dockerfile::Copy,
    is_add: bool,
    sources: &[&String],
) -> Result<Vec<Download>, download::DownloadError> {
    let mut out = Vec::new();
    for src in sources.iter().filter(|s| downloads(c, is_add, s)) {
        let checksum = c.checksum.as_deref();
        let (name, path) =
            download::fetch(st.sh.source, src, checksum, &st.sh.opts.work_dir).await?;
        let unpack = c.unpack == Some(true) && archive::is_archive(&path);
        let unpack = unpack.then(|| BuildContext::tree(path.parent().unwrap_or(&path)));
        out.push(Download { name, path, unpack });
    }
    Ok(out)
}

/// Every source in order, heredocs last, as BuildKit's dispatchCopy adds them.
fn gather<'a>(
    c: &'a dockerfile::Copy,
    is_add: bool,
    tree: &'a BuildContext,
    sources: &[&String],
    fetched: &'a [Download],
) -> Result<Vec<Item<'a>>, ContextError> {
    let mut items = Vec::new();
    let mut fetched = fetched.iter();
    for src in sources {
        if !downloads(c, is_add, src) {
            items.extend(items_of(tree, src, c.parents)?);
            continue;
        }
        let Some(d) = fetched.next() else { continue };
        items.push(match &d.unpack {
            Some(t) => Item::Path(t, file_name(&d.path)),
            None => Item::File {
                name: d.name.clone(),
                content: Content::Host(d.path.clone()),
                mode: 0o600,
            },
        });
    }
    for h in &c.heredocs {
        items.push(Item::File {
            name: h.name.clone(),
            content: Content::Bytes(h.content.clone().into_bytes()),
            mode: 0o644,
        });
    }
    Ok(items)
}

/// The tree the sources are read from: a cloned git repository, a stage or an image
/// (`--from`), or the build context.
async fn source_tree(
    st: &mut StageState<'_>,
    cmd: &Command,
    c: &dockerfile::Copy,
    git: Option<&String>,
) -> Result<BuildContext, BuildError> {
    Ok(match (&c.from, git) {
        (_, Some(src)) => {
            info!(
                "Cloning {}",
                redact::url(src.split('#').next().unwrap_or(src))
            );
            let (src, keep, work) = (src.clone(), c.keep_git_dir, st.sh.opts.work_dir.clone());
            let remote = &st.sh.opts.remote;
            let (dir, commit) =
                tokio::task::block_in_place(|| git_source::clone(&src, keep, &work, remote))
                    .map_err(|e| BuildError::step(cmd, &e))?;
            st.sh.source.cloned(&src, &commit);
            BuildContext::tree(&dir)
        }
        (Some(from), None) => st.tree_from(from).await?,
        (None, None) => st.sh.ctx.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_sources_as_buildkit_tells_them() {
        for git in [
            "https://github.com/moby/buildkit.git",
            "https://example.com/r.git#v1:sub",
            "git://example.com/r",
            "ssh://git@example.com/r",
            "git@github.com:moby/buildkit.git",
        ] {
            assert!(is_git(git), "{git}");
        }
        for not in [
            "https://example.com/file.tar.gz",
            "src/app",
            "a@b/c:d",
            "./x:y",
        ] {
            assert!(!is_git(not), "{not}");
        }
    }

    #[test]
    fn pivots() {
        assert_eq!(split_pivot("./x/a.txt"), ("".into(), "x/a.txt".into()));
        assert_eq!(split_pivot("x/./y/*.txt"), ("x".into(), "y/*.txt".into()));
        assert_eq!(split_pivot("/x/./y"), ("x".into(), "y".into()));
    }
}
