//! What the documents need to know about the run: gathered before the build (the
//! Dockerfile's text, the context's git commit or tree digest), then per target right
//! after its build (its platform, the images resolved for it, the downloads).

use super::{context_digest, RecordedSource, Resolved};
use crate::cli::Options;
use anyhow::Context as _;
use image::Platform;
use std::path::Path;
use std::time::SystemTime;

/// What the run learnt that the documents need.
pub struct Facts<'a> {
    pub started: SystemTime,
    pub df: &'a dockerfile::Dockerfile,
    pub dockerfile_path: &'a Path,
    pub dockerfile_text: String,
    pub platform: Platform,
    pub resolved: Vec<Resolved>,
    /// `ADD <url>` downloads: URL and digest.
    pub downloads: Vec<(String, String)>,
    /// `ADD <git URL>` clones: URL and commit.
    pub clones: Vec<(String, String)>,
    /// The commit of a git context.
    pub git_commit: Option<String>,
    /// Lowercase hex SHA-256 over the context tree (see [`context_digest`]).
    pub context_digest: String,
}

impl<'a> Facts<'a> {
    /// What is known before the build: the Dockerfile's text, and the context's git commit
    /// or tree digest (provenance only). `work` is the work directory a remote context was
    /// fetched into.
    pub fn gather(
        opts: &Options,
        df: &'a dockerfile::Dockerfile,
        dockerfile_path: &'a Path,
        (context_dir, work): (&Path, &Path),
        started: SystemTime,
    ) -> anyhow::Result<Facts<'a>> {
        let text = std::fs::read(dockerfile_path)
            .with_context(|| format!("reading Dockerfile {}", dockerfile_path.display()))?;
        let git_commit = match opts.context {
            contextsrc::ContextSource::Git { .. } => context_dir
                .ancestors()
                .take_while(|d| d.starts_with(work))
                .find_map(contextsrc::git::head_commit),
            _ => None,
        };
        let context_digest = match (&opts.attestations.provenance, &git_commit) {
            (Some(_), None) => context_digest(context_dir)
                .with_context(|| format!("hashing the context {}", context_dir.display()))?,
            _ => String::new(),
        };
        Ok(Facts {
            started,
            df,
            dockerfile_path,
            dockerfile_text: String::from_utf8_lossy(&text).into_owned(),
            platform: Platform::default(),
            resolved: Vec::new(),
            downloads: Vec::new(),
            clones: Vec::new(),
            git_commit,
            context_digest,
        })
    }

    /// Set for one target just built: its platform, the images its build used (`bases`: its
    /// stages' base images with their platforms; see `RecordedSource::resolved_for`), and every
    /// `ADD <url>` downloaded and `ADD <git URL>` cloned so far (neither names a platform).
    pub fn target(
        &mut self,
        platform: &Platform,
        recorded: &RecordedSource,
        (all, bases): (&[Platform], &[(String, Platform)]),
    ) {
        self.platform = platform.clone();
        self.resolved = recorded.resolved_for(platform, all, bases);
        self.downloads = recorded.downloads();
        self.clones = recorded.clones();
    }
}
