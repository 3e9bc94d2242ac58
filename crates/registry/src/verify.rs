//! A reader that hashes what passes through it and fails at the end of the stream if the
//! bytes do not match the expected digest (sha256 or sha512) or the declared size, so a
//! caller streaming a blob into an extractor learns of corruption without holding the blob
//! in memory. More bytes than declared fail as soon as they arrive. Bytes read whole
//! (manifests, configs) are checked with [`check_digest`].

use crate::Error;
use image::{Digest, Hasher};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

pub struct Verify<R> {
    inner: R,
    hasher: Option<Hasher>,
    expected: Digest,
    size: Option<u64>,
    seen: u64,
}

impl<R> Verify<R> {
    pub fn new(inner: R, expected: Digest, size: Option<u64>) -> Self {
        Verify {
            inner,
            hasher: Some(expected.hasher()),
            expected,
            size,
            seen: 0,
        }
    }
}

/// Checks `actual` against `expected`; a mismatch names both.
pub(crate) fn check_digest(what: String, expected: &Digest, actual: &Digest) -> Result<(), Error> {
    if expected == actual {
        Ok(())
    } else {
        Err(Error::Digest {
            what,
            expected: expected.clone(),
            actual: actual.clone(),
        })
    }
}

fn invalid(msg: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg)
}

impl<R> Verify<R> {
    /// Finishes the hash (once) and compares it with the expected digest.
    fn check_digest(&mut self) -> std::io::Result<()> {
        let Some(h) = self.hasher.take() else {
            return Ok(());
        };
        let actual = h.finish();
        if actual != self.expected {
            return Err(invalid(format!(
                "digest mismatch for blob {}: got {actual}",
                self.expected
            )));
        }
        Ok(())
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for Verify<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let new = &buf.filled()[before..];
                if !new.is_empty() {
                    this.seen += new.len() as u64;
                    if let Some(h) = this.hasher.as_mut() {
                        h.update(new);
                    }
                    if this.size.is_some_and(|s| this.seen > s) {
                        buf.set_filled(before);
                        return Poll::Ready(Err(invalid(format!(
                            "blob {} is larger than its declared {} bytes",
                            this.expected,
                            this.size.unwrap_or(0)
                        ))));
                    }
                    // The declared size reached: checked now, so that a consumer that stops
                    // at the size (an upload with a Content-Length) never gets a wrong blob.
                    if this.size == Some(this.seen) {
                        if let Err(e) = this.check_digest() {
                            buf.set_filled(before);
                            return Poll::Ready(Err(e));
                        }
                    }
                } else if buf.remaining() > 0 && this.hasher.is_some() {
                    this.check_digest()?;
                    if let Some(s) = this.size.filter(|s| *s != this.seen) {
                        return Poll::Ready(Err(invalid(format!(
                            "blob {} has {} bytes, its descriptor says {s}",
                            this.expected, this.seen
                        ))));
                    }
                }
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn passes_matching_bytes_and_fails_on_mismatch() {
        let data = vec![7u8; 100_000];
        let good = Digest::sha256(&data);
        let mut out = Vec::new();
        Verify::new(&data[..], good.clone(), Some(100_000))
            .read_to_end(&mut out)
            .await
            .unwrap();
        assert_eq!(out, data);

        let bad = Digest::sha256(b"other");
        let err = Verify::new(&data[..], bad.clone(), None)
            .read_to_end(&mut Vec::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        assert!(err.to_string().contains(&bad.to_string()), "{err}");
    }

    #[tokio::test]
    async fn a_reader_stopping_at_the_size_gets_the_mismatch() {
        // An upload body with a Content-Length stops reading there, before the end.
        let data = vec![7u8; 100_000];
        let bad = Digest::sha256(b"other");
        let mut out = vec![0u8; 100_000];
        let err = Verify::new(&data[..], bad, Some(100_000))
            .read_exact(&mut out)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        let good = Digest::sha256(&data);
        Verify::new(&data[..], good, Some(100_000))
            .read_exact(&mut out)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn checks_sha512_and_sizes() {
        let data = vec![1u8; 5000];
        let d512 = format!("sha512:{}", "0".repeat(128))
            .parse::<Digest>()
            .unwrap()
            .of_same_kind(&data);
        Verify::new(&data[..], d512.clone(), Some(5000))
            .read_to_end(&mut Vec::new())
            .await
            .unwrap();
        let wrong512 = d512.of_same_kind(b"x");
        assert!(Verify::new(&data[..], wrong512, None)
            .read_to_end(&mut Vec::new())
            .await
            .is_err());
        let too_long = Verify::new(&data[..], d512.clone(), Some(10))
            .read_to_end(&mut Vec::new())
            .await
            .unwrap_err();
        assert!(too_long.to_string().contains("larger"), "{too_long}");
        let too_short = Verify::new(&data[..], d512, Some(6000))
            .read_to_end(&mut Vec::new())
            .await
            .unwrap_err();
        assert!(too_short.to_string().contains("6000"), "{too_short}");
    }
}
