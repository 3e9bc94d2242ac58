//! Pushing a whole image: its layers (each from a file or bytes, or a base layer in another
//! repository: found there by HEAD, mounted on the same registry, else fetched into a file
//! by the caller), its config from bytes, then its manifest. The outputs (every
//! `--destination`, blobs to all before any tag) and the registry layer cache push this way.

use crate::blob_data::BlobData;
use crate::{Client, Error, Reference};
use futures_util::future::try_join_all;
use image::{Descriptor, Digest};
use std::future::Future;
use std::path::PathBuf;
use tracing::debug;

/// Where a layer of an image to push is.
#[derive(Clone, Copy, Debug)]
pub enum LayerData<'a> {
    /// Its bytes, here.
    Blob(BlobData<'a>),
    /// In this repository (a base image's), maybe on another registry.
    Repository(&'a Reference),
}

/// An image to push, its manifest already made.
#[derive(Clone, Debug)]
pub struct ImagePush<'a> {
    pub layers: Vec<(&'a Descriptor, LayerData<'a>)>,
    pub config: &'a Descriptor,
    pub config_bytes: &'a [u8],
    pub manifest: &'a [u8],
    pub media_type: &'a str,
}

impl Client {
    /// Every blob of `image` into `dest`: the layers at once (as many uploads as the
    /// transfer slots allow), then the config. A layer in another repository that `dest`
    /// neither has nor can mount is asked of `fetch` (by its index in `image.layers`) as a
    /// file, then uploaded.
    pub async fn push_blobs<E, F, Fut>(
        &self,
        dest: &Reference,
        image: &ImagePush<'_>,
        fetch: F,
    ) -> Result<(), E>
    where
        E: From<Error>,
        F: Fn(usize) -> Fut,
        Fut: Future<Output = Result<PathBuf, E>>,
    {
        let fetch = &fetch;
        let layers = image
            .layers
            .iter()
            .enumerate()
            .map(|(i, (desc, data))| self.push_layer(dest, desc, *data, move || fetch(i)));
        try_join_all(layers).await?;
        self.upload_blob(dest, image.config, image.config_bytes, None)
            .await?;
        Ok(())
    }

    /// [`Client::push_blobs`], then the manifest under the destination's tag (or digest):
    /// the whole image; its manifest digest.
    pub async fn push_image<E, F, Fut>(
        &self,
        dest: &Reference,
        image: &ImagePush<'_>,
        fetch: F,
    ) -> Result<Digest, E>
    where
        E: From<Error>,
        F: Fn(usize) -> Fut,
        Fut: Future<Output = Result<PathBuf, E>>,
    {
        self.push_blobs(dest, image, fetch).await?;
        Ok(self
            .put_manifest(dest, image.manifest, image.media_type)
            .await?)
    }

    async fn push_layer<E, Fut>(
        &self,
        dest: &Reference,
        desc: &Descriptor,
        data: LayerData<'_>,
        fetch: impl FnOnce() -> Fut,
    ) -> Result<(), E>
    where
        E: From<Error>,
        Fut: Future<Output = Result<PathBuf, E>>,
    {
        let from = match data {
            LayerData::Blob(blob) => {
                self.upload_blob(dest, desc, blob, None).await?;
                return Ok(());
            }
            LayerData::Repository(from) => from,
        };
        if self.blob_exists(dest, &desc.digest).await? {
            return Ok(());
        }
        // Same registry: mount the base layer instead of sending it.
        if self.mount_blob(dest, from, &desc.digest).await? {
            debug!("Mounted {} from {}", desc.digest, from.repo_str());
            return Ok(());
        }
        let path = fetch().await?;
        self.upload_blob(dest, desc, &path, None).await?;
        Ok(())
    }
}
