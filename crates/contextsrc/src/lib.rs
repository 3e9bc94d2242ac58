//! Build contexts, read as kaniko reads them: a local directory or tar archive (a file, or
//! standard input up to the archive's end marker) ([`ContextSource::prepare`]), and remote
//! sources unpacked into a directory:
//!
//! - `git://host/org/repo.git[#ref[#commit]]` over HTTPS (plain HTTP with
//!   `GIT_PULL_METHOD=http`), fetched shallow where the ref or commit allows ([`git`]);
//! - `s3://bucket/key`, `gs://bucket/key` and Azure Blob URLs, one object-storage client for
//!   all three ([`bucket`]);
//! - a plain `https://host/path.tar.gz` download ([`https`]).
//!
//! Archives stream from the network straight into `rootfs`' contained extractor (the one
//! layers use): nothing is held whole in memory or written twice. Credentials come from the
//! environment ([`Env`]) and never reach a log line or an error message.

pub mod bucket;
mod context;
mod env;
mod error;
pub mod git;
pub mod https;
mod local;
mod source;
mod tar_end;
mod unpack;

pub use context::ContextSource;
pub use env::{Env, Secret};
pub use error::Error;
pub use git::GitOptions;
pub use https::TlsOptions;
pub use source::{BucketUrl, GitUrl, Source};

use std::path::Path;

/// Everything a fetch needs besides the source itself.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `--git` options (git sources only).
    pub git: GitOptions,
    /// TLS settings for plain HTTPS downloads, as the registry flags give them.
    pub tls: TlsOptions,
    /// The environment variables the sources read (credentials, endpoints).
    pub env: Env,
    /// How names are resolved (never through libc): the configuration read at start.
    pub resolver: resolve::Resolver,
    /// Where `GIT_TOKEN`, `GIT_USERNAME` and `GIT_PASSWORD` may go besides a git
    /// context's own repository (`ADD <git URL>`): `[scheme://]host[:port]`, https unless
    /// written otherwise (see [`git::credentials_allowed`]).
    pub credential_origins: Vec<String>,
    /// How far a downloaded archive may expand when unpacked.
    pub expansion: Expansion,
}

/// The bound on an archive's unpacked size, as layers have it (`KANIKO_MAX_LAYER_EXPANSION`):
/// at most `ratio` times the compressed bytes read so far, or `floor` bytes, whichever is
/// more; `ratio` 0 means no bound (the default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expansion {
    pub ratio: u64,
    pub floor: u64,
}

/// Fetches `source` into `dest` (created if missing; expected empty). Runs on a thread of
/// its own with its own runtime, so it may be called from inside an async context.
pub fn fetch(source: &Source, opts: &Options, dest: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dest).map_err(|e| Error::io(dest, e))?;
    std::thread::scope(|s| {
        s.spawn(|| match source {
            Source::Git(url) => git::fetch(url, opts, dest),
            Source::Bucket(url) => bucket::fetch(url, opts, dest),
            Source::Https(url) => https::fetch(url, opts, dest),
        })
        .join()
        .unwrap_or_else(|_| Err(Error::Internal("the context fetch thread panicked".into())))
    })
}
