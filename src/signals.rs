//! Process life as pid 1 of a container: SIGTERM or SIGINT stops the RUN in progress (its
//! whole process group: SIGTERM, then SIGKILL after a grace period) and ends the run with
//! nothing pushed; the work directory is removed as the run unwinds. The executor is also
//! made a child subreaper, so processes a RUN orphans come back to it to be reaped.

use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;
use tokio::signal::unix::{signal, SignalKind};

/// How long a RUN has to exit after SIGTERM before its group is killed.
const GRACE: Duration = Duration::from_secs(3);

static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// The signal that stopped the run, if any.
pub fn received() -> Option<i32> {
    Some(RECEIVED.load(Ordering::SeqCst)).filter(|s| *s != 0)
}

/// Makes this process the reaper of its descendants' orphans.
pub fn become_subreaper() {
    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        tracing::debug!("cannot become a child subreaper: {e}");
    }
}

/// Resolves when SIGTERM or SIGINT arrives, after stopping the RUN in progress.
pub async fn stopped() {
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    let (num, name) = tokio::select! {
        _ = term.recv() => (libc::SIGTERM, "SIGTERM"),
        _ = int.recv() => (libc::SIGINT, "SIGINT"),
    };
    RECEIVED.store(num, Ordering::SeqCst);
    tracing::error!("received {name}: stopping the build, nothing will be pushed");
    engine::steps::run::kill_running(nix::sys::signal::Signal::SIGTERM);
    tokio::spawn(async {
        tokio::time::sleep(GRACE).await;
        engine::steps::run::kill_running(nix::sys::signal::Signal::SIGKILL);
    });
}
