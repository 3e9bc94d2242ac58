//! The crash-safe record of a RUN's mounts: before a mount changes the root, a record of
//! what it will do (the target, where its previous content goes aside, the cache moved
//! there, the secret file in a tmpfs, the parents it makes) is written to
//! `<work dir>/mounts/journal.json`, beside a lock file the build holds while the RUN runs. Taking a
//! mount away and repairing after a crash are the same [`undo`], decided by what is on
//! disk: a killed build's journal is found by the next start in the same container
//! ([`repair`]), which puts the root and the caches back as they were.

use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

const DIR: &str = "mounts";
const FILE: &str = "journal.json";
/// Held by the live build (the journal itself is replaced on each write).
const LOCK: &str = "lock";

/// One mount, in host paths.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Record {
    /// The build root.
    pub root: PathBuf,
    pub target: PathBuf,
    /// Whether the target existed before (then it is moved to `aside`).
    pub existed: bool,
    pub aside: Option<PathBuf>,
    /// The cache directory moved to the target (moved back after).
    pub cache: Option<PathBuf>,
    /// The secret file in a tmpfs the target links to.
    pub shm: Option<PathBuf>,
    /// Parents made for the target, innermost first.
    pub made: Vec<PathBuf>,
}

/// The journal of the RUN in progress; locked while it lives.
pub struct Journal {
    dir: PathBuf,
    records: Vec<Record>,
    _lock: File,
}

impl Journal {
    /// A new journal in the work directory.
    pub fn create(work: &Path) -> io::Result<Journal> {
        let dir = work.join(DIR);
        fs::create_dir_all(&dir)?;
        let lock = File::create(dir.join(LOCK))?;
        // SAFETY: flock on an fd we own.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Journal {
            dir,
            records: Vec::new(),
            _lock: lock,
        })
    }

    /// Where the previous content of mount `n`'s target waits.
    pub fn aside(&self, n: usize) -> PathBuf {
        self.dir.join(format!("aside-{n}"))
    }

    pub fn record(&self, n: usize) -> Option<&Record> {
        self.records.get(n)
    }

    /// How many records it holds: the number the next one gets.
    pub fn next_index(&self) -> usize {
        self.records.len()
    }

    /// Adds a record and writes the journal: before the change it describes.
    pub fn push(&mut self, r: Record) -> io::Result<()> {
        self.records.push(r);
        self.save()
    }

    /// Changes record `n` and writes the journal.
    pub fn update(&mut self, n: usize, f: impl FnOnce(&mut Record)) -> io::Result<()> {
        if let Some(r) = self.records.get_mut(n) {
            f(r);
        }
        self.save()
    }

    /// Written aside and renamed over, so a reader never sees half a journal.
    fn save(&self) -> io::Result<()> {
        let tmp = self.dir.join("journal.tmp");
        let text = serde_json::to_vec(&self.records).map_err(io::Error::other)?;
        fs::write(&tmp, text)?;
        fs::rename(&tmp, self.dir.join(FILE))
    }

    /// Undoes every mount, the last first; the first failure is returned after all were
    /// tried. The journal goes once everything is back.
    pub fn undo_all(&mut self) -> Result<(), PathBuf> {
        let mut first = None;
        while let Some(r) = self.records.last() {
            if let Err(e) = undo(r) {
                first.get_or_insert(e);
            }
            self.records.pop();
            let _ = self.save();
        }
        match first {
            Some(e) => Err(e),
            None => {
                let _ = fs::remove_dir_all(&self.dir);
                Ok(())
            }
        }
    }
}

/// Takes one mount away: gives a cache moved to the target back to the caches, removes
/// whatever is at the target when the mount put it there (all of it is the mount's), the
/// secret's tmpfs file, puts the previous content back and removes the parents made for
/// it while they are empty. Fails (leaving the target alone) when a directory above the
/// target is no longer a directory: the path would lead elsewhere.
pub fn undo(r: &Record) -> Result<(), PathBuf> {
    if let Some(s) = &r.shm {
        let _ = fs::remove_file(s);
    }
    if !super::points::still_below(&r.root, &r.target) {
        return Err(r.target.clone());
    }
    let aside = r.aside.as_ref().filter(|a| a.symlink_metadata().is_ok());
    let ours = !r.existed || aside.is_some();
    if ours {
        if let Some(c) = &r.cache {
            let is_dir = r.target.symlink_metadata().is_ok_and(|m| m.is_dir());
            if is_dir && c.symlink_metadata().is_err() {
                let _ = fs::rename(&r.target, c);
            }
        }
        remove_any(&r.target);
    }
    if let Some(a) = aside {
        let _ = fs::rename(a, &r.target);
    }
    for m in &r.made {
        let _ = fs::remove_dir(m); // only while empty
    }
    Ok(())
}

