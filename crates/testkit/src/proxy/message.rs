//! One HTTP/1.1 message as the proxy handles it: start line, headers, whole body (by
//! Content-Length, chunked, or to the end of the connection for an answer).

use anyhow::{bail, Context, Result};
use std::io::BufRead;

pub(super) struct Message {
    pub start: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Message {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Replaces (or adds) a header.
    pub fn set_header(&mut self, name: &str, value: String) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value));
    }

    /// The start line and headers, with this body length and `Connection: close`.
    pub fn head_bytes(&self, body_len: usize) -> Vec<u8> {
        let mut out = format!("{}\r\n", self.start);
        for (k, v) in &self.headers {
            let skip = ["content-length", "transfer-encoding", "connection"];
            if !skip.iter().any(|s| k.eq_ignore_ascii_case(s)) {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
        }
        out.push_str(&format!(
            "Content-Length: {body_len}\r\nConnection: close\r\n\r\n"
        ));
        out.into_bytes()
    }
}

/// Reads one message; `None` on a connection closed before anything arrived.
pub(super) fn read_message(
    r: &mut impl BufRead,
    request: bool,
    head_only: bool,
) -> Result<Option<Message>> {
    let mut start = String::new();
    if r.read_line(&mut start)? == 0 {
        return Ok(None);
    }
    let start = start.trim_end().to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            bail!("connection closed in the headers");
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut msg = Message {
        start,
        headers,
        body: Vec::new(),
    };
    if head_only {
        return Ok(Some(msg));
    }
    if msg
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            r.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
                .context("bad chunk size")?;
            let mut chunk = vec![0u8; n + 2];
            r.read_exact(&mut chunk)?;
            if n == 0 {
                break;
            }
            msg.body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(len) = msg.header("content-length").and_then(|v| v.parse().ok()) {
        msg.body = vec![0u8; len];
        r.read_exact(&mut msg.body)?;
    } else if !request {
        r.read_to_end(&mut msg.body)?;
    }
    Ok(Some(msg))
}
