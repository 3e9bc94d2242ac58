//! Where the bytes of a blob to upload are: a file (streamed from disk, opened again for
//! each attempt), bytes in memory (configs), or another repository (streamed from there
//! through the download path, verified, for copies between registries). A layer still
//! being written is not a `BlobData`: it is streamed to the registry while it is made and
//! then found there by the push's HEAD.

use crate::exchange::Core;
use crate::verify::Verify;
use crate::{Error, Reference};
use futures_util::TryStreamExt;
use image::Descriptor;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum BlobData<'a> {
    File(&'a Path),
    Bytes(&'a [u8]),
    /// In this repository (maybe on another registry): read from there while it is sent,
    /// its digest and size checked as the bytes pass (a resumed download after a cut).
    Remote(&'a Reference),
}

impl BlobData<'_> {
    /// How many bytes the blob has (a remote blob: as `desc` says, checked while sent).
    pub(crate) fn len(&self, desc: &Descriptor) -> Result<u64, Error> {
        match self {
            BlobData::Remote(_) => Ok(desc.size),
            BlobData::File(p) => Ok(std::fs::metadata(p)
                .map_err(|e| Error::Io(p.to_path_buf(), e))?
                .len()),
            BlobData::Bytes(b) => Ok(b.len() as u64),
        }
    }

    /// A request body of the blob `desc`, made anew for each attempt.
    pub(crate) fn body(&self, core: &Arc<Core>, desc: &Descriptor) -> Result<reqwest::Body, Error> {
        match self {
            BlobData::Remote(from) => Ok(remote_body(core.clone(), from, desc)),
            BlobData::File(p) => {
                let f = std::fs::File::open(p).map_err(|e| Error::Io(p.to_path_buf(), e))?;
                let stream = tokio_util::io::ReaderStream::with_capacity(
                    tokio::fs::File::from_std(f),
                    1 << 20,
                );
                Ok(reqwest::Body::wrap_stream(stream))
            }
            BlobData::Bytes(b) => Ok(reqwest::Body::from(b.to_vec())),
        }
    }

    /// The blob for messages: its file, or how many bytes it has.
    pub(crate) fn describe(&self) -> String {
        match self {
            BlobData::File(p) => p.display().to_string(),
            BlobData::Bytes(b) => format!("a blob of {} bytes in memory", b.len()),
            BlobData::Remote(r) => format!("the blob in {}", r.repo_str()),
        }
    }
}

/// The blob `desc` of `from` as a body: the download starts (and takes its download slot)
/// when the body is first polled, and fails the body if the bytes do not match `desc`.
fn remote_body(core: Arc<Core>, from: &Reference, desc: &Descriptor) -> reqwest::Body {
    let (from, digest, size) = (from.clone(), desc.digest.clone(), desc.size);
    let open = async move {
        let reader = crate::resume::open(core, &from, &digest)
            .await
            .map_err(std::io::Error::other)?;
        let verified = Verify::new(reader, digest, Some(size));
        Ok::<_, std::io::Error>(tokio_util::io::ReaderStream::with_capacity(
            verified,
            1 << 20,
        ))
    };
    reqwest::Body::wrap_stream(futures_util::stream::once(open).try_flatten())
}

impl<'a> From<&'a Path> for BlobData<'a> {
    fn from(p: &'a Path) -> BlobData<'a> {
        BlobData::File(p)
    }
}

impl<'a> From<&'a PathBuf> for BlobData<'a> {
    fn from(p: &'a PathBuf) -> BlobData<'a> {
        BlobData::File(p)
    }
}

impl<'a> From<&'a [u8]> for BlobData<'a> {
    fn from(b: &'a [u8]) -> BlobData<'a> {
        BlobData::Bytes(b)
    }
}

impl<'a> From<&'a Vec<u8>> for BlobData<'a> {
    fn from(b: &'a Vec<u8>) -> BlobData<'a> {
        BlobData::Bytes(b)
    }
}
