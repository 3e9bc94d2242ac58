//! What the executor records about a build, in plain values; the predicates are written
//! from this alone. Secret values never belong here: build args that carry secrets are left
//! out by the caller, secrets and ssh forwards appear by id only.

use crate::purl::ImageName;
use std::collections::BTreeMap;
use std::time::SystemTime;

/// BuildKit's `mode`: `min` leaves out build args, labels, secrets, ssh ids and the
/// per-instruction record; `max` has them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Min,
    Max,
}

#[derive(Clone, Debug)]
pub struct BuildRecord {
    /// `builder.id`: a URI naming the executor (BuildKit leaves it empty unless set).
    pub builder_id: String,
    /// Component versions, e.g. `{"kaniko-rs": "0.1.0"}` (SLSA v1 `builder.version`).
    pub builder_version: BTreeMap<String, String>,
    /// Unique per build run.
    pub invocation_id: String,
    pub started_on: SystemTime,
    pub finished_on: SystemTime,
    pub mode: Mode,
    pub dockerfile: Dockerfile,
    pub context: Context,
    /// `--build-arg` values that reached the build, secrets left out by the caller.
    pub build_args: BTreeMap<String, String>,
    /// `--label` values.
    pub labels: BTreeMap<String, String>,
    /// `--target`.
    pub target: Option<String>,
    /// The platform built for (`linux/amd64`).
    pub platform: String,
    /// The platform of the machine that ran the build.
    pub builder_platform: String,
    /// `RUN --mount=type=secret` ids (never values).
    pub secrets: Vec<SecretUse>,
    /// `RUN --mount=type=ssh` ids.
    pub ssh: Vec<SecretUse>,
    /// Everything fetched: base images, `COPY --from` images, `ADD <url>` files, git sources.
    pub dependencies: Vec<Dependency>,
    /// `--reproducible` was given.
    pub reproducible: bool,
    /// Whether any RUN had network access (`--network=none` on every RUN, or no RUN: false).
    pub network: bool,
    /// Per-instruction records, written in `mode=max` (see [`super::steps`]).
    pub steps: Vec<super::steps::Step>,
}

/// The Dockerfile as the build read it.
#[derive(Clone, Debug)]
pub struct Dockerfile {
    /// As given by `--dockerfile` (relative to the context when it is inside it).
    pub path: String,
    /// The absolute path the executor read it from (a material `file://<location>`).
    pub location: String,
    /// Lowercase hex SHA-256 of its bytes.
    pub sha256: String,
    /// Its text (written in `mode=max` only).
    pub text: String,
}

/// Where the build context came from.
#[derive(Clone, Debug)]
pub struct Context {
    /// The `--context` value as given (`dir:///workspace`, `git://host/repo.git#ref`,
    /// `s3://…`); credentials are removed when written.
    pub uri: String,
    /// A local directory or tar stream (BuildKit's "local" sources), rather than fetched.
    pub local: bool,
    pub digest: ContextDigest,
}

#[derive(Clone, Debug)]
pub enum ContextDigest {
    /// The commit a git context resolved to (SHA-1, or SHA-256 for 64 hex digits).
    GitCommit(String),
    /// A digest of the context tree (or archive) as the executor computes it: lowercase hex
    /// SHA-256.
    Sha256(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretUse {
    pub id: String,
    pub optional: bool,
}

/// One fetched input and the digest it resolved to.
#[derive(Clone, Debug)]
pub enum Dependency {
    /// An image (`FROM`, `COPY --from`, `RUN --mount=from`); `digest` is `sha256:…` of the
    /// manifest pulled.
    Image {
        name: ImageName,
        platform: Option<String>,
        digest: String,
    },
    /// An `ADD <url>` download; `digest` is `sha256:…` of the bytes.
    Http { url: String, digest: String },
    /// A git source (context or `ADD <git url>`) and the commit it resolved to.
    Git { url: String, commit: String },
}
