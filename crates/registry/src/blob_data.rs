//! Where the bytes of a blob to upload are: a file (streamed from disk, opened again for
//! each attempt) or bytes in memory (configs). A layer still being written is not a
//! `BlobData`: it is streamed to the registry while it is made and then found there by the
//! push's HEAD.

use crate::Error;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum BlobData<'a> {
    File(&'a Path),
    Bytes(&'a [u8]),
}

impl BlobData<'_> {
    /// How many bytes the blob has.
    pub(crate) fn len(&self) -> Result<u64, Error> {
        match self {
            BlobData::File(p) => Ok(std::fs::metadata(p)
                .map_err(|e| Error::Io(p.to_path_buf(), e))?
                .len()),
            BlobData::Bytes(b) => Ok(b.len() as u64),
        }
    }

    /// A request body of the blob, made anew for each attempt.
    pub(crate) fn body(&self) -> Result<reqwest::Body, Error> {
        match self {
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
        }
    }
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
