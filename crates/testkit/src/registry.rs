//! Debian's `docker-registry` (the CNCF distribution registry) on a free loopback port:
//! plain, with htpasswd basic auth, with TLS (a self-signed certificate), or with bearer
//! tokens from a small token service in this module.

use anyhow::{bail, Context, Result};
use base64::Engine;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Clone, Debug)]
pub enum Auth {
    None,
    Basic { user: String, password: String },
    Token { user: String, password: String },
}

pub struct Registry {
    pub addr: String,
    pub ca_cert: Option<PathBuf>,
    pub auth: Auth,
    /// The client certificate and key a mutual-TLS registry requires.
    pub client_cert: Option<(PathBuf, PathBuf)>,
    child: Child,
    token: Option<TokenServer>,
    dir: tempfile::TempDir,
}

/// A free loopback port, never one this process handed out before: tests start servers
/// side by side, and a port freed here but not yet bound by its server could otherwise go
/// to a second server, whose start would then find the first one listening.
pub fn free_port() -> Result<u16> {
    static GIVEN: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    for _ in 0..1000 {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut given = GIVEN
            .lock()
            .map_err(|_| anyhow::anyhow!("free_port: lock poisoned"))?;
        if given.insert(port) {
            return Ok(port);
        }
    }
    bail!("no free loopback port not handed out before")
}

fn run(cmd: &mut Command) -> Result<Vec<u8>> {
    let out = cmd
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(out.stdout)
}

/// A self-signed server certificate for 127.0.0.1: (cert, key).
pub fn self_signed(dir: &Path, name: &str) -> Result<(PathBuf, PathBuf)> {
    certificate(dir, name, "serverAuth")
}

/// A self-signed certificate with extended key usage `eku`: (cert, key).
fn certificate(dir: &Path, name: &str, eku: &str) -> Result<(PathBuf, PathBuf)> {
    let usage = format!("extendedKeyUsage={eku}");
    let cert = dir.join(format!("{name}.crt"));
    let key = dir.join(format!("{name}.key"));
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            &usage,
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert))?;
    Ok((cert, key))
}

impl Registry {
    pub fn start(auth: Auth, tls: bool) -> Result<Registry> {
        Registry::launch(auth, tls, false)
    }

    /// A TLS registry that also requires a client certificate (see `client_cert`).
    pub fn start_mtls(auth: Auth) -> Result<Registry> {
        Registry::launch(auth, true, true)
    }

