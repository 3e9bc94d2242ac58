//! Compression of layer streams: detection by magic bytes on the way in, gzip or zstd on
//! the way out.

use std::io::{self, BufRead, Read};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
    None,
}

/// Wraps `r` in the decompressor its first bytes call for (gzip, zstd, or none).
pub fn decompressor<'a, R: BufRead + Send + 'a>(mut r: R) -> io::Result<Box<dyn Read + Send + 'a>> {
    let head = r.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(flate2::bufread::MultiGzDecoder::new(r)))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Ok(Box::new(zstd::stream::read::Decoder::with_buffer(r)?))
    } else {
        Ok(Box::new(r))
    }
}
