//! SLSA provenance in BuildKit's shape (its `docs/attestations/slsa-definitions.md` and
//! `solver/llbsolver/provenance`): v1 (`buildDefinition`, `runDetails`) and v0.2
//! (`builder`, `invocation`, `materials`, `metadata`), written from a [`BuildRecord`].
//!
//! Where each field comes from: `builder.id` and versions from the record;
//! `configSource` is the context's URI and digest when it was fetched (BuildKit leaves both
//! out for local contexts) and the Dockerfile's path; `request.args` holds `build-arg:*`,
//! `label:*` (mode=max only, as BuildKit), `target` and `platform`; `secrets`/`ssh` list ids
//! (mode=max); materials (`resolvedDependencies`) are every image as a `pkg:docker` purl
//! with the manifest digest, `ADD` downloads, git sources, a local context with its tree
//! digest, and the Dockerfile with its SHA-256; mode=max adds the per-instruction record
//! ([`steps`]) and the Dockerfile's text.

mod record;
pub mod steps;

pub use record::{BuildRecord, Context, ContextDigest, Dependency, Dockerfile, Mode, SecretUse};

use crate::purl;
use crate::time::rfc3339;
use serde_json::{json, Map, Value};

/// BuildKit's build types: the fields mean what its slsa-definitions document says.
pub const BUILD_TYPE_V1: &str =
    "https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md";
pub const BUILD_TYPE_V02: &str = "https://mobyproject.org/buildkit@v1";

/// Which SLSA provenance to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlsaVersion {
    /// `https://slsa.dev/provenance/v0.2` (BuildKit's default up to v0.27).
    V02,
    /// `https://slsa.dev/provenance/v1` (BuildKit's default since v0.28).
    V1,
}

impl SlsaVersion {
    pub fn predicate_type(self) -> &'static str {
        match self {
            SlsaVersion::V02 => "https://slsa.dev/provenance/v0.2",
            SlsaVersion::V1 => "https://slsa.dev/provenance/v1",
        }
    }
}

/// The provenance predicate of `r`.
pub fn predicate(r: &BuildRecord, version: SlsaVersion) -> Value {
    let parts = Parts::new(r);
    match version {
        SlsaVersion::V1 => v1(r, &parts),
        SlsaVersion::V02 => v02(r, &parts),
    }
}

/// What both versions share.
struct Parts {
    config_source: Map<String, Value>,
    request: Value,
    request_complete: bool,
    materials: Vec<Value>,
    materials_complete: bool,
    hermetic: bool,
    build_config: Option<Value>,
    buildkit_metadata: Value,
}

impl Parts {
    fn new(r: &BuildRecord) -> Parts {
        let max = r.mode == Mode::Max;
        let mut config_source = Map::new();
        if !r.context.local {
            config_source.insert("uri".into(), json!(redact::url(&r.context.uri)));
            config_source.insert("digest".into(), context_digest(&r.context.digest));
        }
        let mut args = Map::new();
        if max {
            for (k, v) in &r.build_args {
                args.insert(format!("build-arg:{k}"), json!(v));
            }
            for (k, v) in &r.labels {
                args.insert(format!("label:{k}"), json!(v));
            }
        }
        args.insert("platform".into(), json!(r.platform));
        if let Some(t) = &r.target {
            args.insert("target".into(), json!(t));
        }
        let mut request = Map::new();
        request.insert("frontend".into(), json!("dockerfile.v0"));
        request.insert("args".into(), Value::Object(args));
        if max && !r.secrets.is_empty() {
            request.insert("secrets".into(), ids(&r.secrets));
        }
        if max && !r.ssh.is_empty() {
            request.insert("ssh".into(), ids(&r.ssh));
        }
        if r.context.local {
            request.insert(
                "locals".into(),
                json!([{"name": "context"}, {"name": "dockerfile"}]),
            );
        }
        let request_complete = max || (r.build_args.is_empty() && r.labels.is_empty());
        let materials_complete = !r.context.local;
        let mut buildkit_metadata = Map::new();
        if max {
            buildkit_metadata.insert(
                "source".into(),
                steps::source(&r.steps, &r.dockerfile.path, &r.dockerfile.text),
            );
        }
        Parts {
            config_source,
            request: Value::Object(request),
            request_complete,
            materials: materials(r),
            materials_complete,
            hermetic: materials_complete && !r.network,
            build_config: max.then(|| steps::build_config(&r.steps, &r.platform)),
            buildkit_metadata: Value::Object(buildkit_metadata),
        }
    }
}

fn ids(v: &[SecretUse]) -> Value {
    Value::Array(
        v.iter()
            .map(|s| {
                let mut m = Map::new();
                m.insert("id".into(), json!(s.id));
                if s.optional {
                    m.insert("optional".into(), json!(true));
                }
                Value::Object(m)
            })
            .collect(),
    )
}

