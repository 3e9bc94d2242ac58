//! `--oci-layout-path`: an OCI image layout directory (oci-layout, index.json, blobs/),
//! written through the `ocilayout` crate (files renamed into place). Its index.json names
//! the built image, or with several platforms each platform's manifest (with its
//! platform); the index pushed to the destinations is stored among the blobs too. With
//! attestations index.json names that index (as BuildKit's `type=oci` does): an
//! attestation manifest listed at the top would look like one more image to readers.

use super::blobs::BlobCache;
use super::images::ImageSet;
use super::OutputError;
use image::Descriptor;
use ocilayout::{Layout, Place};
use registry::Client;
use std::path::Path;

pub async fn write_layout(
    dir: &Path,
    set: &ImageSet,
    client: &Client,
    cache: &BlobCache,
) -> Result<(), OutputError> {
    let layout = Layout::new(dir);
    layout.create()?;
    for img in &set.images {
        for layer in &img.built.layers {
            let src = cache.path(client, layer).await?;
            layout.put_file(&layer.desc.digest, &src, Place::Copy)?;
        }
        layout.put_bytes(&img.fin.config)?;
        layout.put_bytes(&img.fin.manifest_bytes)?;
    }
    for (_, bytes) in set.attestation_parts() {
        layout.put_bytes(bytes)?;
    }
    let mut index = ocilayout::empty_index();
    match set.index() {
        Some(top) if set.has_attestations() => {
            layout.put_bytes(&top.bytes)?;
            index.manifests.push(top.desc);
        }
        Some(top) => {
            layout.put_bytes(&top.bytes)?;
            index.manifests = set.descriptors();
        }
        None => {
            index.manifests = set
                .descriptors()
                .into_iter()
                .map(without_platform)
                .collect()
        }
    }
    Ok(layout.write_index(&index)?)
}

/// A single image's entry names no platform (as before multi-platform builds).
fn without_platform(d: Descriptor) -> Descriptor {
    Descriptor {
        platform: None,
        ..d
    }
}
