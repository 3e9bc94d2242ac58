//! The provenance's [`BuildRecord`] from what the executor knows: the flags, the
//! Dockerfile, the context, the images the build resolved. Secret values never enter it:
//! `--secret` appears by id only, and build args whose names mark a credential (as the
//! redact crate defines them: `*token*`, `*password*`, `*secret*` …) are left out; the
//! values kept have any URL credentials removed.

use super::recorded_source::Resolved;
use super::Facts;
use crate::cli::{Options, ProvenanceRequest};
use attest::provenance::steps::{Network, Op, Step};
use attest::provenance::{BuildRecord, Context, ContextDigest, Dependency, Dockerfile, SecretUse};
use attest::purl::ImageName;
use contextsrc::ContextSource;
use dockerfile::{CommandLine, Instruction};
use registry::Reference;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::SystemTime;

pub fn record(opts: &Options, req: ProvenanceRequest, f: &Facts) -> BuildRecord {
    let version = env!("CARGO_PKG_VERSION");
    let local = matches!(
        opts.context,
        ContextSource::Dir(_) | ContextSource::Tar(_) | ContextSource::TarStdin
    );
    let digest = match &f.git_commit {
        Some(c) => ContextDigest::GitCommit(c.clone()),
        None => ContextDigest::Sha256(f.context_digest.clone()),
    };
    BuildRecord {
        builder_id: format!("pkg:generic/kaniko-rs@{version}"),
        builder_version: BTreeMap::from([("kaniko-rs".to_string(), version.to_string())]),
        invocation_id: invocation_id(f.started),
        started_on: f.started,
        finished_on: SystemTime::now(),
        mode: req.mode,
        dockerfile: Dockerfile {
            path: opts.dockerfile.clone(),
            location: f.dockerfile_path.display().to_string(),
            sha256: hex::encode(Sha256::digest(f.dockerfile_text.as_bytes())),
            text: f.dockerfile_text.to_string(),
        },
        context: Context {
            uri: opts.context.redacted(),
            local,
            digest,
        },
        build_args: build_args(opts),
        labels: opts.labels.iter().cloned().collect(),
        target: opts.target.clone(),
        platform: f.platform.to_string(),
        builder_platform: format!("linux/{}", engine::host_arch()),
        secrets: opts
            .secrets
            .iter()
            .map(|s| SecretUse {
                id: s.id.clone(),
                optional: false,
            })
            .collect(),
        ssh: Vec::new(),
        dependencies: f
            .resolved
            .iter()
            .filter_map(dependency)
            .chain(f.downloads.iter().map(|(url, digest)| Dependency::Http {
                url: url.clone(),
                digest: digest.clone(),
            }))
            .chain(f.clones.iter().map(|(url, commit)| Dependency::Git {
                url: url.clone(),
                commit: commit.clone(),
            }))
            .collect(),
        reproducible: opts.reproducible,
        network: has_run(f.df),
        steps: steps(f.df, &f.resolved),
    }
}

/// `--build-arg`s that reached the build, minus those named like credentials.
fn build_args(opts: &Options) -> BTreeMap<String, String> {
    opts.build_args
        .iter()
        .filter(|(k, _)| !redact::is_secret_param(k))
        .filter_map(|(k, v)| Some((k.clone(), redact::urls_in(v.as_deref()?))))
        .collect()
}

fn dependency(r: &Resolved) -> Option<Dependency> {
    let parsed: Reference = r.name.parse().ok()?;
    Some(Dependency::Image {
        name: ImageName {
            registry: parsed.registry,
            repository: parsed.repository,
            tag: parsed.tag,
            digest: Some(r.digest.clone()),
        },
        platform: Some(r.platform.clone()),
        digest: r.digest.clone(),
    })
}

/// Unique per run: the start time and the process id, hashed.
fn invocation_id(started: SystemTime) -> String {
    let nanos = started
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let seed = format!("{nanos}-{}", std::process::id());
    hex::encode(&Sha256::digest(seed.as_bytes())[..16])
}

fn has_run(df: &dockerfile::Dockerfile) -> bool {
    df.stages
        .iter()
        .flat_map(|s| &s.commands)
        .any(|c| matches!(c.instruction, Instruction::Run(_)))
}

/// mode=max's per-instruction record: per stage, its base as a source step, then one step
/// per instruction reading the step before it, with its Dockerfile line. Instructions are
/// recorded as written (no variable expanded: no build-arg value enters).
/// A RUN's process arguments as BuildKit records them: the exec form as written, the
/// shell form after the stage's `SHELL` (the Dockerfile's text, variables unexpanded).
fn exec_args(shell: &[String], command: &CommandLine) -> Vec<String> {
    match command {
        CommandLine::Exec(args) => args.clone(),
        CommandLine::Shell(line) => shell.iter().cloned().chain([line.clone()]).collect(),
    }
}

fn network_of(mode: Option<&str>) -> Network {
    match mode {
        Some("none") => Network::None,
        Some("host") => Network::Host,
        _ => Network::Sandbox,
    }
}

fn steps(df: &dockerfile::Dockerfile, resolved: &[Resolved]) -> Vec<Step> {
    let mut out = Vec::new();
    for stage in &df.stages {
        let digest = resolved
            .iter()
            .find(|r| r.name == stage.base)
            .map(|r| format!("@{}", r.digest))
            .unwrap_or_default();
        out.push(Step {
            op: Op::Source {
                identifier: format!("docker-image://{}{digest}", stage.base),
                attrs: BTreeMap::new(),
            },
            inputs: Vec::new(),
            lines: Some((stage.line as u32, stage.line as u32)),
        });
        let mut shell = vec!["/bin/sh".to_string(), "-c".to_string()];
        for c in &stage.commands {
            if let Instruction::Shell(s) = &c.instruction {
                shell = s.clone();
            }
            let op = match &c.instruction {
                Instruction::Run(r) => Op::Exec {
                    args: exec_args(&shell, &r.command),
                    env: Vec::new(),
                    cwd: "/".into(),
                    user: String::new(),
                    network: network_of(r.network.as_deref()),
                    mounts: Vec::new(),
                },
                _ => Op::File {
                    actions: Vec::new(),
                },
            };
            let prev = out.len() - 1;
            out.push(Step {
                op,
                inputs: vec![prev],
                lines: Some((c.line as u32, c.line as u32)),
            });
        }
    }
    out
}
