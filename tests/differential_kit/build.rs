//! The two builders of a case: BuildKit in the private dockerd (`docker build`, then
//! `docker save`), and the executor in the pod-like sandbox (`--tar-path`). Each gives the
//! image read back as a docker-archive, or the build's error output.

use super::case::Case;
use super::image::{read_archive, Image};
use std::path::Path;
use testkit::docker::Docker;

pub type Built = Result<Image, String>;

/// BuildKit (the daemon's v0.8) builds the case from `ctx`.
pub fn buildkit(docker: &Docker, case: &Case, ctx: &Path, out: &Path) -> Built {
    let tag = format!("conformance/{}:latest", case.name);
    let mut args = vec!["-t".to_string(), tag.clone()];
    args.extend(case.flags_for(&ctx.to_string_lossy()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let built = docker
        .buildkit_build(ctx, &refs)
        .map_err(|e| format!("{e:#}"))?;
    if built.status != 0 {
        return Err(tail(&built.stderr));
    }
    let archive = out.join("buildkit.tar");
    docker
        .docker_ok(&["save", "-o", &archive.to_string_lossy(), &tag])
        .map_err(|e| format!("{e:#}"))?;
    let img = read_archive(&archive);
    let _ = std::fs::remove_file(&archive);
    img
}

/// The executor builds the case from `ctx` (at /workspace in the sandbox).
pub fn ours(executor: &Path, case: &Case, ctx: &Path, registry: &str) -> Built {
    let mut sb = testkit::sandbox::Sandbox::new(executor).map_err(|e| format!("{e:#}"))?;
    sb.context(ctx);
    let dest = format!("{registry}/conformance/{}:latest", case.name);
    let mut args: Vec<String> = [
        "--context=dir:///workspace",
        "--dockerfile=/workspace/Dockerfile",
        "--insecure",
        "--insecure-pull",
        "--no-push",
        "--tar-path=/kaniko/image.tar",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(format!("--destination={dest}"));
    args.extend(case.flags_for("/workspace"));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = sb.run(&refs).map_err(|e| format!("{e:#}"))?;
    if out.status != 0 {
        return Err(tail(&out.stderr));
    }
    read_archive(&sb.root().join("kaniko/image.tar"))
}

/// The last lines of a build's output: where its error is.
fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(6)..].join("\n")
}
