//! `RUN --mount=type=cache` directories under `<kaniko dir>/caches/`: one directory per id
//! (its name the id with `/` and other bytes escaped as `%XX`), kept between builds when a
//! volume is mounted there. A new directory is made aside and renamed into place, so two
//! builds creating the same cache at once both see one whole directory. `sharing=locked`
//! holds an exclusive file lock on the id for the RUN (a second build waits); `private`
//! takes the first instance (`<name>`, `<name>@1`, ...) no other build holds; `shared` takes
//! no lock, unless the caches share the root's file system: then a RUN moves the directory
//! itself into place, and a second build waits for it as with `locked`. Locks live in
//! `caches/@locks/`: `@` never appears in an escaped name.

use super::spec::{Sharing, Spec};
use std::fs::{self, File};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tracing::info;

/// How long `sharing=locked` waits for another build to release the cache.
const LOCK_WAIT: Duration = Duration::from_secs(3600);
/// How many private instances of one cache may exist.
const PRIVATE_INSTANCES: usize = 64;

/// A cache directory in use; its lock (if any) is released on drop.
pub struct CacheDir {
    pub path: PathBuf,
    _lock: Option<File>,
}

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cache mount {id:?}: {path}: {source}")]
    Io {
        id: String,
        path: PathBuf,
        source: io::Error,
    },
    #[error("cache mount {0:?} (sharing=locked) is still held by another build after {1:?}")]
    Timeout(String, Duration),
    #[error("cache mount {0:?} (sharing=private): all {1} instances are in use")]
    Busy(String, usize),
}

/// The directory name of cache `id`: unreserved bytes kept, the rest `%XX`; names that
/// would be special or too long become the id's sha256.
pub fn dir_name(id: &str) -> String {
    let mut out = String::new();
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() || out == "." || out == ".." || out.len() > 200 {
        return format!("sha256-{}", image::Digest::sha256(id.as_bytes()).hex());
    }
    out
}

/// Opens (creating it when missing) the cache of `spec` under `caches`; `seed` is copied
/// into a new cache (its `from`/`source`); `moved` when the RUN will move the directory
/// into place (it then holds it alone). Waiting for a locked cache yields to the runtime,
/// so a SIGTERM ends the wait.
pub async fn open(
    caches: &Path,
    spec: &Spec,
    seed: Option<&Path>,
    moved: bool,
) -> Result<CacheDir, CacheError> {
    let err = |path: &Path| {
        let (id, path) = (spec.id.clone(), path.to_path_buf());
        move |source| CacheError::Io { id, path, source }
    };
    let locks = caches.join("@locks");
    fs::create_dir_all(&locks).map_err(err(&locks))?;
    let name = dir_name(&spec.id);
    let (instance, lock) = match spec.sharing {
        Sharing::Shared if !moved => (name, None),
        Sharing::Shared | Sharing::Locked => {
            let f = lock_file(&locks.join(&name)).map_err(err(&locks))?;
            wait_lock(&f, &spec.id).await?;
            (name, Some(f))
        }
        Sharing::Private => private_instance(&locks, &name, &spec.id)?,
    };
    let path = caches.join(&instance);
    if fs::symlink_metadata(&path).is_err() {
        tokio::task::block_in_place(|| create(caches, &path, spec, seed)).map_err(err(&path))?;
    }
    Ok(CacheDir { path, _lock: lock })
}

fn lock_file(p: &Path) -> io::Result<File> {
    fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(p)
}

fn try_lock(f: &File) -> io::Result<bool> {
    // SAFETY: flock on an fd we own.
    let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r == 0 {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e)
    }
}

