//! Images in an OCI image layout directory (read by the `ocilayout` crate: names and
//! digests, an index resolved to the build platform, every small blob verified): the
//! warmer's cache and `oci:` repositories. Layers are the layout's blob files, verified as
//! they are read ([`super::open_layer`]).

use super::{BlobStream, BoxFut, ImageSource, SourceError, SourceImage};
use crate::built::{Layer, LayerSource};
use image::{Descriptor, Platform};
use ocilayout::{Layout, Resolved};
use std::path::PathBuf;

pub struct LayoutSource {
    layout: Layout,
}

impl LayoutSource {
    pub fn new(dir: impl Into<PathBuf>) -> LayoutSource {
        LayoutSource {
            layout: Layout::new(dir),
        }
    }

    /// The image of the index entry `desc` (found by the caller) for `platform`.
    pub(crate) fn entry(
        &self,
        desc: Descriptor,
        platform: &Platform,
    ) -> Result<SourceImage, SourceError> {
        let name = desc.digest.to_string();
        let resolved = self.layout.resolve_entry(desc, &name, platform)?;
        self.image(&name, resolved)
    }

    fn image(&self, name: &str, r: Resolved) -> Result<SourceImage, SourceError> {
        let layers = SourceImage::layers_of(name, &r.manifest, &r.config, |d| {
            LayerSource::Local(self.layout.blob_path(&d.digest))
        })?;
        Ok(SourceImage {
            name: format!(
                "oci:{}@{}",
                self.layout.dir().display(),
                r.descriptor.digest
            ),
            digest: r.descriptor.digest,
            media_type: r.media_type,
            manifest: r.manifest,
            config: r.config,
            layers,
        })
    }
}

impl ImageSource for LayoutSource {
    fn resolve<'a>(
        &'a self,
        name: &'a str,
        platform: &'a Platform,
    ) -> BoxFut<'a, Result<SourceImage, SourceError>> {
        Box::pin(async move { self.image(name, self.layout.resolve(name, platform)?) })
    }

    fn open_remote<'a>(&'a self, layer: &'a Layer) -> BoxFut<'a, Result<BlobStream, SourceError>> {
        Box::pin(async move {
            Err(SourceError::Image(format!(
                "layer {} is not in the OCI layout {}",
                layer.desc.digest,
                self.layout.dir().display()
            )))
        })
    }
}
