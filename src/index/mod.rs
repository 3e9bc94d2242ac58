//! `executor index --destination REPO:TAG SOURCE...`: the fan-in step of per-node builds.
//! Reads each source (an image, or an index whose entries it takes), pushes one index over
//! them (a Docker manifest list when every entry is Docker-typed, else an OCI index) to
//! every destination, and writes the digest files. A source in another repository is made
//! to exist in the destination's first (`Client::copy_manifest`: mounted on one registry,
//! streamed between registries); one in the destination's repository is only referenced.
//! As with the build's push: every child everywhere first, then the tags.

mod sources;

use crate::cli::IndexOptions;
use crate::output::{write_digest_files, DigestFiles};
use crate::registry_client::client_for;
use anyhow::{bail, Context as _};
use image::Index;
use registry::{Client, Reference};
use std::process::ExitCode;
use tracing::info;

pub fn main(opts: IndexOptions) -> ExitCode {
    let log = (opts.log_format, opts.verbosity, opts.log_timestamp);
    crate::subcommand::run(log, run(&opts))
}

async fn run(opts: &IndexOptions) -> anyhow::Result<()> {
    let destinations = destinations(&opts.destinations)?;
    let startup = crate::startup::Startup::capture(resolve::Resolver::from_system());
    let client = client_for(&opts.registry, opts.push_retry, &opts.kaniko_dir, &startup)?;
    let entries = sources::entries(&client, &opts.sources).await?;
    sources::check_platforms(&entries)?;
    for e in &entries {
        let platform = e.desc.platform.as_ref().map(ToString::to_string);
        info!(
            "Index entry {}: {}@{}",
            platform.as_deref().unwrap_or("(no platform)"),
            e.at.repo_str(),
            e.desc.digest
        );
    }
    let index = Index::over(entries.iter().map(|e| e.desc.clone()).collect());
    let (bytes, desc) = index.to_bytes();
    for dest in &destinations {
        copy_children(&client, &entries, dest).await?;
    }
    for dest in &destinations {
        info!("Pushing index to {dest}");
        let digest = client
            .put_manifest(dest, &bytes, index.media_type())
            .await?;
        info!("Pushed {}@{digest}", dest.repo_str());
    }
    let files = DigestFiles {
        digest: opts.digest_file.clone(),
        name_with_digest: opts.image_name_with_digest_file.clone(),
        name_tag_with_digest: opts.image_name_tag_with_digest_file.clone(),
    };
    write_digest_files(&files, &desc.digest, &destinations)?;
    Ok(())
}

/// The destinations, each with a tag (an index's digest is known only once it is made).
fn destinations(given: &[String]) -> anyhow::Result<Vec<Reference>> {
    given
        .iter()
        .map(|d| {
            let r: Reference = d.parse()?;
            if r.digest.is_some() {
                bail!("--destination {d}: name a tag, not a digest (the index's digest is known once it is made)");
            }
            Ok(r)
        })
        .collect()
}

/// Makes every entry's manifest exist in `dest`'s repository.
async fn copy_children(
    client: &Client,
    entries: &[sources::Entry],
    dest: &Reference,
) -> anyhow::Result<()> {
    for e in entries {
        let done = client
            .copy_manifest(&e.at, dest, &e.desc.digest)
            .await
            .with_context(|| {
                format!(
                    "copying {}@{} into {}",
                    e.at.repo_str(),
                    e.desc.digest,
                    dest.repo_str()
                )
            })?;
        if done.manifests > 0 {
            info!(
                "Copied {}@{} into {}: {} blobs mounted, {} sent, {} already there",
                e.at.repo_str(),
                e.desc.digest,
                dest.repo_str(),
                done.mounted,
                done.uploaded,
                done.existed
            );
        }
    }
    Ok(())
}
