//! The cache flags → the engine's layer cache and base-image source: `--cache-repo` (a
//! repository, or `oci:/path`), by default `<first destination's repository>/cache` as
//! kaniko names it; `--cache-dir` for base images the warmer stored.

use crate::cli::Options;
use anyhow::{anyhow, bail};
use engine::{CacheSettings, ImageSource, LayerCache, WarmedSource};
use image::Platform;
use registry::{Client, Reference};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use tracing::warn;

/// Where the layer cache lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheRepo {
    Registry(Reference),
    Layout(PathBuf),
}

/// The cache repository the flags name; `None` when there is none to use (a warning).
pub fn cache_repo(opts: &Options, destinations: &[Reference]) -> anyhow::Result<Option<CacheRepo>> {
    if let Some(repo) = &opts.cache.repo {
        if let Some(path) = repo.strip_prefix("oci:") {
            if !path.starts_with('/') {
                bail!("invalid --cache-repo {repo:?}: an OCI layout needs an absolute path (oci:/path)");
            }
            return Ok(Some(CacheRepo::Layout(PathBuf::from(path))));
        }
        let last = repo.rsplit('/').next().unwrap_or(repo);
        if repo.contains('@') || last.contains(':') {
            bail!("invalid --cache-repo {repo:?}: name a repository, without tag or digest");
        }
        let r = repo
            .parse::<Reference>()
            .map_err(|e| anyhow!("invalid --cache-repo {repo:?}: {e}"))?;
        return Ok(Some(CacheRepo::Registry(r)));
    }
    let Some(first) = destinations.first() else {
        warn!("--cache needs --cache-repo or a --destination to keep layers in; building without the layer cache");
        return Ok(None);
    };
    let r = format!("{}/cache", first.repo_str())
        .parse::<Reference>()
        .map_err(|e| anyhow!("cache repository for {first}: {e}"))?;
    Ok(Some(CacheRepo::Registry(r)))
}

/// The layer cache of this build, when `--cache` is on and there is a repository for it.
pub fn layer_cache(
    opts: &Options,
    client: &Arc<Client>,
    destinations: &[Reference],
    platform: &Platform,
) -> anyhow::Result<Option<LayerCache>> {
    if !opts.cache.enabled {
        return Ok(None);
    }
    let settings = CacheSettings {
        ttl: opts.cache.ttl,
        run_layers: opts.cache.run_layers,
        copy_layers: opts.cache.copy_layers,
        push: !opts.cache.no_push_cache,
        platform: platform.clone(),
    };
    Ok(cache_repo(opts, destinations)?.map(|repo| match repo {
        CacheRepo::Registry(r) => LayerCache::registry(client.clone(), r, settings),
        CacheRepo::Layout(dir) => LayerCache::layout(dir, settings),
    }))
}

/// Where base images come from: with `--cache`, the warmer's `--cache-dir` first.
pub fn base_source(opts: &Options, registry: Arc<dyn ImageSource>) -> Arc<dyn ImageSource> {
    if !opts.cache.enabled {
        return registry;
    }
    Arc::new(WarmedSource::new(
        registry,
        opts.cache.dir.clone(),
        opts.cache.ttl,
    ))
}

/// Runs `work` (the outputs) while the caches' writes finish, and waits for both: the work
/// directory the writes read from outlives them.
pub async fn beside_cache_writes<'a, T>(
    caches: impl IntoIterator<Item = &'a LayerCache>,
    work: impl Future<Output = T>,
) -> T {
    let writes = async {
        for c in caches {
            c.finish().await;
        }
    };
    tokio::join!(work, writes).0
}

/// Paths of this machine the cache writes, which a build must neither snapshot nor touch.
pub fn cache_paths(opts: &Options) -> Vec<PathBuf> {
    if !opts.cache.enabled {
        return Vec::new();
    }
    let mut paths = vec![opts.cache.dir.clone()];
    if let Some(p) = opts
        .cache
        .repo
        .as_deref()
        .and_then(|r| r.strip_prefix("oci:"))
    {
        paths.push(PathBuf::from(p));
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(repo: Option<&str>) -> Options {
        let mut args = vec!["executor", "--cache", "--no-push"];
        let flag = repo.map(|r| format!("--cache-repo={r}"));
        args.extend(flag.as_deref());
        match crate::cli::parse_with_env(args.into_iter().map(Into::into), &|_| None).unwrap() {
            crate::cli::Invocation::Build(o) => *o,
            _ => unreachable!(),
        }
    }

    #[test]
    fn repositories_as_kaniko_names_them() {
        let dest: Vec<Reference> = vec!["r.io/team/app:1".parse().unwrap()];
        let want = |s: &str| Some(CacheRepo::Registry(s.parse().unwrap()));
        assert_eq!(
            cache_repo(&opts(None), &dest).unwrap(),
            want("r.io/team/app/cache")
        );
        assert_eq!(cache_repo(&opts(None), &[]).unwrap(), None);
        assert_eq!(
            cache_repo(&opts(Some("r.io/c")), &[]).unwrap(),
            want("r.io/c")
        );
        assert_eq!(
            cache_repo(&opts(Some("oci:/var/cache/layers")), &dest).unwrap(),
            Some(CacheRepo::Layout("/var/cache/layers".into()))
        );
        for bad in [
            "r.io/c:tag",
            "r.io/c@sha256:00",
            "oci:relative",
            "UPPER/case",
        ] {
            let e = cache_repo(&opts(Some(bad)), &dest).unwrap_err().to_string();
            assert!(e.contains("--cache-repo"), "{bad}: {e}");
        }
        assert!(cache_repo(&opts(Some("localhost:5000/c")), &[]).is_ok());
    }
}
