//! A layer blob on its way to the extractor: decompressed, its uncompressed bytes hashed
//! and checked against the config's diff_id when the stream ends, and the compressed input
//! read to its very end, so the source's own blob digest check always runs. A layer is
//! trusted only once its reader has returned end of stream without an error. An optional
//! limit on the uncompressed bytes stops a decompression bomb before it fills the disk.

use crate::compress::Decoder;
use image::{Digest, Hasher};
use std::io::{self, BufRead, Read};

pub struct LayerStream<R: BufRead> {
    decoder: Option<Decoder<R>>,
    diff: Option<(Hasher, Digest)>,
    /// Uncompressed bytes so far, and the most allowed with what to say past it.
    read: u64,
    limit: Option<(u64, String)>,
}

impl<R: BufRead> LayerStream<R> {
    /// Reads the (gzip, zstd or plain) blob `r`; with `diff_id`, fails at the end of the
    /// stream unless the uncompressed bytes hash to it.
    pub fn new(r: R, diff_id: Option<Digest>) -> io::Result<LayerStream<R>> {
        Ok(LayerStream {
            decoder: Some(Decoder::detect(r)?),
            diff: diff_id.map(|d| (d.hasher(), d)),
            read: 0,
            limit: None,
        })
    }

    /// Fails the read that takes the uncompressed stream past `max` bytes, with an error
    /// ending in `hint` (what the limit is and how to raise it).
    pub fn with_limit(mut self, max: u64, hint: impl Into<String>) -> LayerStream<R> {
        self.limit = Some((max, hint.into()));
        self
    }

    fn end(&mut self) -> io::Result<()> {
        if let Some(d) = self.decoder.take() {
            // Whatever follows the compressed stream is still part of the blob.
            io::copy(&mut d.into_inner(), &mut io::sink())?;
        }
        if let Some((h, want)) = self.diff.take() {
            let got = h.finish();
            if got != want {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("layer content does not match its diff_id {want}: got {got}"),
                ));
            }
        }
        Ok(())
    }
}

impl<R: BufRead> Read for LayerStream<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(d) = self.decoder.as_mut() else {
            return Ok(0);
        };
        let n = d.read(buf)?;
        self.read += n as u64;
        if let Some((max, hint)) = self.limit.as_ref().filter(|(max, _)| self.read > *max) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("layer expands past {max} bytes: {hint}"),
            ));
        }
        if n > 0 || buf.is_empty() {
            if let Some((h, _)) = self.diff.as_mut() {
                h.update(&buf[..n]);
            }
            return Ok(n);
        }
        self.end()?;
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn passes_content_and_checks_the_diff_id() {
        let data = b"some tar bytes".repeat(1000);
        let mut out = Vec::new();
        LayerStream::new(&gz(&data)[..], Some(Digest::sha256(&data)))
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
        let err = LayerStream::new(&gz(&data)[..], Some(Digest::sha256(b"other")))
            .unwrap()
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert!(err.to_string().contains("diff_id"), "{err}");
    }

    #[test]
    fn stops_past_the_limit() {
        let data = vec![0u8; 4 << 20];
        let blob = gz(&data);
        let mut s = LayerStream::new(&blob[..], None)
            .unwrap()
            .with_limit(1 << 20, "the hint");
        let err = io::copy(&mut s, &mut io::sink()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(
            err.to_string().ends_with("1048576 bytes: the hint"),
            "{err}"
        );
        let mut s = LayerStream::new(&blob[..], None)
            .unwrap()
            .with_limit(4 << 20, "");
        assert_eq!(io::copy(&mut s, &mut io::sink()).unwrap(), 4 << 20);
    }

    #[test]
    fn reads_the_input_to_its_end() {
        // Plain bytes after the gzip stream: the decompressor rejects them, but whichever
        // way it goes, the input must be consumed or an error raised.
        let data = b"abc".repeat(10);
        let mut blob = gz(&data);
        blob.extend_from_slice(&gz(b"more"));
        let mut input = io::Cursor::new(blob.clone());
        let mut s = LayerStream::new(&mut input, None).unwrap();
        io::copy(&mut s, &mut io::sink()).unwrap();
        drop(s);
        assert_eq!(input.position() as usize, blob.len());
    }
}
