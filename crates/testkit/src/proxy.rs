//! A fault-injecting HTTP/1.1 proxy in front of a real registry: requests pass through
//! unchanged unless a [`Rule`] matches, and then the answer is replaced by a status (with
//! `Retry-After`), a dropped connection, a truncated, corrupted, replaced or slow body.
//! Each exchange uses its own connections (`Connection: close`), so a rule applies to a
//! whole request. The registry builds its `Location` headers from the `Host` it is sent,
//! which is the proxy's, so uploads come back through it too.

use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What to do instead of relaying the registry's answer.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this status and an empty body (and `Retry-After: secs` when given).
    Status { code: u16, retry_after: Option<u64> },
    /// Close the connection without answering.
    Drop,
    /// Send the headers with the full length, then only this many body bytes, then close.
    Truncate(usize),
    /// Relay the answer with one body byte flipped.
    Corrupt,
    /// Relay the status and headers with this body instead (its own length).
    Replace(Vec<u8>),
    /// Send the headers, then wait this long before the body.
    Stall(Duration),
}

/// Which requests a fault applies to, and how many times.
#[derive(Clone, Debug)]
pub struct Rule {
    /// `GET`, `PUT` …; any when `None`.
    pub method: Option<String>,
    /// A substring of the request path (query included).
    pub path: String,
    /// How many matching requests to affect (then the rule is spent).
    pub times: usize,
    pub fault: Fault,
}

impl Rule {
    pub fn new(method: Option<&str>, path: &str, times: usize, fault: Fault) -> Rule {
        Rule {
            method: method.map(str::to_string),
            path: path.to_string(),
            times,
            fault,
        }
    }
}

struct Shared {
    upstream: String,
    rules: Mutex<Vec<Rule>>,
    log: Mutex<Vec<(String, String, Option<String>)>>,
    stop: AtomicBool,
}

/// The proxy, listening on a free loopback port until dropped.
pub struct FaultProxy {
    /// `127.0.0.1:port`: use it where the registry's address would go.
    pub addr: String,
    shared: Arc<Shared>,
}

impl FaultProxy {
    /// Starts a proxy to the plain-HTTP registry at `upstream` (`host:port`).
    pub fn start(upstream: &str) -> Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?.to_string();
        let shared = Arc::new(Shared {
            upstream: upstream.to_string(),
            rules: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let s = s.clone();
                std::thread::spawn(move || {
                    if let Err(e) = serve(&s, conn) {
                        eprintln!("testkit proxy: {e:?}");
                    }
                });
            }
        });
        Ok(FaultProxy { addr, shared })
    }

    /// Adds a rule; rules are tried in the order added.
    pub fn add(&self, rule: Rule) -> &Self {
        if let Ok(mut r) = self.shared.rules.lock() {
            r.push(rule);
        }
        self
    }

    /// Every request seen so far: method, path, and the Authorization header if any.
    pub fn requests(&self) -> Vec<(String, String, Option<String>)> {
        self.shared
            .log
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(&self.addr); // wakes the accept loop
    }
}

/// A parsed HTTP message: the start line, headers, body.
struct Message {
    start: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn head_bytes(&self, body_len: usize) -> Vec<u8> {
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

fn serve(s: &Shared, client: TcpStream) -> Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut reader = BufReader::new(client.try_clone()?);
    let Some(req) = read_message(&mut reader, true, false)? else {
        return Ok(());
    };
    let mut parts = req.start.split(' ');
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    if let Ok(mut l) = s.log.lock() {
        l.push((
            method.clone(),
            path.clone(),
            req.header("authorization").map(str::to_string),
        ));
    }
    let fault = take_fault(s, &method, &path);
    let mut client = client;
    if matches!(fault, Some(Fault::Drop)) {
        return Ok(());
    }
    if let Some(Fault::Status { code, retry_after }) = &fault {
        let mut head = format!("HTTP/1.1 {code} Injected\r\n");
        if let Some(secs) = retry_after {
            head.push_str(&format!("Retry-After: {secs}\r\n"));
        }
        head.push_str("Content-Length: 0\r\nConnection: close\r\n\r\n");
        client.write_all(head.as_bytes())?;
        return Ok(());
    }
    let mut upstream =
        TcpStream::connect(&s.upstream).with_context(|| format!("connecting to {}", s.upstream))?;
    upstream.write_all(&req.head_bytes(req.body.len()))?;
    upstream.write_all(&req.body)?;
    let mut up_reader = BufReader::new(upstream);
    let resp = read_message(&mut up_reader, false, method == "HEAD")?
        .context("upstream closed without answering")?;
    let code = resp.start.split(' ').nth(1).unwrap_or("");
    let no_body = method == "HEAD" || code == "204" || code == "304";
    let mut body = resp.body.clone();
    let declared = if no_body {
        resp.header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    } else {
        body.len()
    };
    match fault {
        Some(Fault::Corrupt) if !body.is_empty() => {
            let mid = body.len() / 2;
            body[mid] ^= 0xff;
        }
        Some(Fault::Replace(ref b)) => body = b.clone(),
        _ => {}
    }
    let declared = if body.len() != resp.body.len() {
        body.len()
    } else {
        declared
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
        _ => client.write_all(&body)?,
    }
    Ok(())
}

fn take_fault(s: &Shared, method: &str, path: &str) -> Option<Fault> {
    let mut rules = s.rules.lock().ok()?;
    let rule = rules.iter_mut().find(|r| {
        r.times > 0 && r.method.as_deref().is_none_or(|m| m == method) && path.contains(&r.path)
    })?;
    rule.times -= 1;
    Some(rule.fault.clone())
}

/// Reads one message; `None` on a connection closed before anything arrived.
fn read_message(r: &mut impl BufRead, request: bool, head_only: bool) -> Result<Option<Message>> {
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
