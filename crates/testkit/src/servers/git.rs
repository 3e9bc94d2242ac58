//! Git repositories for the HTTP server, made with the git command line: a working
//! repository where the test writes files, commits, branches and tags, then publishes it
//! as a bare repository under the server's project root.

use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::Command;

/// A working repository on branch `main`; removed on drop.
pub struct WorkRepo {
    dir: tempfile::TempDir,
}

impl WorkRepo {
    pub fn init() -> Result<WorkRepo> {
        let r = WorkRepo {
            dir: tempfile::Builder::new().prefix("gitwork-").tempdir()?,
        };
        r.git(&["init", "-q", "-b", "main"])?;
        Ok(r)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `git ARGS` in the repository with a fixed identity; returns stdout trimmed.
    pub fn git(&self, args: &[&str]) -> Result<String> {
        let out = Command::new("git")
            .arg("-C")
            .arg(self.path())
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.path())
            .output()
            .context("running git")?;
        if !out.status.success() {
            bail!("git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Writes the files (path, contents), making parents.
    pub fn write(&self, files: &[(&str, &str)]) -> Result<()> {
        for (p, c) in files {
            let p = self.path().join(p);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(p, c)?;
        }
        Ok(())
    }

    /// Commits everything; returns the commit id.
    pub fn commit(&self, message: &str) -> Result<String> {
        self.git(&["add", "-A"])?;
        self.git(&["commit", "-q", "--allow-empty", "-m", message])?;
        self.git(&["rev-parse", "HEAD"])
    }

    /// Commits a submodule at `path` pointing to commit `id` of `url` (no clone needed;
    /// `commit` would drop the gitlink, whose directory is empty).
    pub fn add_submodule(&self, path: &str, url: &str, id: &str) -> Result<String> {
        let modules = format!("[submodule \"{path}\"]\n\tpath = {path}\n\turl = {url}\n");
        std::fs::write(self.path().join(".gitmodules"), modules)?;
        self.git(&["add", ".gitmodules"])?;
        let info = format!("160000,{id},{path}");
        self.git(&["update-index", "--add", "--cacheinfo", &info])?;
        self.git(&["commit", "-q", "-m", &format!("submodule {path}")])?;
        self.git(&["rev-parse", "HEAD"])
    }

    /// Publishes every branch and tag as the bare repository `<repos>/<name>`.
    pub fn publish(&self, repos: &Path, name: &str) -> Result<()> {
        let bare = repos.join(name);
        if !bare.exists() {
            let out = Command::new("git")
                .args(["init", "-q", "--bare", "-b", "main"])
                .arg(&bare)
                .output()?;
            if !out.status.success() {
                bail!("git init --bare: {}", String::from_utf8_lossy(&out.stderr));
            }
        }
        let target = bare.display().to_string();
        self.git(&["push", "-q", "--force", "--mirror", &target])?;
        Ok(())
    }
}
