//! Compression of layer streams: detection by magic bytes on the way in, gzip or zstd on
//! the way out. Layers are gzip, zstd or plain (what OCI allows); archives (ADD, tar
//! contexts) may also be bzip2 or xz, as Docker reads them.

use std::io::{self, BufRead, Read};

/// How a layer is compressed: the image crate's type, named for this crate's use.
pub use image::media::LayerCompression as Compression;

/// A decompressor chosen by the stream's first bytes, which gives its input back.
pub(crate) enum Decoder<R: BufRead> {
    Gzip(Box<flate2::bufread::MultiGzDecoder<R>>),
    Zstd(zstd::stream::read::Decoder<'static, R>),
    Plain(R),
}

impl<R: BufRead> Decoder<R> {
    pub(crate) fn detect(mut r: R) -> io::Result<Decoder<R>> {
        let head = r.fill_buf()?;
        Ok(if head.starts_with(&[0x1f, 0x8b]) {
            Decoder::Gzip(Box::new(flate2::bufread::MultiGzDecoder::new(r)))
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Decoder::Zstd(zstd::stream::read::Decoder::with_buffer(r)?)
        } else {
            Decoder::Plain(r)
        })
    }

    /// The input, positioned after what the decompressor consumed.
    pub(crate) fn into_inner(self) -> R {
        match self {
            Decoder::Gzip(d) => d.into_inner(),
            Decoder::Zstd(d) => d.finish(),
            Decoder::Plain(r) => r,
        }
    }
}

impl<R: BufRead> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Gzip(d) => d.read(buf),
            Decoder::Zstd(d) => d.read(buf),
            Decoder::Plain(r) => r.read(buf),
        }
    }
}

/// Wraps the archive `r` in the decompressor its first bytes call for: gzip, zstd,
/// bzip2, xz, or none.
pub fn decompressor<'a, R: BufRead + Send + 'a>(mut r: R) -> io::Result<Box<dyn Read + Send + 'a>> {
    let head = r.fill_buf()?;
    Ok(if head.starts_with(b"BZh") {
        Box::new(bzip2::bufread::MultiBzDecoder::new(r))
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(r))
    } else {
        Box::new(Decoder::detect(r)?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn archives_in_every_compression_docker_reads() {
        let data = b"tar bytes ".repeat(500);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data).unwrap();
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        bz.write_all(&data).unwrap();
        let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 1);
        xz.write_all(&data).unwrap();
        let zst = zstd::encode_all(&data[..], 1).unwrap();
        for blob in [
            gz.finish().unwrap(),
            bz.finish().unwrap(),
            xz.finish().unwrap(),
            zst,
            data.clone(),
        ] {
            let mut out = Vec::new();
            decompressor(&blob[..])
                .unwrap()
                .read_to_end(&mut out)
                .unwrap();
            assert_eq!(out, data);
        }
    }
}
