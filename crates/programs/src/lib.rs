//! Starting programs. A program file written just before it is run (extracted from a layer,
//! copied by a step, written by a test) can still be open for writing in a child that
//! another thread forked and has not exec'd yet: exec then fails with ETXTBSY ("text file
//! busy") until that child execs. [`spawn`] waits that moment out.

use std::io;
use std::process::{Child, Command};
use std::time::Duration;

/// Attempts after the first while the program is busy.
const RETRIES: u32 = 20;
/// The wait between attempts.
const PAUSE: Duration = Duration::from_millis(25);

/// Starts `cmd`, again after a moment (up to half a second in all) while its program is
/// "text file busy"; any other failure is returned at once.
pub fn spawn(cmd: &mut Command) -> io::Result<Child> {
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.kind() == io::ErrorKind::ExecutableFileBusy && tries < RETRIES => {
                tries += 1;
                std::thread::sleep(PAUSE);
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_program_still_open_for_writing_starts_once_closed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prog");
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(b"#!/bin/sh\nexit 7\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        // Busy while the writer holds it open: a plain spawn fails.
        let busy = Command::new(&path).spawn().unwrap_err();
        assert_eq!(busy.kind(), io::ErrorKind::ExecutableFileBusy);
        let closer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(f);
        });
        let status = spawn(&mut Command::new(&path)).unwrap().wait().unwrap();
        closer.join().unwrap();
        assert_eq!(status.code(), Some(7));
    }

    #[test]
    fn other_failures_return_at_once() {
        let err = spawn(&mut Command::new("/nonexistent/program")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}
