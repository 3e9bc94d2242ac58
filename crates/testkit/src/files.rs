//! A small HTTP/1.1 file server on a free loopback port: fixed paths and their bodies, and
//! how many GET requests each path got (to see that a download cache was used). For
//! `ADD <url>` and for a package-manager-like download in a RUN (busybox `wget`).

use anyhow::Result;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Every file's `Last-Modified` (Unix time 981173106).
pub const LAST_MODIFIED: &str = "Sat, 03 Feb 2001 04:05:06 GMT";

struct Shared {
    files: HashMap<String, Vec<u8>>,
    hits: Mutex<HashMap<String, usize>>,
    stop: AtomicBool,
}

/// The server, listening until dropped.
pub struct FileServer {
    /// `127.0.0.1:port`.
    pub addr: String,
    shared: Arc<Shared>,
}

impl FileServer {
    /// Serves `files` (path such as `/pkg.tar`, body); any other path is a 404.
    pub fn start(files: &[(&str, &[u8])]) -> Result<FileServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?.to_string();
        let shared = Arc::new(Shared {
            files: files
                .iter()
                .map(|(p, b)| (p.to_string(), b.to_vec()))
                .collect(),
            hits: Mutex::new(HashMap::new()),
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
                    let _ = serve(&s, conn);
                });
            }
        });
        Ok(FileServer { addr, shared })
    }

    /// `http://127.0.0.1:port/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// How many GET requests `path` got.
    pub fn hits(&self, path: &str) -> usize {
        self.shared
            .hits
            .lock()
            .map(|h| h.get(path).copied().unwrap_or(0))
            .unwrap_or(0)
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(&self.addr); // wakes the accept loop
    }
}

fn serve(s: &Shared, conn: TcpStream) -> Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut start = String::new();
    reader.read_line(&mut start)?;
    // The headers, up to the blank line (bounded).
    for _ in 0..100 {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut parts = start.split_whitespace();
    let method = parts.next().unwrap_or("");
    let path = parts.next().unwrap_or("").to_string();
    let mut conn = conn;
    let Some(body) = s.files.get(&path) else {
        conn.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )?;
        return Ok(());
    };
    if method == "GET" {
        if let Ok(mut h) = s.hits.lock() {
            *h.entry(path).or_default() += 1;
        }
    }
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nLast-Modified: {LAST_MODIFIED}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes())?;
    if method != "HEAD" {
        conn.write_all(body)?;
    }
    Ok(())
}
