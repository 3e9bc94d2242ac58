//! A fault-injecting HTTP/1.1 proxy in front of a real registry: requests pass through
//! unchanged unless a [`Rule`] matches, and then the answer is replaced by a status (with
//! `Retry-After`), an error body, a dropped or reset connection, a truncated, corrupted,
//! replaced, stalled or trickling body, a redirect elsewhere, or a rewritten `Location`.
//! It can also demand Basic credentials of its own ([`FaultProxy::require_basic`]) and
//! records every request with its Authorization header and arrival time.
//! Each exchange uses its own connections (`Connection: close`), so a rule applies to a
//! whole request. The registry builds its `Location` headers from the `Host` it is sent,
//! which is the proxy's, so uploads come back through it too.

mod faults;
mod message;

use anyhow::{Context, Result};
use base64::Engine;
use message::read_message;
use std::collections::HashSet;
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What to do instead of relaying the registry's answer.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this status and an empty body (and `Retry-After: secs` when given).
    Status { code: u16, retry_after: Option<u64> },
    /// Answer with this status and this JSON body (a registry's error answer).
    Respond { code: u16, body: Vec<u8> },
    /// Close the connection without answering.
    Drop,
    /// Reset the connection (RST) without answering.
    Reset,
    /// Send the headers with the full length, then only this many body bytes, then close.
    Truncate(usize),
    /// Relay the answer with one body byte flipped.
    Corrupt,
    /// Relay the status and headers with this body instead (its own length).
    Replace(Vec<u8>),
    /// Send the headers, then wait this long before the body.
    Stall(Duration),
    /// Wait this long, then relay the answer as it is.
    Delay(Duration),
    /// Send the body `chunk` bytes at a time with a pause after each.
    Trickle { chunk: usize, pause: Duration },
    /// Answer `307` to this base URL (`http://host:port`) plus the request's path.
    Redirect(String),
    /// Relay the answer with its `Location` moved to this base URL (same path and query).
    Relocate(String),
    /// Send the request to this server (`host:port`) instead, and relay its answer: a
    /// service living beside the registry on its origin (ACR's `/oauth2/exchange`).
    Forward(String),
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

/// One request as the proxy saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// Path and query.
    pub path: String,
    pub authorization: Option<String>,
    pub headers: Vec<(String, String)>,
    pub at: Instant,
    /// When its answer started going out (`None` while in flight, or never answered).
    pub answered: Option<Instant>,
}

impl Seen {
    /// A request header's value (the first, names compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An injected status, and the (method, path) pairs already seen.
type FailNew = (Option<u16>, HashSet<(String, String)>);

struct Shared {
    upstream: String,
    rules: Mutex<Vec<Rule>>,
    log: Mutex<Vec<Seen>>,
    /// The Authorization value every request must carry, when set.
    required: Mutex<Option<String>>,
    /// With a status set, the first request for each (method, path) gets it.
    fail_new: Mutex<FailNew>,
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
            required: Mutex::new(None),
            fail_new: Mutex::new((None, HashSet::new())),
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
                        eprintln!("testkit proxy: {e:#}");
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

    /// From now on, answers every request without these Basic credentials with a 401
    /// `Basic` challenge (in front of a registry that asks for none).
    pub fn require_basic(&self, user: &str, password: &str) -> &Self {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        if let Ok(mut r) = self.shared.required.lock() {
            *r = Some(format!("Basic {token}"));
        }
        self
    }

    /// From now on, the first request for each method and path (query included) is
    /// answered with `status`; the same request sent again passes. Upload sessions have
    /// paths of their own, so every step of a push fails once.
    pub fn fail_each_new_request_once(&self, status: u16) -> &Self {
        if let Ok(mut f) = self.shared.fail_new.lock() {
            f.0 = Some(status);
        }
        self
    }

