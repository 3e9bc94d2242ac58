//! Every output a build asks for, in kaniko's order: the OCI layout and the tarball, the
//! push (then Cloud Build's `$BUILDER_OUTPUT/images`), and last the digest files.

use super::attestations::{self, Predicate};
use super::{builder_output, digest_files, layout, push, tarball, BlobCache, ImmutableTags};
use crate::cli::Options;
use engine::BuiltImage;
use registry::{Client, Reference};
use std::path::Path;
use tracing::info;

/// Writes and pushes `built` as `opts` asks; the digest files only once all else succeeded.
/// With `predicates`, the image goes out inside an index beside its attestation manifest
/// (see [`attestations`]), and the digest files name the index.
pub async fn write_all(
    opts: &Options,
    client: &Client,
    built: &BuiltImage,
    destinations: &[Reference],
    work: &Path,
    predicates: &[Predicate],
) -> anyhow::Result<()> {
    let fin = built.finish();
    let attached = attestations::for_image(built, &fin, destinations, predicates)?;
    let attached = attached.as_ref();
    let top = attached.map_or(&fin.digest, |a| &a.index_desc.digest);
    let cache = BlobCache::new(work);
    if let Some(dir) = &opts.oci_layout_path {
        layout::write_layout(dir, built, &fin, client, &cache, attached).await?;
    }
    if let Some(path) = &opts.tar_path {
        tarball::write_tarball(path, built, &fin, destinations, client, &cache, attached).await?;
    }
    if opts.no_push {
        info!("Skipping push to container registry due to --no-push flag");
    } else {
        let immutable = if opts.push_ignore_immutable_tag_errors {
            ImmutableTags::Ignore
        } else {
            ImmutableTags::Fail
        };
        push::push_all(
            client,
            built,
            &fin,
            destinations,
            &cache,
            immutable,
            attached,
        )
        .await?;
        // As kaniko: only once every destination was pushed.
        let dir = std::env::var_os(builder_output::BUILDER_OUTPUT).filter(|d| !d.is_empty());
        if let Some(dir) = dir {
            builder_output::write_builder_output(Path::new(&dir), &opts.destinations, top)?;
        }
    }
    let files = digest_files::DigestFiles {
        digest: opts.digest_file.clone(),
        name_with_digest: opts.image_name_with_digest_file.clone(),
        name_tag_with_digest: opts.image_name_tag_with_digest_file.clone(),
    };
    digest_files::write_digest_files(&files, top, destinations)?;
    Ok(())
}
