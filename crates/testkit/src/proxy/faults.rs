//! Applying a [`Fault`]: the answers given without the registry, and the changes made
//! to a relayed answer.

use super::message::Message;
use super::Fault;
use anyhow::Result;
use std::io::Write;
use std::net::TcpStream;

/// Whether a fault is answered without asking the registry.
pub(super) fn answers_alone(fault: &Fault) -> bool {
    matches!(
        fault,
        Fault::Drop
            | Fault::Reset
            | Fault::Status { .. }
            | Fault::Respond { .. }
            | Fault::Redirect(_)
    )
}

/// Answers a fault that needs no registry (see [`answers_alone`]).
pub(super) fn answer_alone(fault: &Fault, path: &str, client: &mut TcpStream) -> Result<()> {
    let head = |code: u16, extra: &str, len: usize| {
        format!(
            "HTTP/1.1 {code} Injected\r\n{extra}Content-Length: {len}\r\nConnection: close\r\n\r\n"
        )
    };
    match fault {
        Fault::Drop => {}
        Fault::Reset => reset(client),
        Fault::Status { code, retry_after } => {
            let extra = retry_after.map_or(String::new(), |s| format!("Retry-After: {s}\r\n"));
            client.write_all(head(*code, &extra, 0).as_bytes())?;
        }
        Fault::Respond { code, body } => {
            let extra = "Content-Type: application/json\r\n";
            client.write_all(head(*code, extra, body.len()).as_bytes())?;
            client.write_all(body)?;
        }
        Fault::Redirect(base) => {
            let extra = format!("Location: {base}{path}\r\n");
            client.write_all(head(307, &extra, 0).as_bytes())?;
        }
        _ => {}
    }
    Ok(())
}

/// Sends the registry's answer on, changed as the fault says.
pub(super) fn relay(
    mut resp: Message,
    method: &str,
    fault: Option<Fault>,
    client: &mut TcpStream,
) -> Result<()> {
    let code = resp.start.split(' ').nth(1).unwrap_or("");
    let no_body = method == "HEAD" || code == "204" || code == "304";
    let original_len = resp.body.len();
    let mut body = std::mem::take(&mut resp.body);
    match &fault {
        Some(Fault::Corrupt) if !body.is_empty() => {
            let mid = body.len() / 2;
            body[mid] ^= 0xff;
        }
        Some(Fault::Replace(b)) => body = b.clone(),
        Some(Fault::Relocate(base)) => {
            if let Some(loc) = resp.header("location").map(str::to_string) {
                resp.set_header("Location", format!("{base}{}", path_of(&loc)));
            }
        }
        _ => {}
    }
    let declared = if no_body && body.len() == original_len {
        resp.header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    } else {
        body.len()
    };
    client.write_all(&resp.head_bytes(declared))?;
    if no_body {
        return Ok(());
    }
    match fault {
        Some(Fault::Truncate(n)) => {
            client.write_all(&body[..n.min(body.len())])?;
            client.flush()?;
            let _ = client.shutdown(std::net::Shutdown::Both);
        }
        Some(Fault::Stall(d)) => {
            client.flush()?;
            std::thread::sleep(d);
            let _ = client.write_all(&body);
        }
        Some(Fault::Trickle { chunk, pause }) => {
            for piece in body.chunks(chunk.max(1)) {
                client.write_all(piece)?;
                client.flush()?;
                std::thread::sleep(pause);
            }
        }
        _ => client.write_all(&body)?,
    }
    Ok(())
}

/// The path and query of a URL (or the value itself when it is already a path).
fn path_of(loc: &str) -> &str {
    match loc.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => loc,
    }
}

/// Closes with a TCP reset: linger on, zero seconds.
fn reset(client: &TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket descriptor and a correctly sized linger value.
    unsafe {
        libc::setsockopt(
            client.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::path_of;

    #[test]
    fn location_paths() {
        assert_eq!(
            path_of("http://a:1/v2/x/uploads/u?s=1"),
            "/v2/x/uploads/u?s=1"
        );
        assert_eq!(path_of("/v2/x"), "/v2/x");
        assert_eq!(path_of("http://a:1"), "/");
    }
}