/// Removes a file, a symlink or a whole directory (never following a symlink).
pub fn remove_any(p: &Path) {
    match p.symlink_metadata() {
        Ok(m) if m.is_dir() => {
            let _ = fs::remove_dir_all(p);
        }
        Ok(_) => {
            let _ = fs::remove_file(p);
        }
        Err(_) => {}
    }
}

/// At start: undoes the mounts of builds that were killed during a RUN (their work
/// directories under the kaniko dir still hold an unlocked journal). Returns the targets
/// put back.
pub fn repair(kaniko_dir: &Path) -> Vec<PathBuf> {
    let mut repaired = Vec::new();
    let Ok(entries) = fs::read_dir(kaniko_dir) else {
        return repaired;
    };
    for e in entries.flatten() {
        let is_work = e.file_name().to_string_lossy().starts_with("build-");
        let dir = e.path().join(DIR);
        let file = dir.join(FILE);
        if !is_work || !file.is_file() {
            continue;
        }
        let Ok(lock) = File::open(dir.join(LOCK)) else {
            continue;
        };
        // SAFETY: flock on an fd we own. A live build holds it: skip that journal.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            continue;
        }
        let records: Vec<Record> = fs::read(&file)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let mut all = true;
        for r in records.iter().rev() {
            all &= undo(r).is_ok();
            repaired.push(r.target.clone());
        }
        if all {
            let _ = fs::remove_dir_all(&dir);
        }
    }
    repaired
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repair_puts_back_what_a_killed_build_left() {
        let kaniko = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        let work = kaniko.path().join("build-x");
        let caches = kaniko.path().join("caches");
        fs::create_dir_all(r.join("var/cache")).unwrap();
        fs::create_dir_all(&caches).unwrap();
        // The image's /var/cache/apt, moved aside; the cache moved in; /run/secrets made
        // for a secret written at its target.
        fs::create_dir_all(r.join("var/cache/apt")).unwrap();
        fs::write(r.join("var/cache/apt/own"), "image").unwrap();
        let mut j = Journal::create(&work).unwrap();
        let aside = j.aside(0);
        j.push(Record {
            root: r.into(),
            target: r.join("var/cache/apt"),
            existed: true,
            aside: Some(aside.clone()),
            cache: Some(caches.join("apt")),
            ..Record::default()
        })
        .unwrap();
        fs::rename(r.join("var/cache/apt"), &aside).unwrap();
        fs::create_dir(r.join("var/cache/apt")).unwrap();
        fs::write(r.join("var/cache/apt/pkg.deb"), "cached").unwrap();
        j.push(Record {
            root: r.into(),
            target: r.join("run/secrets/tok"),
            made: vec![r.join("run/secrets"), r.join("run")],
            ..Record::default()
        })
        .unwrap();
        fs::create_dir_all(r.join("run/secrets")).unwrap();
        fs::write(r.join("run/secrets/tok"), "s3cr3t").unwrap();
        // While the build lives, its journal is left alone.
        assert!(repair(kaniko.path()).is_empty());
        drop(j); // killed: nothing undone, the lock released with the process
        let repaired = repair(kaniko.path());
        assert_eq!(repaired.len(), 2);
        assert_eq!(fs::read(r.join("var/cache/apt/own")).unwrap(), b"image");
        assert!(!r.join("var/cache/apt/pkg.deb").exists());
        assert_eq!(fs::read(caches.join("apt/pkg.deb")).unwrap(), b"cached");
        assert!(!r.join("run").exists(), "the secret and its parents stayed");
        assert!(!work.join("mounts").exists());
    }
}