async fn wait_lock(f: &File, id: &str) -> Result<(), CacheError> {
    let start = Instant::now();
    let mut told = false;
    loop {
        let locked = try_lock(f).map_err(|source| CacheError::Io {
            id: id.into(),
            path: "@locks".into(),
            source,
        })?;
        if locked {
            return Ok(());
        }
        if !told {
            info!("Waiting for cache mount {id:?} (sharing=locked), in use by another build");
            told = true;
        }
        if start.elapsed() > LOCK_WAIT {
            return Err(CacheError::Timeout(id.into(), LOCK_WAIT));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn private_instance(
    locks: &Path,
    name: &str,
    id: &str,
) -> Result<(String, Option<File>), CacheError> {
    for k in 0..PRIVATE_INSTANCES {
        let instance = if k == 0 {
            name.to_string()
        } else {
            format!("{name}@{k}")
        };
        let lp = locks.join(&instance);
        let io = |source| CacheError::Io {
            id: id.into(),
            path: lp.clone(),
            source,
        };
        let f = lock_file(&lp).map_err(io)?;
        if try_lock(&f).map_err(io)? {
            return Ok((instance, Some(f)));
        }
    }
    Err(CacheError::Busy(id.into(), PRIVATE_INSTANCES))
}

/// Makes the cache aside (seeded, with its mode and owner), then renames it into place; a
/// build that won the race leaves its directory, and this one is dropped.
fn create(caches: &Path, path: &Path, spec: &Spec, seed: Option<&Path>) -> io::Result<()> {
    let tmp = tempfile::Builder::new()
        .prefix("@new-")
        .tempdir_in(caches)?;
    let dir = tmp.path().join("c");
    match seed {
        Some(s) => crate::stage::files::copy_tree(s, &dir, &|_| true)?,
        None => fs::create_dir(&dir)?,
    }
    if seed.is_none() || spec.mode.is_some() {
        fs::set_permissions(&dir, fs::Permissions::from_mode(spec.mode.unwrap_or(0o755)))?;
    }
    if seed.is_none() || spec.uid.is_some() || spec.gid.is_some() {
        std::os::unix::fs::lchown(
            &dir,
            Some(spec.uid.unwrap_or(0)),
            Some(spec.gid.unwrap_or(0)),
        )?;
    }
    match fs::rename(&dir, path) {
        Ok(()) => Ok(()),
        Err(_) if path.is_dir() => Ok(()), // another build made it first
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dockerfile::MountKind;

    fn spec(id: &str, sharing: Sharing) -> Spec {
        Spec {
            kind: MountKind::Cache,
            target: Some("/c".into()),
            source: String::new(),
            from: None,
            id: id.into(),
            readonly: false,
            sharing,
            mode: Some(0o700),
            uid: Some(7),
            gid: None,
            size: None,
            required: false,
            env: None,
        }
    }

    #[test]
    fn names_are_escaped_and_distinct() {
        assert_eq!(dir_name("/root/.cache/pip"), "%2Froot%2F.cache%2Fpip");
        assert_ne!(dir_name("a/b"), dir_name("a%2Fb"));
        assert!(dir_name("..").starts_with("sha256-"));
        assert!(!dir_name(&"x".repeat(300)).contains('/'));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn created_once_with_mode_and_owner_and_private_instances_differ() {
        let d = tempfile::tempdir().unwrap();
        let open = |id, sharing| {
            let s = spec(id, sharing);
            let dir = d.path().to_path_buf();
            async move { open(&dir, &s, None, false).await.unwrap() }
        };
        let a = open("/go", Sharing::Shared).await;
        let m = fs::metadata(&a.path).unwrap();
        assert_eq!(m.permissions().mode() & 0o7777, 0o700);
        assert_eq!(std::os::unix::fs::MetadataExt::uid(&m), 7);
        fs::write(a.path.join("kept"), "x").unwrap();
        let again = open("/go", Sharing::Locked).await;
        assert!(again.path.join("kept").exists());
        let p1 = open("/p", Sharing::Private).await;
        let p2 = open("/p", Sharing::Private).await;
        assert_ne!(p1.path, p2.path);
        drop(p1);
        let p3 = open("/p", Sharing::Private).await;
        assert_eq!(p3.path, d.path().join("%2Fp"));
    }
}
