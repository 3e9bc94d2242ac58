//! A reader that hashes what passes through it and fails at the end of the stream if the
//! bytes do not match the expected digest, so a caller streaming a blob into an extractor
//! learns of corruption without holding the blob in memory.

use image::Digest;
use sha2::{Digest as _, Sha256};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

pub struct Verify<R> {
    inner: R,
    hasher: Sha256,
    expected: Digest,
    done: bool,
}

impl<R> Verify<R> {
    pub fn new(inner: R, expected: Digest) -> Self {
        Verify {
            inner,
            hasher: Sha256::new(),
            expected,
            done: false,
        }
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
                    this.hasher.update(new);
                } else if !this.done && buf.remaining() > 0 {
                    this.done = true;
                    let actual = Digest::from_sha256(std::mem::take(&mut this.hasher));
                    if actual != this.expected {
                        return Poll::Ready(Err(std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            format!("digest mismatch for blob {}: got {actual}", this.expected),
                        )));
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
        Verify::new(&data[..], good.clone())
            .read_to_end(&mut out)
            .await
            .unwrap();
        assert_eq!(out, data);

        let bad = Digest::sha256(b"other");
        let err = Verify::new(&data[..], bad.clone())
            .read_to_end(&mut Vec::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        assert!(err.to_string().contains(&bad.to_string()), "{err}");
    }
}
