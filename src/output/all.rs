//! Every output a build asks for, in kaniko's order: the OCI layout and the tarball, the
//! push (then Cloud Build's `$BUILDER_OUTPUT/images`), and last the digest files.

use super::ImmutableTags;
use super::{builder_output, digest_files, layout, push, tarball, BlobCache, ImageSet};
use crate::cli::Options;
use registry::{Client, Reference};
use std::path::Path;
use tracing::info;

/// Writes and pushes `set` as `opts` asks; the digest files only once all else succeeded.
/// With several images or attestations (see [`super::attestations`]) every output holds
/// the set's index, and the digest files name it.
pub async fn write_all(
    opts: &Options,
    client: &Client,
    set: &ImageSet,
    destinations: &[Reference],
    work: &Path,
) -> anyhow::Result<()> {
    let digest = set.digest();
    let cache = BlobCache::new(work);
    if let Some(dir) = &opts.oci_layout_path {
        layout::write_layout(dir, set, client, &cache).await?;
    }
    if let Some(path) = &opts.tar_path {
        tarball::write_tarball(path, set, destinations, client, &cache).await?;
    }
    if opts.no_push {
        info!("Skipping push to container registry due to --no-push flag");
    } else {
        let immutable = if opts.push_ignore_immutable_tag_errors {
            ImmutableTags::Ignore
        } else {
            ImmutableTags::Fail
        };
        push::push_all(client, set, destinations, &cache, immutable).await?;
        // As kaniko: only once every destination was pushed.
        if let Some(dir) = &opts.env.builder_output {
            builder_output::write_builder_output(dir, &opts.destinations, &digest)?;
        }
    }
    let files = digest_files::DigestFiles {
        digest: opts.digest_file.clone(),
        name_with_digest: opts.image_name_with_digest_file.clone(),
        name_tag_with_digest: opts.image_name_tag_with_digest_file.clone(),
    };
    digest_files::write_digest_files(&files, &digest, destinations)?;
    Ok(())
}
