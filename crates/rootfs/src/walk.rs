//! The metadata walk under snapshots: every directory below a start directory read once,
//! each entry stat'ed relative to its directory (no path lookup from the root per file),
//! directories handed out to one thread per core. Symlinks are not followed and ignored
//! paths are not entered. What comes back is each directory's children sorted by name, in
//! no particular order of directories.

use crate::table::{Child, Meta};
use crate::{Error, IgnoreList};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};

/// One directory read: its container path and its children, sorted by name.
pub(crate) type Listing = (PathBuf, Vec<Child>);

/// Directories waiting to be read, how many are being read, and the first error.
struct Queue {
    todo: Vec<PathBuf>,
    busy: usize,
    error: Option<Error>,
}

/// Reads the container directory `start` (which must be a directory) and everything below
/// it, on up to one thread per core (on the caller's alone while there is one directory to
/// read at a time: a COPY's small trees spawn nothing).
pub(crate) fn walk(root: &Path, ignore: &IgnoreList, start: &Path) -> Result<Vec<Listing>, Error> {
    let children = read_dir(root, ignore, start)?;
    let todo: Vec<PathBuf> = children
        .iter()
        .filter(|c| c.meta.is_dir())
        .map(|c| start.join(&*c.name))
        .collect();
    let first = (start.to_path_buf(), children);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let helpers = if todo.len() > 1 { threads - 1 } else { 0 };
    let queue = Mutex::new(Queue {
        todo,
        busy: 0,
        error: None,
    });
    let wake = Condvar::new();
    let results: Vec<Vec<Listing>> = std::thread::scope(|s| {
        let others: Vec<_> = (0..helpers)
            .map(|_| s.spawn(|| worker(root, ignore, &queue, &wake)))
            .collect();
        let mut all = vec![vec![first], worker(root, ignore, &queue, &wake)];
        all.extend(others.into_iter().map(|w| w.join().unwrap_or_default()));
        all
    });
    let mut q = queue.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = q.error.take() {
        return Err(e);
    }
    Ok(results.into_iter().flatten().collect())
}

fn worker(root: &Path, ignore: &IgnoreList, queue: &Mutex<Queue>, wake: &Condvar) -> Vec<Listing> {
    let mut out = Vec::new();
    loop {
        let dir = {
            let mut q = queue.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if q.error.is_some() {
                    return out;
                }
                if let Some(d) = q.todo.pop() {
                    q.busy += 1;
                    break d;
                }
                if q.busy == 0 {
                    wake.notify_all();
                    return out;
                }
                q = wake.wait(q).unwrap_or_else(|e| e.into_inner());
            }
        };
        let read = read_dir(root, ignore, &dir);
        let mut q = queue.lock().unwrap_or_else(|e| e.into_inner());
        q.busy -= 1;
        match read {
            Ok(children) => {
                for c in children.iter().filter(|c| c.meta.is_dir()) {
                    q.todo.push(dir.join(&*c.name));
                }
                out.push((dir, children));
            }
            Err(e) => {
                q.error.get_or_insert(e);
            }
        }
        wake.notify_all();
    }
}

/// The children of one container directory, sorted by name; a directory that vanished
/// meanwhile has none.
fn read_dir(root: &Path, ignore: &IgnoreList, dir: &Path) -> Result<Vec<Child>, Error> {
    let host = crate::resolve::host_path(root, dir);
    let rd = match std::fs::read_dir(&host) {
        Ok(rd) => rd,
        Err(e) if gone(&e) => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("walking", &host)(e)),
    };
    // Checking each name against the ignore list only where an ignored path lies below.
    let check = ignore.has_ignored_below(dir);
    let mut children = Vec::new();
    for e in rd {
        let e = match e {
            Ok(e) => e,
            Err(err) if gone(&err) => continue,
            Err(err) => return Err(Error::io("walking", &host)(err)),
        };
        let name = e.file_name();
        if check && ignore.is_ignored(&dir.join(&name)) {
            continue;
        }
        // Relative to the open directory: fstatat/statx, not a lookup from the root.
        match e.metadata() {
            Ok(m) => children.push(Child::new(name.as_os_str(), Meta::of(&m))),
            Err(err) if gone(&err) => continue,
            Err(err) => return Err(Error::io("walking", &host.join(&name))(err)),
        }
    }
    children.sort_unstable_by(|a, b| OsStr::cmp(&a.name, &b.name));
    Ok(children)
}

fn gone(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ENOTDIR))
}
