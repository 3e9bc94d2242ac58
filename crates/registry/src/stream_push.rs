//! Uploads that start before the blob is complete: a layer being compressed is sent as it
//! is made, in one PATCH whose body is the stream (chunked transfer encoding, as `docker
//! push` sends layers), and the upload is closed by a PUT with the digest once the last byte
//! is known. A stream cannot be sent twice, so the PATCH is never retried: when it fails,
//! the caller uploads the blob from its file as usual.

use crate::body::Kind;
use crate::exchange::{Req, Target};
use crate::push::empty_post;
use crate::url::{absolute, with_query};
use crate::{Client, Error, Reference};
use futures_util::Stream;
use image::Digest;
use std::future::Future;
use std::sync::Mutex;

impl Client {
    /// Streams a blob into `r`: `body` yields its bytes as they are made and ends with the
    /// blob; `digest` then resolves to its digest (`None`: the blob was abandoned, and the
    /// upload is left for the registry to expire). True once the registry has the blob.
    pub async fn stream_blob<S, D>(&self, r: &Reference, body: S, digest: D) -> Result<bool, Error>
    where
        S: Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static,
        D: Future<Output = Option<Digest>>,
    {
        let Some(location) = self.start_upload(r, &Digest::sha256(b""), None).await? else {
            return Ok(false);
        };
        // No transfer slot: a stream per destination is fed by one layer writer, which would
        // wait on a stream that waits for a slot the others hold until the layer ends.
        let body = Mutex::new(Some(reqwest::Body::wrap_stream(body)));
        let build = move |b: reqwest::RequestBuilder| {
            let body =
                body.lock().ok().and_then(|mut b| b.take()).ok_or_else(|| {
                    Error::Protocol("a streamed upload cannot be sent again".into())
                })?;
            Ok(b.header("Content-Type", "application/octet-stream")
                .body(body))
        };
        let scopes = Self::push_scope(r);
        let patch = Req {
            kind: Kind::Blob,
            ..Self::push_req(r, &scopes, "PATCH", Target::Url(&location), &build)
        };
        let a = self.core.send(&patch).await?.expect(&[202]).await?;
        let next = a
            .header("location")
            .map_or(location.clone(), |l| absolute(a.resp.url(), l));
        let Some(digest) = digest.await else {
            return Ok(false);
        };
        let url = with_query(&next, "digest", digest.as_str());
        let put = Self::push_req(r, &scopes, "PUT", Target::Url(&url), &empty_post);
        self.core
            .call(
                &put,
                |a| async move { a.expect(&[201, 204]).await.map(|_| ()) },
            )
            .await?;
        Ok(true)
    }
}
