//! `.dockerignore`: which context paths a build may see. Lines are patterns (comments with
//! `#`, `!` re-includes); the last matching pattern decides, as in Docker.

use super::glob::{BadPattern, Pattern};

#[derive(Clone, Debug, Default)]
pub struct DockerIgnore {
    rules: Vec<(Pattern, bool)>,
}

impl DockerIgnore {
    pub fn parse(text: &str) -> Result<DockerIgnore, BadPattern> {
        let lines: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(String::from)
            .collect();
        DockerIgnore::from_patterns(&lines)
    }

    /// `--exclude` patterns of COPY/ADD, taken as `.dockerignore` lines.
    pub fn from_patterns(patterns: &[String]) -> Result<DockerIgnore, BadPattern> {
        let mut rules = Vec::new();
        for p in patterns {
            let (exclude, pat) = match p.strip_prefix('!') {
                Some(rest) => (false, rest.trim()),
                None => (true, p.trim()),
            };
            let cleaned = super::glob::clean(pat);
            if !cleaned.is_empty() {
                rules.push((Pattern::new(&cleaned)?, exclude));
            }
        }
        Ok(DockerIgnore { rules })
    }

    /// Whether no pattern excludes anything.
    pub fn is_empty(&self) -> bool {
        !self.rules.iter().any(|(_, exclude)| *exclude)
    }

    /// Whether a `!` pattern may bring back a path below an excluded directory.
    pub fn has_exceptions(&self) -> bool {
        self.rules.iter().any(|(_, exclude)| !*exclude)
    }

    /// Whether the context-relative `path` is excluded from the build.
    pub fn excludes(&self, path: &str) -> bool {
        let mut excluded = false;
        for (pat, exclude) in &self.rules {
            if excluded != *exclude && pat.matches_or_parent(path) {
                excluded = *exclude;
            }
        }
        excluded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_match_wins() {
        let d = DockerIgnore::parse("# c\n*.md\n!README.md\nbuild/\n**/*.tmp\n").unwrap();
        assert!(d.excludes("CHANGES.md"));
        assert!(!d.excludes("README.md"));
        assert!(d.excludes("build/x/y"));
        assert!(d.excludes("a/b/c.tmp"));
        assert!(!d.excludes("src/main.rs"));
    }
}
