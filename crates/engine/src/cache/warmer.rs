//! The warmer: base images stored in the base-image cache directory (`--cache-dir`), each
//! an OCI layout of its own named by its manifest digest (`sha256-<hex>`), its index naming
//! the references it was warmed as. An image is written under a temporary
//! name in the same directory and renamed into place (swapped with an old copy under
//! `--force` or once expired), so a build or another warmer sharing the directory never
//! sees half of one. Every blob is verified while it is written.

use super::CacheError;
use crate::source::warmed::{entry_dir, is_fresh};
use dockerfile::GlobalScope;
use image::{Descriptor, Digest, Platform};
use ocilayout::{ref_name, Layout};
use registry::{Client, Reference};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tracing::info;

/// What to warm and where.
#[derive(Clone, Debug)]
pub struct WarmOptions {
    pub dir: PathBuf,
    /// An entry older than this is fetched again.
    pub ttl: Duration,
    /// Fetch again even when a fresh entry exists.
    pub force: bool,
    pub platform: Platform,
}

/// What [`warm_image`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Warmed {
    Stored(Digest),
    AlreadyCached(Digest),
}

/// Stores the image `name` (for the platform) in the cache directory.
pub async fn warm_image(
    client: &Client,
    name: &str,
    opts: &WarmOptions,
) -> Result<Warmed, CacheError> {
    let r: Reference = name.parse()?;
    info!("Retrieving image manifest {r}");
    let remote = client.pull_image(&r, &opts.platform).await?;
    let digest = remote.digest.clone();
    let dest = entry_dir(&opts.dir, &digest);
    let desc = Descriptor {
        media_type: remote.media_type.clone(),
        digest: digest.clone(),
        size: remote.manifest_bytes.len() as u64,
        urls: None,
        annotations: None,
        platform: Some(opts.platform.clone()),
    };
    let desc = ocilayout::named(desc, &r.to_string());
    if !opts.force && is_fresh(&dest, opts.ttl) {
        add_name(&dest, desc)?;
        info!("Image already in cache: {r} ({digest})");
        return Ok(Warmed::AlreadyCached(digest));
    }
    fs::create_dir_all(&opts.dir).map_err(CacheError::io(&opts.dir))?;
    let tmp = tempfile::Builder::new()
        .prefix(".warming-")
        .tempdir_in(&opts.dir)
        .map_err(CacheError::io(&opts.dir))?;
    let layout = Layout::new(tmp.path());
    layout.create()?;
    info!(
        "Retrieving image {r} from registry {}",
        remote.reference.registry
    );
    for layer in &remote.manifest.layers {
        fetch_blob(client, &remote.reference, layer, &layout).await?;
    }
    layout.put_bytes(&remote.config_bytes)?;
    layout.put_bytes(&remote.manifest_bytes)?;
    let mut index = ocilayout::empty_index();
    index.manifests.push(desc);
    layout.write_index(&index)?;
    publish(tmp.keep(), &dest)?;
    info!("Wrote {r} to cache as {}", dest.display());
    Ok(Warmed::Stored(digest))
}

/// Streams one blob into the (not yet published) `layout`; the stream fails at its end
/// unless the size and digest match.
async fn fetch_blob(
    client: &Client,
    from: &Reference,
    d: &Descriptor,
    layout: &Layout,
) -> Result<(), CacheError> {
    let path = layout.blob_path(&d.digest);
    let io = CacheError::io(&path);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(CacheError::io(parent))?;
    }
    let mut reader = client
        .blob_reader_sized(from, &d.digest, Some(d.size))
        .await?;
    let mut file = tokio::fs::File::create(&path)
        .await
        .map_err(CacheError::io(&path))?;
    let copied = tokio::io::copy(&mut reader, &mut file).await;
    copied.map_err(CacheError::io(&path))?;
    file.flush().await.map_err(io)?;
    Ok(())
}

/// Moves the finished entry `tmp` to `dest`, swapping out (and then removing) what was
/// there: readers see the old entry or the new one, never a mix.
fn publish(tmp: PathBuf, dest: &Path) -> Result<(), CacheError> {
    let result = match fs::rename(&tmp, dest) {
        Ok(()) => return Ok(()),
        Err(_) if fs::symlink_metadata(dest).is_ok() => nix::fcntl::renameat2(
            None,
            &tmp,
            None,
            dest,
            nix::fcntl::RenameFlags::RENAME_EXCHANGE,
        )
        .map_err(|e| CacheError::io(dest)(e.into())),
        Err(e) => Err(CacheError::io(dest)(e)),
    };
    // After the swap `tmp` holds the old entry; after a failure, the new one.
    let _ = fs::remove_dir_all(&tmp).or_else(|_| fs::remove_file(&tmp));
    result
}

/// Adds `desc` (the entry's manifest under another name) to an entry's index.
fn add_name(dir: &Path, desc: Descriptor) -> Result<(), CacheError> {
    let layout = Layout::new(dir);
    let index = layout.index_or_empty()?;
    if index
        .manifests
        .iter()
        .any(|d| ref_name(d) == ref_name(&desc))
    {
        return Ok(());
    }
    Ok(layout.update_index(|index| index.manifests.push(desc))?)
}

/// The base images a Dockerfile's stages start from, with build args applied: every image
/// base once, neither `scratch` nor earlier stages.
pub fn dockerfile_bases(
    text: &str,
    build_args: &dockerfile::BuildArgs,
    platform: &Platform,
) -> Result<Vec<String>, dockerfile::Error> {
    let df = dockerfile::parse(text)?;
    let pargs = crate::platform_args(platform);
    let global = GlobalScope::with_escape(&df.meta_args, build_args, &pargs, df.escape)?;
    let mut bases: Vec<String> = Vec::new();
    for i in 0..df.stages.len() {
        let base = df.base(i, &global)?;
        let name = base.name;
        if base.stage.is_none() && !name.eq_ignore_ascii_case("scratch") && !bases.contains(&name) {
            bases.push(name);
        }
    }
    Ok(bases)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_skip_scratch_stages_and_repeats() {
        let df = "ARG V=1\nARG W\nFROM r/a:$V AS one\nFROM one\nFROM scratch\nFROM r/b:${W:-2}\nFROM r/a:1\n";
        let args = dockerfile::BuildArgs::new([("W".to_string(), "9".to_string())]);
        let p = Platform::parse("linux/amd64").unwrap();
        assert_eq!(dockerfile_bases(df, &args, &p).unwrap(), ["r/a:1", "r/b:9"]);
    }

    #[test]
    fn publishing_replaces_an_old_entry_whole() {
        let d = tempfile::tempdir().unwrap();
        let dest = d.path().join("sha256-x");
        for content in ["old", "new"] {
            let tmp = d.path().join(format!(".warming-{content}"));
            fs::create_dir_all(&tmp).unwrap();
            fs::write(tmp.join("index.json"), content).unwrap();
            publish(tmp.clone(), &dest).unwrap();
            assert!(!tmp.exists());
        }
        assert_eq!(fs::read_to_string(dest.join("index.json")).unwrap(), "new");
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
    }
}
