//! Local stand-ins for the clouds' token services, speaking their documented request and
//! answer shapes on one loopback port, so that the built-in credential helpers can be run
//! against them with a real registry behind:
//!
//! - Google's OAuth2 token endpoint (`POST /google/token`, the JWT-bearer grant): the
//!   assertion's RS256 signature is checked with `openssl` against the service account's
//!   public key, and its `iss`, `aud`, `scope` and `exp` claims are checked.
//! - Google's metadata server (`GET /computeMetadata/v1/instance/service-accounts/default/token`
//!   with `Metadata-Flavor: Google`).
//! - Entra ID's token endpoint (`POST /<tenant>/oauth2/v2.0/token`, client credentials with a
//!   client secret or a federated client assertion).
//! - ACR's `POST /oauth2/exchange` (an Entra ID access token for a registry refresh token),
//!   reached through [`crate::proxy::Fault::Forward`] on the registry's own origin.
//!
//! Amazon ECR's API is moto's (`servers::s3::S3Server` runs moto with IAM signatures
//! checked), not a stand-in here. Every request is recorded.

use anyhow::{Context, Result};
use base64::Engine;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What the services accept and hand out.
#[derive(Clone, Debug, Default)]
pub struct Accept {
    /// Google: the service account e-mail and the public key (PEM file) of its JWTs.
    pub google_account: Option<(String, PathBuf)>,
    /// Google: the access token issued (by the token endpoint and the metadata server).
    pub google_token: String,
    /// Entra ID: tenant, client id, and the client secret or federated token accepted.
    pub aad_tenant: String,
    pub aad_client: String,
    pub aad_secret: Option<String>,
    pub aad_federated: Option<String>,
    /// Entra ID: the access token issued.
    pub aad_token: String,
    /// ACR: the refresh token `/oauth2/exchange` gives for `aad_token`.
    pub acr_refresh: String,
}

/// One request as received.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub form: HashMap<String, String>,
}

struct Shared {
    accept: Accept,
    log: Mutex<Vec<Received>>,
    stop: AtomicBool,
}

/// The services, listening until dropped.
pub struct TokenServices {
    /// `127.0.0.1:port`.
    pub addr: String,
    shared: Arc<Shared>,
}

impl TokenServices {
    pub fn start(accept: Accept) -> Result<TokenServices> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?.to_string();
        let shared = Arc::new(Shared {
            accept,
            log: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        let own = addr.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let (s, own) = (s.clone(), own.clone());
                std::thread::spawn(move || {
                    if let Err(e) = serve(&s, &own, conn) {
                        eprintln!("testkit token services: {e:#}");
                    }
                });
            }
        });
        Ok(TokenServices { addr, shared })
    }

    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared
            .log
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default()
    }
}

impl Drop for TokenServices {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(&self.addr);
    }
}

/// A new RSA key for a service account: (PKCS#8 private key PEM, public key PEM file).
pub fn rsa_key(dir: &Path, name: &str) -> Result<(String, PathBuf)> {
    let private = dir.join(format!("{name}.key"));
    let public = dir.join(format!("{name}.pub"));
    let ok = |out: std::process::Output| -> Result<()> {
        anyhow::ensure!(
            out.status.success(),
            "openssl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    };
    ok(Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&private)
        .output()?)?;
    ok(Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&private)
        .arg("-out")
        .arg(&public)
        .output()?)?;
    Ok((std::fs::read_to_string(&private)?, public))
}

/// A service-account key file as Google issues it, its token endpoint at `token_uri`.
pub fn service_account_json(email: &str, private_pem: &str, token_uri: &str) -> String {
    serde_json::json!({
        "type": "service_account", "project_id": "testkit", "private_key_id": "k1",
        "private_key": private_pem, "client_email": email, "client_id": "1",
        "token_uri": token_uri,
    })
    .to_string()
}

fn serve(s: &Shared, own: &str, conn: TcpStream) -> Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut body = vec![0u8; length.min(1 << 16)];
    reader.read_exact(&mut body)?;
    let form = parse_form(&String::from_utf8_lossy(&body));
    let req = Received {
        method,
        path,
        headers,
        form,
    };
    if let Ok(mut l) = s.log.lock() {
        l.push(req.clone());
    }
    let (status, answer) = route(&s.accept, own, &req);
    let mut conn = conn;
    write!(
        conn,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    )?;
    Ok(())
}

