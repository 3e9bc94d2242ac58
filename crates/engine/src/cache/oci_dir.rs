//! Writing OCI image layouts so that a reader never sees half a file: every blob and every
//! index goes to a temporary name in its directory and is renamed into place; blobs are
//! named by digest, so two writers of one blob write the same bytes. Updates of a shared
//! `index.json` take an exclusive lock on `index.json.lock` (waits are bounded).

use super::CacheError;
use image::{media, Digest, Index};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The `oci-layout` file's content.
const LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;
/// Longest wait for another writer's lock on an index.
const LOCK_WAIT: Duration = Duration::from_secs(120);
/// Largest index read (as the layout source reads them).
const MAX_INDEX: u64 = 8 << 20;

/// Where the blob `digest` of layout `dir` lives.
pub fn blob_path(dir: &Path, digest: &Digest) -> PathBuf {
    dir.join("blobs")
        .join(digest.algorithm())
        .join(digest.hex())
}

/// Makes `dir` a layout (its `oci-layout` file and blob directory) if it is not one yet.
pub fn ensure_layout(dir: &Path) -> Result<(), CacheError> {
    let blobs = dir.join("blobs").join("sha256");
    fs::create_dir_all(&blobs).map_err(CacheError::io(&blobs))?;
    let marker = dir.join("oci-layout");
    if !marker.exists() {
        write_atomic(&marker, LAYOUT)?;
    }
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file in the same directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CacheError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(CacheError::io(dir))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(CacheError::io(tmp.path()))?;
    tmp.persist(path)
        .map_err(|e| CacheError::io(path)(e.error))?;
    Ok(())
}

/// Puts a small blob (config, manifest) into layout `dir`.
pub fn put_bytes(dir: &Path, bytes: &[u8]) -> Result<Digest, CacheError> {
    let digest = Digest::sha256(bytes);
    let path = blob_path(dir, &digest);
    if !path.exists() {
        write_atomic(&path, bytes)?;
    }
    Ok(digest)
}

/// Puts the blob file `src` (already verified to be `digest`) into layout `dir`: a hard
/// link when both are on one filesystem, else a copy, renamed into place.
pub fn put_file(dir: &Path, digest: &Digest, src: &Path) -> Result<(), CacheError> {
    let path = blob_path(dir, digest);
    if path.exists() {
        return Ok(());
    }
    let parent = path.parent().unwrap_or(dir);
    fs::create_dir_all(parent).map_err(CacheError::io(parent))?;
    let tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .make_in(parent, |p| {
            fs::hard_link(src, p).or_else(|_| fs::copy(src, p).map(|_| ()))
        })
        .map_err(CacheError::io(src))?;
    tmp.persist(&path)
        .map_err(|e| CacheError::io(&path)(e.error))?;
    Ok(())
}

/// Reads `dir/index.json` (an empty index when there is none).
pub fn read_index(dir: &Path) -> Result<Index, CacheError> {
    let path = dir.join("index.json");
    let len = match fs::metadata(&path) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(empty_index()),
        Err(e) => return Err(CacheError::io(&path)(e)),
    };
    if len > MAX_INDEX {
        return Err(CacheError::Entry(format!(
            "{} is {len} bytes, more than the {MAX_INDEX} allowed",
            path.display()
        )));
    }
    let bytes = fs::read(&path).map_err(CacheError::io(&path))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| CacheError::Entry(format!("{}: {e}", path.display())))
}

pub fn empty_index() -> Index {
    Index {
        schema_version: 2,
        media_type: Some(media::OCI_INDEX.to_string()),
        manifests: Vec::new(),
        annotations: None,
    }
}

/// Writes `dir/index.json` whole.
pub fn write_index(dir: &Path, index: &Index) -> Result<(), CacheError> {
    let bytes = serde_json::to_vec(index).map_err(|e| CacheError::Entry(e.to_string()))?;
    write_atomic(&dir.join("index.json"), &bytes)
}

/// Changes `dir/index.json` with `change` while holding its lock (a blocking call).
pub fn update_index(dir: &Path, change: impl FnOnce(&mut Index)) -> Result<(), CacheError> {
    let lock_path = dir.join("index.json.lock");
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(CacheError::io(&lock_path))?;
    let _lock = lock(file, &lock_path)?;
    let mut index = read_index(dir)?;
    change(&mut index);
    write_index(dir, &index)
}

fn lock(mut file: fs::File, path: &Path) -> Result<nix::fcntl::Flock<fs::File>, CacheError> {
    let start = Instant::now();
    loop {
        match nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock) {
            Ok(l) => return Ok(l),
            Err((f, nix::errno::Errno::EWOULDBLOCK)) if start.elapsed() < LOCK_WAIT => {
                file = f;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err((_, e)) => {
                return Err(CacheError::Entry(format!(
                    "locking {}: {e}",
                    path.display()
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_index_updates_lose_nothing() {
        let d = tempfile::tempdir().unwrap();
        ensure_layout(d.path()).unwrap();
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let dir = d.path().to_path_buf();
                std::thread::spawn(move || {
                    for j in 0..10 {
                        let digest = put_bytes(&dir, format!("{i}-{j}").as_bytes()).unwrap();
                        update_index(&dir, |idx| {
                            idx.manifests.push(image::Descriptor {
                                media_type: media::OCI_MANIFEST.into(),
                                digest,
                                size: 3,
                                urls: None,
                                annotations: None,
                                platform: None,
                            })
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(read_index(d.path()).unwrap().manifests.len(), 80);
        let leftovers: Vec<_> = fs::read_dir(d.path().join("blobs/sha256"))
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn files_are_linked_or_copied_once() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("src");
        fs::write(&src, b"layer").unwrap();
        let digest = Digest::sha256(b"layer");
        let dir = d.path().join("layout");
        ensure_layout(&dir).unwrap();
        put_file(&dir, &digest, &src).unwrap();
        put_file(&dir, &digest, &src).unwrap();
        assert_eq!(fs::read(blob_path(&dir, &digest)).unwrap(), b"layer");
        assert_eq!(fs::read(dir.join("oci-layout")).unwrap(), LAYOUT);
    }
}
