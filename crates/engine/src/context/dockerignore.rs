//! `.dockerignore`: which context paths a build may see. Lines are patterns (comments with
//! `#`, `!` re-includes); the last matching pattern decides, as in Docker.

use super::glob::{BadPattern, Pattern};

#[derive(Clone, Debug, Default)]
pub struct DockerIgnore {
    rules: Vec<(Pattern, bool)>,
}

impl DockerIgnore {
    pub fn parse(text: &str) -> Result<DockerIgnore, BadPattern> {
        let mut rules = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exclude, pat) = match line.strip_prefix('!') {
                Some(rest) => (false, rest.trim()),
                None => (true, line),
            };
            let cleaned = super::glob::clean(pat);
            if cleaned.is_empty() {
                continue;
            }
            rules.push((Pattern::new(&cleaned)?, exclude));
        }
        Ok(DockerIgnore { rules })
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
