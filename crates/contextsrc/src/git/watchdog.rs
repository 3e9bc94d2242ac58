//! Bounds a git fetch: a thread that raises gix's interrupt flag once the clone's directory
//! holds more than `KANIKO_GIT_MAX_SIZE` bytes or the fetch runs longer than
//! `KANIKO_GIT_TIMEOUT` seconds, and remembers which bound it hit. gix's HTTP transport has
//! a connect timeout only, so without this a server that streams forever, or stops
//! answering mid-pack, would hold the build.

use crate::{Env, Error};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The bounds of one fetch (submodules included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Bytes on disk: the fetched objects and the checked-out files (0: no bound).
    pub max_bytes: u64,
    pub timeout: Duration,
}

impl Limits {
    pub const DEFAULT_MAX_BYTES: u64 = 16 << 30;
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

    pub(crate) fn from_env(env: &Env) -> Result<Limits, Error> {
        let num = |name: &str, default: u64| match env.get(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .map_err(|_| Error::Config(format!("{name}={v:?}: want a whole number"))),
        };
        Ok(Limits {
            max_bytes: num("KANIKO_GIT_MAX_SIZE", Self::DEFAULT_MAX_BYTES)?,
            timeout: Duration::from_secs(num(
                "KANIKO_GIT_TIMEOUT",
                Self::DEFAULT_TIMEOUT.as_secs(),
            )?),
        })
    }
}

/// How often the directory is measured, and how often the thread looks at the clock.
const MEASURE_EVERY: Duration = Duration::from_secs(1);
const TICK: Duration = Duration::from_millis(50);

pub(crate) struct Watchdog {
    dir: PathBuf,
    limits: Limits,
    start: Instant,
    interrupt: Arc<AtomicBool>,
    done: Arc<AtomicBool>,
    tripped: Arc<Mutex<Option<String>>>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    /// Starts watching `dir` against `limits`.
    pub(crate) fn start(dir: &Path, limits: Limits) -> Watchdog {
        let interrupt = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicBool::new(false));
        let tripped = Arc::new(Mutex::new(None));
        let (i, d, t, watched) = (
            interrupt.clone(),
            done.clone(),
            tripped.clone(),
            dir.to_path_buf(),
        );
        let thread = std::thread::spawn(move || watch(&watched, limits, &i, &d, &t));
        Watchdog {
            dir: dir.to_path_buf(),
            limits,
            start: Instant::now(),
            interrupt,
            done,
            tripped,
            thread: Some(thread),
        }
    }

    /// The flag gix polls.
    pub(crate) fn flag(&self) -> Arc<AtomicBool> {
        self.interrupt.clone()
    }

    /// Stops the thread; the bound the fetch broke, if it broke one. Both are checked once
    /// more here: the transport's own request timeout may fire a moment before the thread
    /// sees the clock, and a fast fetch may end between two measurements.
    pub(crate) fn finish(mut self) -> Option<String> {
        self.stop();
        let tripped = self.tripped.lock().ok().and_then(|mut t| t.take());
        let limits = self.limits;
        tripped
            .or_else(|| (self.start.elapsed() >= limits.timeout).then(|| timed_out(limits.timeout)))
            .or_else(|| {
                (limits.max_bytes > 0 && size_of(&self.dir) > limits.max_bytes)
                    .then(|| too_big(limits.max_bytes))
            })
    }

    fn stop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop();
    }
}

fn watch(
    dir: &Path,
    limits: Limits,
    interrupt: &AtomicBool,
    done: &AtomicBool,
    tripped: &Mutex<Option<String>>,
) {
    let start = Instant::now();
    let mut measured = start;
    let trip = |why: String| {
        if let Ok(mut t) = tripped.lock() {
            *t = Some(why);
        }
        interrupt.store(true, Ordering::Relaxed);
    };
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(TICK);
        if start.elapsed() > limits.timeout {
            return trip(timed_out(limits.timeout));
        }
        if limits.max_bytes > 0 && measured.elapsed() >= MEASURE_EVERY {
            measured = Instant::now();
            let size = size_of(dir);
            if size > limits.max_bytes {
                return trip(too_big(limits.max_bytes));
            }
        }
    }
}

fn too_big(max: u64) -> String {
    format!("the repository grew past {max} bytes (KANIKO_GIT_MAX_SIZE)")
}

fn timed_out(limit: Duration) -> String {
    format!(
        "the fetch took longer than {} s (KANIKO_GIT_TIMEOUT)",
        limit.as_secs()
    )
}

/// Bytes of the regular files under `dir` (links not followed).
fn size_of(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trips_on_size_and_on_time() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("big"), vec![0u8; 4096]).unwrap();
        let w = Watchdog::start(
            dir.path(),
            Limits {
                max_bytes: 1024,
                timeout: Duration::from_secs(60),
            },
        );
        let flag = w.flag();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !flag.load(Ordering::Relaxed) && Instant::now() < deadline {
            std::thread::sleep(TICK);
        }
        assert!(w.finish().unwrap().contains("KANIKO_GIT_MAX_SIZE"));

        let w = Watchdog::start(
            dir.path(),
            Limits {
                max_bytes: 0,
                timeout: Duration::ZERO,
            },
        );
        std::thread::sleep(Duration::from_millis(300));
        assert!(w.flag().load(Ordering::Relaxed));
        assert!(w.finish().unwrap().contains("KANIKO_GIT_TIMEOUT"));

        let w = Watchdog::start(dir.path(), Limits::from_env(&Env::default()).unwrap());
        assert_eq!(w.finish(), None);
    }

    #[test]
    fn bad_values_name_the_variable() {
        let env = Env::from_pairs([("KANIKO_GIT_TIMEOUT".to_string(), "soon".to_string())]);
        let err = Limits::from_env(&env).unwrap_err().to_string();
        assert!(err.contains("KANIKO_GIT_TIMEOUT=\"soon\""), "{err}");
    }
}
