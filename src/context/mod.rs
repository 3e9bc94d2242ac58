//! The build context: a local directory (or a tar archive unpacked into a private directory),
//! filtered by `.dockerignore`, and the lookup of COPY/ADD sources in it.

mod dockerignore;
pub mod glob;
mod tar_end;

pub use dockerignore::DockerIgnore;
use glob::Pattern;
use std::path::{Path, PathBuf};
pub use tar_end::TarEnd;

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

/// A build context rooted at a directory.
pub struct BuildContext {
    root: PathBuf,
    ignore: DockerIgnore,
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
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the context-relative path is excluded by `.dockerignore`.
    pub fn excluded(&self, rel: &str) -> bool {
        self.ignore.excludes(rel)
    }

    /// Resolves one COPY/ADD source (a path or a wildcard pattern, relative to the context)
    /// into context-relative paths that exist and are not excluded.
    pub fn resolve(&self, src: &str) -> Result<Vec<String>, ContextError> {
        let cleaned = glob::clean(src);
        if src.split('/').filter(|c| *c == "..").count() > 0 && escapes(src) {
            return Err(ContextError::Outside(src.into()));
        }
        let pattern = Pattern::new(&cleaned).map_err(|_| ContextError::NotFound(src.into()))?;
        if pattern.is_literal() {
            let p = self.root.join(&cleaned);
            if std::fs::symlink_metadata(&p).is_err()
                || (!cleaned.is_empty() && self.excluded(&cleaned))
            {
                return Err(ContextError::NotFound(src.into()));
            }
            return Ok(vec![cleaned]);
        }
        let mut out = Vec::new();
        self.glob_walk(&pattern, &cleaned, &mut out)?;
        out.sort();
        if out.is_empty() {
            return Err(ContextError::NotFound(src.into()));
        }
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
        let start = self.root.join(&base);
        if !start.is_dir() {
            return Ok(());
        }
        let walker = walkdir::WalkDir::new(&start)
            .min_depth(1)
            .max_depth(depth_limit);
        for entry in walker.into_iter().filter_map(Result::ok) {
            let rel = match entry.path().strip_prefix(&self.root) {
                Ok(r) => r.to_string_lossy().into_owned(),
                Err(_) => continue,
            };
            if pattern.matches(&rel) && !self.excluded(&rel) {
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
        assert!(matches!(
            ctx.resolve("*.none"),
            Err(ContextError::NotFound(_))
        ));
        assert!(matches!(
            ctx.resolve("../etc/passwd"),
            Err(ContextError::Outside(_))
        ));
        assert_eq!(ctx.resolve(".").unwrap(), vec![""]);
    }
}