/// BuildKit's `digestSetForCommit`: 64 hex digits are SHA-256, else SHA-1.
fn context_digest(d: &ContextDigest) -> Value {
    match d {
        ContextDigest::GitCommit(c) if c.len() == 64 => json!({"sha256": c}),
        ContextDigest::GitCommit(c) => json!({"sha1": c}),
        ContextDigest::Sha256(h) => json!({"sha256": h}),
    }
}

/// `sha256:hex` as a DigestSet.
fn digest_set(d: &str) -> Value {
    match d.split_once(':') {
        Some((alg, hex)) => json!({ alg: hex }),
        None => json!({ "sha256": d }),
    }
}

fn materials(r: &BuildRecord) -> Vec<Value> {
    let mut out: Vec<Value> = r
        .dependencies
        .iter()
        .map(|d| match d {
            Dependency::Image {
                name,
                platform,
                digest,
            } => {
                json!({"uri": purl::image(name, platform.as_deref()), "digest": digest_set(digest)})
            }
            Dependency::Http { url, digest } => {
                json!({"uri": redact::url(url), "digest": digest_set(digest)})
            }
            Dependency::Git { url, commit } => json!({
                "uri": redact::url(url),
                "digest": context_digest(&ContextDigest::GitCommit(commit.clone())),
            }),
        })
        .collect();
    if r.context.local {
        out.push(json!({
            "uri": redact::url(&r.context.uri),
            "digest": context_digest(&r.context.digest),
        }));
    }
    out.push(json!({
        "uri": format!("file://{}", r.dockerfile.location),
        "digest": {"sha256": r.dockerfile.sha256},
    }));
    out
}

fn v1(r: &BuildRecord, p: &Parts) -> Value {
    let mut config_source = p.config_source.clone();
    config_source.insert("path".into(), json!(r.dockerfile.path));
    let mut internal = Map::new();
    if let Some(bc) = &p.build_config {
        internal.insert("buildConfig".into(), bc.clone());
    }
    internal.insert("builderPlatform".into(), json!(r.builder_platform));
    let mut builder = Map::new();
    builder.insert("id".into(), json!(r.builder_id));
    if !r.builder_version.is_empty() {
        builder.insert("version".into(), json!(r.builder_version));
    }
    let mut metadata = Map::new();
    metadata.insert("invocationId".into(), json!(r.invocation_id));
    metadata.insert("startedOn".into(), json!(rfc3339(r.started_on)));
    metadata.insert("finishedOn".into(), json!(rfc3339(r.finished_on)));
    metadata.insert("buildkit_metadata".into(), p.buildkit_metadata.clone());
    if p.hermetic {
        metadata.insert("buildkit_hermetic".into(), json!(true));
    }
    metadata.insert(
        "buildkit_completeness".into(),
        json!({"request": p.request_complete, "resolvedDependencies": p.materials_complete}),
    );
    if r.reproducible {
        metadata.insert("buildkit_reproducible".into(), json!(true));
    }
    json!({
        "buildDefinition": {
            "buildType": BUILD_TYPE_V1,
            "externalParameters": {
                "configSource": config_source,
                "request": p.request,
            },
            "internalParameters": internal,
            "resolvedDependencies": p.materials,
        },
        "runDetails": {
            "builder": builder,
            "metadata": metadata,
        },
    })
}

/// BuildKit's `ConvertToSLSA02` of the same facts.
fn v02(r: &BuildRecord, p: &Parts) -> Value {
    let mut config_source = p.config_source.clone();
    config_source.insert("entryPoint".into(), json!(r.dockerfile.path));
    let mut metadata = Map::new();
    metadata.insert("buildInvocationID".into(), json!(r.invocation_id));
    metadata.insert("buildStartedOn".into(), json!(rfc3339(r.started_on)));
    metadata.insert("buildFinishedOn".into(), json!(rfc3339(r.finished_on)));
    metadata.insert(
        "completeness".into(),
        json!({"parameters": p.request_complete, "environment": true, "materials": p.materials_complete}),
    );
    metadata.insert("reproducible".into(), json!(r.reproducible));
    metadata.insert(
        "https://mobyproject.org/buildkit@v1#metadata".into(),
        p.buildkit_metadata.clone(),
    );
    if p.hermetic {
        metadata.insert(
            "https://mobyproject.org/buildkit@v1#hermetic".into(),
            json!(true),
        );
    }
    let mut out = Map::new();
    out.insert("builder".into(), json!({"id": r.builder_id}));
    out.insert("buildType".into(), json!(BUILD_TYPE_V02));
    out.insert("materials".into(), Value::Array(p.materials.clone()));
    out.insert(
        "invocation".into(),
        json!({
            "configSource": config_source,
            "parameters": p.request,
            "environment": {"platform": r.builder_platform},
        }),
    );
    if let Some(bc) = &p.build_config {
        out.insert("buildConfig".into(), bc.clone());
    }
    out.insert("metadata".into(), Value::Object(metadata));
    Value::Object(out)
}

#[cfg(test)]
mod tests;
