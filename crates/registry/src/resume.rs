//! A blob download that survives a cut: when the body breaks off (a reset, a truncated
//! answer, a read timeout), the rest is asked for with `Range: bytes=N-` through the same
//! request path (so with its retries, credentials and redirects), as many times as
//! `--image-download-retry` allows; a registry that ignores the range sends the whole blob
//! again and its first N bytes are skipped. Each download holds one download slot.

use crate::body::{Answer, Kind};
use crate::exchange::Core;
use crate::transport::Side;
use crate::{Client, Error, Reference};
use bytes::Bytes;
use image::Digest;
use std::sync::Arc;
use tokio::io::AsyncRead;
use tokio::sync::OwnedSemaphorePermit;
use tracing::warn;

struct State {
    core: Arc<Core>,
    r: Reference,
    digest: Digest,
    body: Option<Answer>,
    /// Bytes handed out so far.
    offset: u64,
    /// Bytes still to drop from a full answer to a range request.
    skip: u64,
    resumes: u32,
    _slot: OwnedSemaphorePermit,
}

/// The blob's bytes as a reader (not verified here: the caller wraps it in `Verify`).
pub(crate) async fn open(
    core: Arc<Core>,
    r: &Reference,
    digest: &Digest,
) -> Result<impl AsyncRead + Send + Unpin + 'static, Error> {
    let slot = core
        .downloads
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| Error::Protocol("download slots closed".into()))?;
    let (first, _) = get(&core, r, digest, 0).await?;
    let state = State {
        core,
        r: r.clone(),
        digest: digest.clone(),
        body: Some(first),
        offset: 0,
        skip: 0,
        resumes: 0,
        _slot: slot,
    };
    let stream = futures_util::stream::unfold(state, step);
    Ok(tokio_util::io::StreamReader::new(Box::pin(stream)))
}

/// GETs the blob from byte `from`; the answer and how many leading bytes to drop.
async fn get(
    core: &Core,
    r: &Reference,
    digest: &Digest,
    from: u64,
) -> Result<(Answer, u64), Error> {
    let path = format!("/v2/{}/blobs/{digest}", r.repository);
    let range = format!("bytes={from}-");
    let build = move |b: reqwest::RequestBuilder| {
        Ok(if from > 0 {
            b.header("Range", range.clone())
        } else {
            b
        })
    };
    let scopes = Client::pull_scope(r);
    let req = Client::pull_req(r, &scopes, &path, Kind::Blob, &build);
    let ok: &[u16] = if from > 0 { &[200, 206] } else { &[200] };
    core.call(&req, |a| async move {
        let a = a.expect(ok).await?;
        if a.status() != 206 {
            return Ok((a, from));
        }
        let start = a.header("content-range").and_then(range_start);
        if start != Some(from) {
            return Err(Error::Protocol(format!(
                "GET {}: asked for the bytes from {from}, got the range {}",
                a.url(),
                a.header("content-range").unwrap_or("(none)")
            )));
        }
        Ok((a, 0))
    })
    .await
}

/// The first byte of a `Content-Range: bytes START-END/TOTAL` header.
fn range_start(v: &str) -> Option<u64> {
    v.trim()
        .strip_prefix("bytes ")?
        .split('-')
        .next()?
        .trim()
        .parse()
        .ok()
}

/// The next chunk of the blob, continuing after a cut while retries last.
async fn step(mut st: State) -> Option<(std::io::Result<Bytes>, State)> {
    loop {
        let body = st.body.as_mut()?;
        let err = match body.resp.chunk().await {
            Ok(Some(mut chunk)) => {
                if st.skip > 0 {
                    let n = st.skip.min(chunk.len() as u64);
                    st.skip -= n;
                    chunk = chunk.slice(n as usize..);
                    if chunk.is_empty() {
                        continue;
                    }
                }
                st.offset += chunk.len() as u64;
                return Some((Ok(chunk), st));
            }
            Ok(None) => {
                st.body = None;
                return None;
            }
            Err(e) => body.error(e),
        };
        let policy = st.core.policy(Side::Pull);
        if st.resumes >= policy.retries || !err.is_transient() {
            st.body = None;
            return Some((Err(std::io::Error::other(err.to_string())), st));
        }
        let wait = policy.delay(st.resumes, None);
        st.resumes += 1;
        warn!(
            "{err}; continuing from byte {} in {:.1}s ({} of {})",
            st.offset,
            wait.as_secs_f64(),
            st.resumes,
            policy.retries
        );
        tokio::time::sleep(wait).await;
        match get(&st.core, &st.r, &st.digest, st.offset).await {
            Ok((a, skip)) => {
                st.body = Some(a);
                st.skip = skip;
            }
            Err(e) => {
                st.body = None;
                return Some((Err(std::io::Error::other(e.to_string())), st));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::range_start;

    #[test]
    fn content_range() {
        assert_eq!(range_start("bytes 100-199/200"), Some(100));
        assert_eq!(range_start("bytes 0-0/*"), Some(0));
        assert_eq!(range_start("items 1-2/3"), None);
        assert_eq!(range_start("bytes x-1/2"), None);
    }
}
