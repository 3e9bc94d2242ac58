//! Writing a layout: blobs and indexes through temporary files renamed into place, index
//! updates under a lock.

use crate::{Error, Layout};
use image::{Digest, Index};
use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// The `oci-layout` file's content.
const LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;
/// Longest wait for another writer's lock on an index.
const LOCK_WAIT: Duration = Duration::from_secs(120);

/// How a blob file is put into a layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// A hard link when both are on one filesystem, else a copy.
    LinkOrCopy,
    /// Always a copy (the layout shares no file with its source).
    Copy,
}

impl Layout {
    /// Makes the directory a layout (its `oci-layout` file and blob directory) if it is
    /// not one yet.
    pub fn create(&self) -> Result<(), Error> {
        let blobs = self.dir.join("blobs").join("sha256");
        fs::create_dir_all(&blobs).map_err(Error::write(&blobs))?;
        let marker = self.dir.join("oci-layout");
        if !marker.exists() {
            write_atomic(&marker, LAYOUT)?;
        }
        Ok(())
    }

    /// Puts a small blob (config, manifest) in, unless it is there; its digest.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<Digest, Error> {
        let digest = Digest::sha256(bytes);
        let path = self.blob_path(&digest);
        if !path.exists() {
            write_atomic(&path, bytes)?;
        }
        Ok(digest)
    }

    /// Puts the blob file `src` (already verified to be `digest`) in, unless it is there.
    pub fn put_file(&self, digest: &Digest, src: &Path, how: Place) -> Result<(), Error> {
        let path = self.blob_path(digest);
        if path.exists() {
            return Ok(());
        }
        let parent = blob_dir(&path, &self.dir)?;
        let tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .make_in(parent, |p| match how {
                Place::LinkOrCopy => {
                    fs::hard_link(src, p).or_else(|_| fs::copy(src, p).map(|_| ()))
                }
                Place::Copy => fs::copy(src, p).map(|_| ()),
            })
            .map_err(Error::read(src))?;
        tmp.persist(&path)
            .map_err(|e| Error::write(&path)(e.error))?;
        Ok(())
    }

    /// Writes `index.json` whole.
    pub fn write_index(&self, index: &Index) -> Result<(), Error> {
        let bytes = serde_json::to_vec(index).map_err(|e| Error::Json {
            dir: self.dir.clone(),
            message: e.to_string(),
        })?;
        write_atomic(&self.index_path(), &bytes)
    }

    /// Changes `index.json` (an empty index when there is none) with `change` while
    /// holding its lock (a blocking call).
    pub fn update_index(&self, change: impl FnOnce(&mut Index)) -> Result<(), Error> {
        let lock_path = self.dir.join("index.json.lock");
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(Error::write(&lock_path))?;
        let _lock = lock(file, &lock_path)?;
        let mut index = self.index_or_empty()?;
        change(&mut index);
        self.write_index(&index)
    }
}

/// The directory of the blob at `path`, made when missing.
fn blob_dir<'a>(path: &'a Path, dir: &'a Path) -> Result<&'a Path, Error> {
    let parent = path.parent().unwrap_or(dir);
    fs::create_dir_all(parent).map_err(Error::write(parent))?;
    Ok(parent)
}

/// Writes `bytes` to `path` through a temporary file in the same directory.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(Error::write(dir))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(Error::write(path))?;
    tmp.persist(path).map_err(|e| Error::write(path)(e.error))?;
    Ok(())
}

fn lock(mut file: fs::File, path: &Path) -> Result<nix::fcntl::Flock<fs::File>, Error> {
    let start = Instant::now();
    loop {
        match nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock) {
            Ok(l) => return Ok(l),
            Err((f, nix::errno::Errno::EWOULDBLOCK)) if start.elapsed() < LOCK_WAIT => {
                file = f;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err((_, e)) => {
                return Err(Error::Lock {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })
            }
        }
    }
}
