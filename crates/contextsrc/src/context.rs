//! Where a build context comes from (`--context`): a directory, a tar archive (a file or
//! standard input), or a remote source, told by the string's scheme.

use crate::{Error, GitUrl, Source};
use std::path::PathBuf;

/// Where the build context comes from (`--context`, or the hidden `--bucket`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContextSource {
    /// A local directory (no scheme, or `dir://`).
    Dir(PathBuf),
    /// A tar archive, maybe gzipped (`tar://path`).
    Tar(PathBuf),
    /// A tar archive on standard input (`tar://stdin`).
    TarStdin,
    /// `git://host/repo.git[#ref[#commit]]`: `repo` is without the scheme.
    Git {
        repo: String,
        reference: Option<String>,
        commit: Option<String>,
    },
    /// `gs://bucket/path.tar.gz`, kept whole.
    Gcs(String),
    /// `s3://bucket/path.tar.gz`, kept whole.
    S3(String),
    /// `https://...` (Azure blob storage or a plain download), kept whole.
    Https(String),
}

impl ContextSource {
    /// A context string by its scheme prefix; no scheme means a local directory.
    pub fn parse(s: &str) -> Result<ContextSource, String> {
        let Some((scheme, rest)) = s.split_once("://") else {
            return Ok(ContextSource::Dir(PathBuf::from(s)));
        };
        let need_rest = |r: &str| {
            if r.is_empty() {
                Err(format!("{scheme}:// needs a location"))
            } else {
                Ok(())
            }
        };
        match scheme {
            "dir" => need_rest(rest).map(|_| ContextSource::Dir(PathBuf::from(rest))),
            "tar" if rest == "stdin" => Ok(ContextSource::TarStdin),
            "tar" => need_rest(rest).map(|_| ContextSource::Tar(PathBuf::from(rest))),
            "git" => {
                need_rest(rest)?;
                let mut parts = rest.splitn(3, '#');
                let repo = parts.next().unwrap_or_default().to_string();
                let reference = parts.next().filter(|p| !p.is_empty()).map(str::to_string);
                let commit = parts.next().filter(|p| !p.is_empty()).map(str::to_string);
                Ok(ContextSource::Git { repo, reference, commit })
            }
            "gs" => need_rest(rest).map(|_| ContextSource::Gcs(s.to_string())),
            "s3" => need_rest(rest).map(|_| ContextSource::S3(s.to_string())),
            "https" | "http" => need_rest(rest).map(|_| ContextSource::Https(s.to_string())),
            _ => Err("unknown context scheme: want a directory, dir://, tar://, git://, gs://, s3:// or https://".into()),
        }
    }

    /// Where the context comes from, safe to log or trace: no user, password or query.
    pub fn redacted(&self) -> String {
        match self {
            ContextSource::Dir(p) => format!("dir://{}", p.display()),
            ContextSource::Tar(p) => format!("tar://{}", p.display()),
            ContextSource::TarStdin => "tar://stdin".into(),
            remote => match remote.remote() {
                Ok(Some(s)) => s.display(),
                _ => "(remote)".into(),
            },
        }
    }

    /// The remote source this context names; `None` for a directory or tar archive.
    pub fn remote(&self) -> Result<Option<Source>, Error> {
        match self {
            ContextSource::Dir(_) | ContextSource::Tar(_) | ContextSource::TarStdin => Ok(None),
            ContextSource::Git {
                repo,
                reference,
                commit,
            } => Ok(Some(Source::Git(GitUrl {
                repo: repo.clone(),
                reference: reference.clone(),
                commit: commit.clone(),
            }))),
            ContextSource::Gcs(s) | ContextSource::S3(s) | ContextSource::Https(s) => {
                Source::parse(s)
            }
        }
    }
}