    /// The most `method` requests with `path_part` in their path that were in flight at
    /// once (from fully received to answered).
    pub fn max_in_flight(&self, method: &str, path_part: &str) -> usize {
        let spans: Vec<(Instant, Instant)> = self
            .seen()
            .into_iter()
            .filter(|s| s.method == method && s.path.contains(path_part))
            .filter_map(|s| s.answered.map(|end| (s.at, end)))
            .collect();
        spans
            .iter()
            .map(|(start, _)| {
                spans
                    .iter()
                    .filter(|(a, b)| a <= start && start < b)
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    /// Every request seen so far: method, path, and the Authorization header if any.
    pub fn requests(&self) -> Vec<(String, String, Option<String>)> {
        self.seen()
            .into_iter()
            .map(|s| (s.method, s.path, s.authorization))
            .collect()
    }

    /// Every request seen so far, with its arrival time.
    pub fn seen(&self) -> Vec<Seen> {
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

fn serve(s: &Shared, mut client: TcpStream) -> Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut reader = BufReader::new(client.try_clone()?);
    // Not HTTP (a TLS handshake probing for https): close without a word.
    let Ok(Some(req)) = read_message(&mut reader, true, false) else {
        return Ok(());
    };
    let mut parts = req.start.split(' ');
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let authorization = req.header("authorization").map(str::to_string);
    let entry = s.log.lock().map_or(usize::MAX, |mut l| {
        l.push(Seen {
            method: method.clone(),
            path: path.clone(),
            authorization: authorization.clone(),
            headers: req.headers.clone(),
            at: Instant::now(),
            answered: None,
        });
        l.len() - 1
    });
    let required = s.required.lock().ok().and_then(|r| r.clone());
    if required.is_some() && authorization != required {
        let head = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"proxy\"\r\n\
                    Content-Length: 0\r\nConnection: close\r\n\r\n";
        client.write_all(head.as_bytes())?;
        return Ok(());
    }
    // In flight from the whole request received to just before the answer is written,
    // which is within the time the client waits for it.
    let counted = InFlight { s, entry };
    let fault = take_fault(s, &method, &path).or_else(|| first_time(s, &method, &path));
    if let Some(Fault::Delay(d)) = &fault {
        std::thread::sleep(*d);
    }
    if let Some(f) = &fault {
        if faults::answers_alone(f) {
            drop(counted);
            faults::answer_alone(f, &path, &mut client)?;
            return Ok(());
        }
    }
    let target = match &fault {
        Some(Fault::Forward(addr)) => addr.as_str(),
        _ => s.upstream.as_str(),
    };
    let mut upstream =
        TcpStream::connect(target).with_context(|| format!("connecting to {target}"))?;
    upstream.write_all(&req.head_bytes(req.body.len()))?;
    upstream.write_all(&req.body)?;
    let mut up_reader = BufReader::new(upstream);
    let resp = read_message(&mut up_reader, false, method == "HEAD")?
        .context("upstream closed without answering")?;
    drop(counted);
    faults::relay(resp, &method, fault, &mut client)
}

/// The injected status for a request never seen before, when that mode is on.
fn first_time(s: &Shared, method: &str, path: &str) -> Option<Fault> {
    let mut f = s.fail_new.lock().ok()?;
    let code = f.0?;
    f.1.insert((method.to_string(), path.to_string()))
        .then_some(Fault::Status {
            code,
            retry_after: None,
        })
}

/// Marks a request answered when dropped.
struct InFlight<'a> {
    s: &'a Shared,
    entry: usize,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Ok(mut l) = self.s.log.lock() {
            if let Some(seen) = l.get_mut(self.entry) {
                seen.answered = Some(Instant::now());
            }
        }
    }
}

fn take_fault(s: &Shared, method: &str, path: &str) -> Option<Fault> {
    let mut rules = s.rules.lock().ok()?;
    let rule = rules.iter_mut().find(|r| {
        r.times > 0 && r.method.as_deref().is_none_or(|m| m == method) && path.contains(&r.path)
    })?;
    rule.times -= 1;
    Some(rule.fault.clone())
}
