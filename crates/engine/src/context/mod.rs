//! The build context: a local directory (or an archive unpacked into a private directory),
//! filtered by `.dockerignore`, and the lookup of COPY/ADD sources in it. The same lookup
//! serves `COPY --from` over an earlier stage's files or an image's (no `.dockerignore`
//! there). Every source is resolved inside its tree: a symlink never leads out of it.

mod dockerignore;
pub mod glob;

pub use dockerignore::DockerIgnore;
use glob::Pattern;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error("context directory {0}: {1}")]
    Dir(PathBuf, std::io::Error),
    #[error("reading {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error(".dockerignore: {0}")]
    Ignore(#[from] glob::BadPattern),
    #[error("{0}: file not found in build context or excluded by .dockerignore")]
    NotFound(String),
    #[error("source path {0:?} is outside the build context")]
    Outside(String),
}

/// A tree of files COPY/ADD read from, rooted at a directory: the build context, an earlier
/// stage's root, an image's files.
#[derive(Clone, Debug)]
pub struct BuildContext {
    root: PathBuf,
    ignore: DockerIgnore,
    /// Whether copies keep the owners of its files (a stage's or an image's tree), or give
    /// them to root (the build context, which BuildKit receives without owners).
    keeps_owners: bool,
}

impl BuildContext {
    /// Opens the directory `root`, reading its `.dockerignore` (or `<dockerfile>.dockerignore`
    /// next to the Dockerfile, which BuildKit prefers).
    pub fn open(root: &Path, dockerfile: Option<&Path>) -> Result<BuildContext, ContextError> {
        let meta = std::fs::metadata(root).map_err(|e| ContextError::Dir(root.into(), e))?;
        if !meta.is_dir() {
            let e = std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory");
            return Err(ContextError::Dir(root.into(), e));
        }
        let mut candidates = Vec::new();
        if let Some(df) = dockerfile {
            let mut name = df.as_os_str().to_owned();
            name.push(".dockerignore");
            candidates.push(PathBuf::from(name));
        }
        candidates.push(root.join(".dockerignore"));
        let mut ignore = DockerIgnore::default();
        for c in candidates {
            match std::fs::read_to_string(&c) {
                Ok(text) => {
                    ignore = DockerIgnore::parse(&text)?;
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(ContextError::Read(c, e)),
            }
        }
        Ok(BuildContext {
            root: root.to_path_buf(),
            ignore,
            keeps_owners: false,
        })
    }

    /// A tree with no `.dockerignore` whose owners copies keep (an earlier stage's root, an
    /// image's files, a download or a git checkout, which are root's).
    pub fn tree(root: &Path) -> BuildContext {
        BuildContext {
            root: root.to_path_buf(),
            ignore: DockerIgnore::default(),
            keeps_owners: true,
        }
    }

    /// Whether copies keep the owners of this tree's files.
    pub fn keeps_owners(&self) -> bool {
        self.keeps_owners
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The host path of the tree-relative `rel`, symlinks followed inside the tree (the
    /// last one too when `follow_last`), never leaving it.
    pub fn host_path(&self, rel: &str, follow_last: bool) -> Result<PathBuf, ContextError> {
        let inside = Path::new("/").join(rel);
        let resolved = rootfs::resolve_in_root(&self.root, &inside, follow_last)
            .map_err(|e| ContextError::Read(self.root.join(rel), e))?;
        Ok(rootfs::host_path(&self.root, &resolved))
    }

    /// Whether `.dockerignore` hides anything of this tree.
    pub fn filters(&self) -> bool {
        !self.ignore.is_empty()
    }

    /// Whether a `!` line of `.dockerignore` may bring back a path below an excluded
    /// directory (so excluded directories must still be walked).
    pub fn ignore_has_exceptions(&self) -> bool {
        self.ignore.has_exceptions()
    }

    /// Whether the context-relative path is excluded by `.dockerignore`.
    pub fn excluded(&self, rel: &str) -> bool {
        self.ignore.excludes(rel)
    }

    /// Whether the context holds `rel` once `.dockerignore` is applied: it is not excluded,
    /// or it is an excluded directory that a `!` line brings something back from (BuildKit
    /// sends the parents of every file it sends).
    fn visible(&self, rel: &str) -> bool {
        if rel.is_empty() || !self.excluded(rel) {
            return true;
        }
        if !self.ignore_has_exceptions() {
            return false;
        }
        let Ok(host) = self.host_path(rel, false) else {
            return false;
        };
        walkdir::WalkDir::new(&host)
            .min_depth(1)
            .into_iter()
            .filter_map(Result::ok)
            .filter_map(|e| {
                e.path()
                    .strip_prefix(&self.root)
                    .ok()
                    .map(Path::to_path_buf)
            })
            .any(|r| !self.excluded(&r.to_string_lossy()))
    }

    /// Resolves one COPY/ADD source (a path or a wildcard pattern, relative to the context)
    /// into context-relative paths that exist and are not excluded. A literal path that is
    /// missing is an error; a wildcard matching nothing gives an empty list (the caller
    /// fails only when every source came up empty, as Docker does).
    pub fn resolve(&self, src: &str) -> Result<Vec<String>, ContextError> {
        let cleaned = glob::clean(src);
        if src.split('/').filter(|c| *c == "..").count() > 0 && escapes(src) {
            return Err(ContextError::Outside(src.into()));
        }
        let pattern = Pattern::new(&cleaned).map_err(|_| ContextError::NotFound(src.into()))?;
        if pattern.is_literal() {
            let p = self.host_path(&cleaned, false)?;
            if std::fs::symlink_metadata(&p).is_err() || !self.visible(&cleaned) {
                return Err(ContextError::NotFound(src.into()));
            }
            return Ok(vec![cleaned]);
        }
        let mut out = Vec::new();
        self.glob_walk(&pattern, &cleaned, &mut out)?;
        out.sort();
        Ok(out)
    }

    fn glob_walk(
        &self,
        pattern: &Pattern,
        raw: &str,
        out: &mut Vec<String>,
    ) -> Result<(), ContextError> {
        // Walk only below the literal prefix of the pattern.
        let prefix: Vec<&str> = raw
            .split('/')
            .take_while(|c| !c.contains(['*', '?', '[', '\\']))
            .collect();
        let base = prefix.join("/");
        let depth_limit = if raw.contains("**") {
            usize::MAX
        } else {
            raw.split('/').count() - prefix.len()
        };
        let start = self.host_path(&base, true)?;
        if !start.is_dir() {
            return Ok(());
        }
        let walker = walkdir::WalkDir::new(&start)
            .min_depth(1)
            .max_depth(depth_limit);
        for entry in walker.into_iter().filter_map(Result::ok) {
            // Names as written in the pattern's terms: the literal prefix, then the walk.
            let rel = match entry.path().strip_prefix(&start) {
                Ok(r) if base.is_empty() => r.to_string_lossy().into_owned(),
                Ok(r) => format!("{base}/{}", r.to_string_lossy()),
                Err(_) => continue,
            };
            if pattern.matches(&rel) && self.visible(&rel) {
                out.push(rel);
            }
        }
        Ok(())
    }
}

/// Whether a relative path climbs above its start.
fn escapes(p: &str) -> bool {
    let mut depth = 0i32;
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_literals_and_wildcards() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        std::fs::create_dir_all(r.join("src/sub")).unwrap();
        for f in [
            "a.txt",
            "b.txt",
            "c.md",
            "src/x.rs",
            "src/sub/y.rs",
            "secret.key",
        ] {
            std::fs::write(r.join(f), f).unwrap();
        }
        std::fs::write(r.join(".dockerignore"), "*.key\n").unwrap();
        let ctx = BuildContext::open(r, None).unwrap();
        assert_eq!(ctx.resolve("*.txt").unwrap(), vec!["a.txt", "b.txt"]);
        assert_eq!(ctx.resolve("./src/").unwrap(), vec!["src"]);
        assert_eq!(ctx.resolve("src/*/*.rs").unwrap(), vec!["src/sub/y.rs"]);
        assert!(matches!(
            ctx.resolve("secret.key"),
            Err(ContextError::NotFound(_))
        ));
        assert!(matches!(
            ctx.resolve("nope"),
            Err(ContextError::NotFound(_))
        ));
        assert_eq!(ctx.resolve("*.none").unwrap(), Vec::<String>::new());
        assert!(matches!(
            ctx.resolve("../etc/passwd"),
            Err(ContextError::Outside(_))
        ));
        assert_eq!(ctx.resolve(".").unwrap(), vec![""]);
    }

    #[test]
    fn an_excluded_directory_with_files_brought_back_is_a_source() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        for f in ["keep/in", "keep/out", "gone/out"] {
            std::fs::create_dir_all(r.join(f).parent().unwrap()).unwrap();
            std::fs::write(r.join(f), f).unwrap();
        }
        std::fs::write(r.join(".dockerignore"), "keep\ngone\n!keep/in\n").unwrap();
        let ctx = BuildContext::open(r, None).unwrap();
        assert_eq!(ctx.resolve("keep").unwrap(), vec!["keep"]);
        assert_eq!(ctx.resolve("k*").unwrap(), vec!["keep"]);
        assert!(matches!(
            ctx.resolve("gone"),
            Err(ContextError::NotFound(_))
        ));
        assert!(matches!(
            ctx.resolve("keep/out"),
            Err(ContextError::NotFound(_))
        ));
    }

    #[test]
    fn symlinks_stay_inside_the_tree() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path().join("ctx");
        std::fs::create_dir_all(r.join("d")).unwrap();
        std::fs::write(dir.path().join("outside"), "secret").unwrap();
        std::os::unix::fs::symlink("/", r.join("up")).unwrap();
        std::os::unix::fs::symlink("../../outside", r.join("d/rel")).unwrap();
        let ctx = BuildContext::open(&r, None).unwrap();
        // `up` is the tree's own root; `d/rel` climbs no higher than it.
        assert_eq!(ctx.host_path("up", true).unwrap(), r);
        assert_eq!(ctx.host_path("d/rel", true).unwrap(), r.join("outside"));
        assert!(ctx
            .resolve("up/*")
            .unwrap()
            .iter()
            .all(|p| p.starts_with("up/")));
    }
}
