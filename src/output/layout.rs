//! `--oci-layout-path`: an OCI image layout directory (oci-layout, index.json, blobs/),
//! written through the `ocilayout` crate (files renamed into place); its index names the
//! built image, or with attestations the image index over it and its attestation manifest.

use super::attestations::Attached;
use super::blobs::BlobCache;
use super::OutputError;
use engine::{BuiltImage, Finished};
use image::Descriptor;
use ocilayout::{Layout, Place};
use registry::Client;
use std::path::Path;

pub async fn write_layout(
    dir: &Path,
    built: &BuiltImage,
    fin: &Finished,
    client: &Client,
    cache: &BlobCache,
    attached: Option<&Attached>,
) -> Result<(), OutputError> {
    let layout = Layout::new(dir);
    layout.create()?;
    for layer in &built.layers {
        let src = cache.path(client, layer).await?;
        layout.put_file(&layer.desc.digest, &src, Place::Copy)?;
    }
    layout.put_bytes(&fin.config)?;
    layout.put_bytes(&fin.manifest_bytes)?;
    let mut index = ocilayout::empty_index();
    if let Some(a) = attached {
        for (_, bytes) in &a.blobs {
            layout.put_bytes(bytes)?;
        }
        layout.put_bytes(&a.manifest)?;
        layout.put_bytes(&a.index)?;
        index.manifests.push(a.index_desc.clone());
        return Ok(layout.write_index(&index)?);
    }
    index.manifests.push(Descriptor {
        media_type: fin.media_type.to_string(),
        digest: fin.digest.clone(),
        size: fin.manifest_bytes.len() as u64,
        urls: None,
        annotations: None,
        platform: None,
    });
    Ok(layout.write_index(&index)?)
}
