//! ADD <url>: the body streamed to a file in the work directory (never held in memory),
//! hashed on the way and checked against `--checksum`; the file name comes from the URL,
//! its mtime from the response's `Last-Modified` when there is one (as Docker does).
//! The HTTP client comes from the image source, so a registry source's TLS flags for the
//! URL's host apply (and its timeouts); credentials are never sent.

use crate::source::ImageSource;
use futures_util::StreamExt;
use image::Digest;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("downloading {url}: {message}")]
    Failed { url: String, message: String },
    #[error("checksum mismatch for {url}: want {want}, got {got}")]
    Checksum {
        url: String,
        want: String,
        got: Digest,
    },
    #[error("invalid --checksum {0:?}: want sha256:<hex> or sha512:<hex>")]
    BadChecksum(String),
}

/// Downloads `url` into a new file under `work`; returns the file name to use and the path.
pub async fn fetch(
    source: &dyn ImageSource,
    url: &str,
    checksum: Option<&str>,
    work: &Path,
) -> Result<(String, PathBuf), DownloadError> {
    let fail = |m: String| DownloadError::Failed {
        url: redact::url(url),
        message: m,
    };
    let want = checksum
        .map(|c| {
            c.parse::<Digest>()
                .map_err(|_| DownloadError::BadChecksum(c.to_string()))
        })
        .transpose()?;
    let host = host_of(url).ok_or_else(|| fail("not a URL with a host".into()))?;
    let client = source
        .download_client(&host)
        .map_err(|e| fail(e.to_string()))?;
    let resp = client.get(url).send().await.map_err(|e| fail(timed(e)))?;
    if !resp.status().is_success() {
        return Err(fail(format!("HTTP {}", resp.status())));
    }
    let max = source.download_max_bytes();
    let too_big = || fail(format!("the body passes {max} bytes (KANIKO_ADD_MAX_SIZE)"));
    if resp.content_length().is_some_and(|n| n > max) {
        return Err(too_big());
    }
    let mut got: u64 = 0;
    let modified = resp
        .headers()
        .get(reqwest::header::LAST_MODIFIED)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok());
    let name = file_name(url);
    let file = tempfile::Builder::new()
        .prefix("download-")
        .tempfile_in(work)
        .map_err(|e| fail(e.to_string()))?;
    let (file, dest) = file.keep().map_err(|e| fail(e.error.to_string()))?;
    let mut out = tokio::io::BufWriter::new(tokio::fs::File::from_std(file));
    let mut hasher = want
        .as_ref()
        .map_or_else(|| Digest::sha256(b"").hasher(), Digest::hasher);
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| fail(timed(e)))?;
        got += chunk.len() as u64;
        if got > max {
            drop(out);
            let _ = std::fs::remove_file(&dest);
            return Err(too_big());
        }
        hasher.update(&chunk);
        out.write_all(&chunk)
            .await
            .map_err(|e| fail(e.to_string()))?;
    }
    out.flush().await.map_err(|e| fail(e.to_string()))?;
    if let Some(t) = modified {
        let file = out.into_inner().into_std().await;
        file.set_modified(t).map_err(|e| fail(e.to_string()))?;
    }
    let got = hasher.finish();
    if let Some(want) = want {
        if got != want {
            let _ = std::fs::remove_file(&dest);
            return Err(DownloadError::Checksum {
                url: redact::url(url),
                want: want.to_string(),
                got,
            });
        }
    }
    source.downloaded(url, &got);
    Ok((name, dest))
}

/// The URL's `host[:port]`.
fn host_of(url: &str) -> Option<String> {
    let u = reqwest::Url::parse(url).ok()?;
    let h = u.host_str()?;
    Some(
        u.port()
            .map_or_else(|| h.to_string(), |p| format!("{h}:{p}")),
    )
}

/// The file name the URL's path ends with (`index.html` when it ends with `/`).
fn file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or("index.html")
        .to_string()
}

/// A transfer error's text, naming the setting when the overall time ran out.
fn timed(e: reqwest::Error) -> String {
    let timeout = e.is_timeout();
    let why = e.without_url().to_string();
    if timeout {
        format!("{why} (KANIKO_ADD_TIMEOUT)")
    } else {
        why
    }
}
