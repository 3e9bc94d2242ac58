//! What the warmer and `executor index` share around their work: logs as their flags say,
//! one multi-threaded runtime, and a failure as one error line and exit code 1.

use crate::cli::{Level, LogFormat};
use crate::logging;
use std::future::Future;
use std::process::ExitCode;
use tracing::error;

/// Runs `work` to its end with logging set up.
pub fn run(
    (format, level, timestamp): (LogFormat, Level, bool),
    work: impl Future<Output = anyhow::Result<()>>,
) -> ExitCode {
    logging::init(format.into(), level.into(), timestamp, Vec::new());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build();
    let result = match runtime {
        Ok(r) => r.block_on(work),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("{e:#}");
            ExitCode::from(1)
        }
    }
}