fn route(a: &Accept, own: &str, r: &Received) -> (u16, String) {
    let f = |k: &str| r.form.get(k).map(String::as_str).unwrap_or("");
    let header = |k: &str| {
        r.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.as_str())
    };
    let token = |t: &str| {
        serde_json::json!({"access_token": t, "expires_in": 3599, "token_type": "Bearer"})
            .to_string()
    };
    let refuse = |code: u16, e: &str, d: &str| {
        (
            code,
            serde_json::json!({"error": e, "error_description": d}).to_string(),
        )
    };
    match (r.method.as_str(), r.path.as_str()) {
        ("POST", "/google/token") => {
            let aud = format!("http://{own}/google/token");
            match &a.google_account {
                Some((email, key))
                    if f("grant_type") == "urn:ietf:params:oauth:grant-type:jwt-bearer"
                        && assertion_ok(f("assertion"), email, &aud, key) =>
                {
                    (200, token(&a.google_token))
                }
                _ => refuse(400, "invalid_grant", "Invalid JWT Signature."),
            }
        }
        ("GET", "/computeMetadata/v1/instance/service-accounts/default/token") => {
            if header("Metadata-Flavor") == Some("Google") {
                (200, token(&a.google_token))
            } else {
                (403, "{}".into())
            }
        }
        ("POST", "/oauth2/exchange") => {
            if f("grant_type") == "access_token"
                && f("access_token") == a.aad_token
                && !f("service").is_empty()
            {
                (
                    200,
                    serde_json::json!({"refresh_token": a.acr_refresh}).to_string(),
                )
            } else {
                (401, r#"{"errors":[{"code":"UNAUTHORIZED","message":"the access token is not valid"}]}"#.into())
            }
        }
        ("POST", p) if p == format!("/{}/oauth2/v2.0/token", a.aad_tenant) => {
            let secret_ok = a
                .aad_secret
                .as_deref()
                .is_some_and(|s| f("client_secret") == s);
            let federated_ok = a.aad_federated.as_deref().is_some_and(|t| {
                f("client_assertion") == t
                    && f("client_assertion_type")
                        == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            });
            let shape_ok = f("grant_type") == "client_credentials"
                && f("client_id") == a.aad_client
                && f("scope").ends_with("/.default");
            if shape_ok && (secret_ok || federated_ok) {
                (200, token(&a.aad_token))
            } else {
                refuse(
                    401,
                    "invalid_client",
                    "AADSTS7000215: Invalid client secret provided.",
                )
            }
        }
        _ => (404, "{}".into()),
    }
}

/// Whether `jwt` is an RS256 assertion by `email` for `aud` with the cloud-platform scope,
/// unexpired, signed by the key whose public half is in `public_pem`.
fn assertion_ok(jwt: &str, email: &str, aud: &str, public_pem: &Path) -> bool {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [h, c, sig] = parts[..] else { return false };
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let decode = |p: &str| {
        b64.decode(p)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
    };
    let (Some(header), Some(claims), Ok(sig)) = (decode(h), decode(c), b64.decode(sig)) else {
        return false;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let claims_ok = header["alg"] == "RS256"
        && claims["iss"] == email
        && claims["aud"] == aud
        && claims["scope"]
            .as_str()
            .is_some_and(|s| s.contains("https://www.googleapis.com/auth/cloud-platform"))
        && claims["exp"]
            .as_u64()
            .is_some_and(|e| e > now && e <= now + 3700);
    claims_ok && verify(&format!("{h}.{c}"), &sig, public_pem).unwrap_or(false)
}

fn verify(data: &str, sig: &[u8], public_pem: &Path) -> Result<bool> {
    let dir = tempfile::tempdir()?;
    let sig_file = dir.path().join("sig");
    std::fs::write(&sig_file, sig)?;
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(public_pem)
        .arg("-signature")
        .arg(&sig_file)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    child
        .stdin
        .take()
        .context("stdin")?
        .write_all(data.as_bytes())?;
    Ok(child.wait()?.success())
}

fn parse_form(body: &str) -> HashMap<String, String> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'%' && i + 2 < b.len())
            .then(|| {
                std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .flatten();
        match (b[i], hex) {
            (_, Some(v)) => {
                out.push(v);
                i += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                i += 1;
            }
            (c, None) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