    fn launch(auth: Auth, tls: bool, mtls: bool) -> Result<Registry> {
        let dir = tempfile::tempdir()?;
        let port = free_port()?;
        let addr = format!("127.0.0.1:{port}");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {addr}\n  secret: testkit\n",
            dir.path().join("data").display()
        );
        let mut ca_cert = None;
        let mut token = None;
        if tls {
            let (cert, key) = self_signed(dir.path(), "tls")?;
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                cert.display(),
                key.display()
            ));
            ca_cert = Some(cert);
        }
        let mut client_cert = None;
        if mtls {
            let (cert, key) = certificate(dir.path(), "client", "clientAuth")?;
            config.push_str(&format!("    clientcas:\n      - {}\n", cert.display()));
            client_cert = Some((cert, key));
        }
        match &auth {
            Auth::None => {}
            Auth::Basic { user, password } => {
                let line = run(Command::new("htpasswd").args(["-Bbn", user, password]))?;
                let file = dir.path().join("htpasswd");
                std::fs::write(&file, line)?;
                config.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: testkit\n    path: {}\n",
                    file.display()
                ));
            }
            Auth::Token { user, password } => {
                let (cert, key) = self_signed(dir.path(), "token")?;
                let server = TokenServer::start(user, password, &cert, &key)?;
                let realm = server.realm.clone();
                token = Some(server);
                config.push_str(&format!(
                    "auth:\n  token:\n    realm: {realm}\n    service: testkit-registry\n    issuer: testkit\n    rootcertbundle: {}\n",
                    cert.display()
                ));
            }
        }
        let cfg = dir.path().join("config.yml");
        std::fs::write(&cfg, config)?;
        let log = std::fs::File::create(dir.path().join("registry.log"))?;
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&cfg)
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting docker-registry (Debian package docker-registry)")?;
        let reg = Registry {
            addr,
            ca_cert,
            auth,
            client_cert,
            child,
            token,
            dir,
        };
        reg.wait_ready()?;
        Ok(reg)
    }

    /// Waits until `/v2/` answers (for TLS, until the port accepts connections).
    fn wait_ready(&self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(mut s) = TcpStream::connect(&self.addr) {
                if self.ca_cert.is_some() {
                    return Ok(());
                }
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let mut answer = String::new();
                let asked = write!(s, "GET /v2/ HTTP/1.0\r\nHost: {}\r\n\r\n", self.addr);
                if asked.is_ok()
                    && BufReader::new(s).read_line(&mut answer).is_ok()
                    && answer.starts_with("HTTP/1.")
                {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let log = std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default();
        bail!("registry on {} did not start: {log}", self.addr)
    }

    /// How many requests the token service has answered (0 without one).
    pub fn token_requests(&self) -> usize {
        self.token
            .as_ref()
            .map_or(0, |t| t.issued.load(Ordering::SeqCst))
    }

    /// The token service's realm URL, for a token-auth registry.
    pub fn token_realm(&self) -> Option<&str> {
        self.token.as_ref().map(|t| t.realm.as_str())
    }

    /// The registry's storage directory (blobs under `docker/registry/v2/blobs`).
    pub fn storage(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A blob (`sha256:<hex>`) as the registry stores it.
    pub fn stored_blob(&self, digest: &str) -> std::io::Result<Vec<u8>> {
        let hex = digest.trim_start_matches("sha256:");
        let p = self
            .storage()
            .join("docker/registry/v2/blobs/sha256")
            .join(hex.get(..2).unwrap_or(hex))
            .join(hex)
            .join("data");
        std::fs::read(&p)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", p.display())))
    }

    pub fn url(&self) -> String {
        let scheme = if self.ca_cert.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// The (user, password) of an authenticated registry.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        match &self.auth {
            Auth::None => None,
            Auth::Basic { user, password } | Auth::Token { user, password } => {
                Some((user, password))
            }
        }
    }

    /// A Docker config.json granting access with (user, password).
    pub fn docker_config(&self, user: &str, password: &str) -> String {
        basic_auth_config(&self.addr, user, password)
    }
}

/// A Docker `config.json` holding Basic credentials for the registry at `addr`.
pub fn basic_auth_config(addr: &str, user: &str, password: &str) -> String {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    serde_json::json!({"auths": {addr: {"auth": auth}}}).to_string()
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A token service: GET /token with basic credentials answers an RS256 JWT for the scopes.
/// Dropping it stops its thread.
struct TokenServer {
    realm: String,
    addr: std::net::SocketAddr,
    stop: Arc<AtomicBool>,
    issued: Arc<AtomicUsize>,
}

impl TokenServer {
    fn start(user: &str, password: &str, cert: &Path, key: &Path) -> Result<TokenServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let realm = format!("http://{addr}/token");
        let pem = std::fs::read_to_string(cert)?;
        let der_b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        );
        let key = key.to_path_buf();
        let refresh = password.to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let issued = Arc::new(AtomicUsize::new(0));
        let count = issued.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                count.fetch_add(1, Ordering::SeqCst);
                let _ = serve_token(stream, &expected, &refresh, &der_b64, &key);
            }
        });
        Ok(TokenServer {
            realm,
            addr,
            stop,
            issued,
        })
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Answers one token request: GET with basic credentials and `scope` query parameters, or
/// an OAuth2 POST form with `grant_type=refresh_token` whose refresh token is the password.
fn serve_token(
    mut stream: TcpStream,
    expected: &str,
    refresh: &str,
    x5c: &str,
    key: &Path,
) -> Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut authorized = false;
    let mut content_length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("authorization") && v.trim() == expected {
                authorized = true;
            }
            if k.eq_ignore_ascii_case("content-length") {
                content_length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("");
    let mut params = target.split_once('?').map_or("", |(_, q)| q).to_string();
    if request_line.starts_with("POST ") {
        let mut body = vec![0u8; content_length.min(1 << 16)];
        std::io::Read::read_exact(&mut reader, &mut body)?;
        params = String::from_utf8_lossy(&body).into_owned();
    }
    let mut service = String::new();
    let mut access = Vec::new();
    let (mut grant, mut token) = (String::new(), String::new());
    for pair in params.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = urldecode(v);
        match k {
            "service" => service = v,
            "grant_type" => grant = v,
            "refresh_token" => token = v,
            "scope" => {
                for scope in v.split(' ') {
                    let parts: Vec<&str> = scope.split(':').collect();
                    if parts.len() == 3 {
                        let actions: Vec<&str> = parts[2].split(',').collect();
                        access.push(serde_json::json!({"type": parts[0], "name": parts[1], "actions": actions}));
                    }
                }
            }
            _ => {}
        }
    }
    if grant == "refresh_token" && token == refresh {
        authorized = true;
    }
    if !authorized {
        stream.write_all(
            b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )?;
        return Ok(());
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5c": [x5c]});
    let claims = serde_json::json!({
        "iss": "testkit", "sub": "user", "aud": service, "exp": now + 3600, "nbf": now - 60, "iat": now,
        "jti": format!("{now}-{}", std::process::id()), "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .context("stdin")?
        .write_all(signing_input.as_bytes())?;
    let sig = child.wait_with_output()?.stdout;
    let token = format!("{signing_input}.{}", b64(&sig));
    let body =
        serde_json::json!({"token": token, "access_token": token, "expires_in": 3600}).to_string();
    write!(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())?;
    Ok(())
}

fn urldecode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
