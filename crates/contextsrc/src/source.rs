//! Context strings as kaniko reads them: `git://`, `s3://`, `gs://`, Azure Blob URLs (an
//! `https://<account>.blob.core.<cloud>/` host) and any other `https://` URL.

use crate::Error;

/// kaniko's object name when a bucket URL names no path.
pub const DEFAULT_OBJECT: &str = "context.tar.gz";

/// The host suffixes of Azure Blob Storage in Azure's public, China, German and US
/// government clouds: an `https://` context on one of them is read as a blob.
const AZURE_BLOB_SUFFIXES: [&str; 4] = [
    ".blob.core.windows.net",
    ".blob.core.chinacloudapi.cn",
    ".blob.core.cloudapi.de",
    ".blob.core.usgovcloudapi.net",
];

/// A remote build context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Git(GitUrl),
    Bucket(BucketUrl),
    /// A tarball at an `https://` (or `http://`) URL.
    Https(url::Url),
}

/// `git://host/org/repo.git#ref#commit`, split at its `#`s.
#[derive(Clone, PartialEq, Eq)]
pub struct GitUrl {
    /// `host/org/repo.git`, maybe with `user:token@` in front.
    pub repo: String,
    /// The first fragment: a branch, tag, other ref or commit hash.
    pub reference: Option<String>,
    /// The second fragment: the commit to check out.
    pub commit: Option<String>,
}

impl std::fmt::Debug for GitUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GitUrl({})", self.display())
    }
}

impl GitUrl {
    /// The part after `git://`: `repo[#ref[#commit]]`.
    pub fn parse(rest: &str) -> GitUrl {
        let mut parts = rest.splitn(3, '#');
        let repo = parts.next().unwrap_or_default().to_string();
        let mut next = || parts.next().filter(|p| !p.is_empty()).map(str::to_string);
        let reference = next();
        let commit = next();
        GitUrl {
            repo,
            reference,
            commit,
        }
    }

    /// `git://host/org/repo.git#ref#commit` without any user or password.
    pub fn display(&self) -> String {
        let mut s = format!("git://{}", self.repo);
        for frag in [&self.reference, &self.commit].into_iter().flatten() {
            s.push('#');
            s.push_str(frag);
        }
        redact::url(&s)
    }
}

/// Which object store holds a bucket context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    S3,
    Gcs,
    Azure,
}

/// An object in a bucket (S3, GCS) or a container (Azure).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketUrl {
    pub provider: Provider,
    /// Azure's storage account (the first label of the host).
    pub account: Option<String>,
    /// The bucket, or Azure's container.
    pub bucket: String,
    /// The object's key inside it.
    pub key: String,
}

impl BucketUrl {
    /// `s3://bucket/key`, `gs://bucket/key` or the blob's URL without its query.
    pub fn display(&self) -> String {
        match (self.provider, &self.account) {
            (Provider::S3, _) => format!("s3://{}/{}", self.bucket, self.key),
            (Provider::Gcs, _) => format!("gs://{}/{}", self.bucket, self.key),
            (Provider::Azure, account) => format!(
                "https://{}.blob.core.windows.net/{}/{}",
                account.as_deref().unwrap_or_default(),
                self.bucket,
                self.key
            ),
        }
    }
}

impl Source {
    /// Reads a context string with a remote scheme; `None` for local ones (a directory,
    /// `dir://`, `tar://`).
    pub fn parse(context: &str) -> Result<Option<Source>, Error> {
        let bad = |reason: &str| Error::Url {
            context: redact::url(context),
            reason: reason.into(),
        };
        let Some((scheme, rest)) = context.split_once("://") else {
            return Ok(None);
        };
        Ok(Some(match scheme {
            "git" if rest.is_empty() => return Err(bad("git:// needs a repository")),
            "git" => Source::Git(GitUrl::parse(rest)),
            "s3" | "gs" => {
                let provider = if scheme == "s3" {
                    Provider::S3
                } else {
                    Provider::Gcs
                };
                let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(bad("the URL names no bucket"));
                }
                Source::Bucket(BucketUrl {
                    provider,
                    account: None,
                    bucket: bucket.to_string(),
                    key: object_key(key),
                })
            }
            "https" | "http" => {
                let url = url::Url::parse(context).map_err(|e| bad(&e.to_string()))?;
                match azure_blob(&url) {
                    Some(b) => Source::Bucket(b),
                    None => Source::Https(url),
                }
            }
            _ => return Ok(None),
        }))
    }

    /// Where the context comes from, for logs: no user, password or query string.
    pub fn display(&self) -> String {
        match self {
            Source::Git(g) => g.display(),
            Source::Bucket(b) => b.display(),
            Source::Https(u) => display_url(u),
        }
    }
}

/// A URL safe to print (see the `redact` crate).
pub(crate) fn display_url(u: &url::Url) -> String {
    redact::url(u.as_str())
}

/// The key without leading slashes; kaniko's default object when empty.
fn object_key(path: &str) -> String {
    let key = path.trim_start_matches('/');
    if key.is_empty() {
        DEFAULT_OBJECT.to_string()
    } else {
        key.to_string()
    }
}

/// An Azure Blob URL: `https://<account>.blob.core.<cloud>/<container>/<blob>`.
fn azure_blob(url: &url::Url) -> Option<BucketUrl> {
    if url.scheme() != "https" {
        return None;
    }
    let host = url.host_str()?;
    let suffix = AZURE_BLOB_SUFFIXES.iter().find(|s| host.ends_with(*s))?;
    let account = host.strip_suffix(suffix)?.split('.').next()?.to_string();
    let path = url.path().trim_start_matches('/');
    let (container, blob) = path.split_once('/').unwrap_or((path, ""));
    if account.is_empty() || container.is_empty() {
        return None;
    }
    Some(BucketUrl {
        provider: Provider::Azure,
        account: Some(account),
        bucket: container.to_string(),
        key: percent_decode(blob),
    })
}

/// `%XX` escapes in a URL path decoded (blob names are stored decoded).
fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("k={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

#[cfg(test)]
mod tests;
