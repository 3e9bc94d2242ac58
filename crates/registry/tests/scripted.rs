//! Behaviour the real registry never shows, against a scripted HTTP server: a failed upload
//! PUT is sent again to the same session, a session the registry lost is started again from
//! the POST, relative Locations with a query string, and a manifest digest the registry
//! disagrees with.

use image::{media, Descriptor, Digest};
use registry::{Client, Keychain, Options, Reference, Tuning, Uploaded};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// One request as the server saw it: method, target, body length.
type Seen = Arc<Mutex<Vec<(String, String, usize)>>>;

/// Serves requests with `answer(method, target, nth PUT)` -> (status, extra headers).
fn serve(
    answer: impl Fn(&str, &str, usize) -> (u16, Vec<(String, String)>) + Send + 'static,
) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let seen: Seen = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        let mut puts = 0;
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                continue;
            }
            let mut len = 0;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(':') {
                    if k.eq_ignore_ascii_case("content-length") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            let mut parts = line.split_whitespace();
            let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            log.lock()
                .unwrap()
                .push((method.into(), target.into(), len));
            if method == "PUT" {
                puts += 1;
            }
            let (status, headers) = answer(method, target, puts);
            let mut out =
                format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n");
            for (k, v) in headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str("\r\n");
            let _ = (&stream).write_all(out.as_bytes());
        }
    });
    (addr, seen)
}

/// A client for the scripted server, with short waits between retries.
fn client(retries: u32) -> Client {
    let opts = Options {
        insecure_push: true,
        push_retries: retries,
        ..Options::default()
    };
    let tuning = Tuning {
        retry_initial: std::time::Duration::from_millis(20),
        ..Tuning::default()
    };
    Client::with_tuning(opts, Keychain::default(), tuning).unwrap()
}

/// A 3 MiB blob file and its descriptor.
fn blob(dir: &std::path::Path) -> (std::path::PathBuf, Descriptor, usize) {
    let path = dir.join("blob");
    let bytes = vec![5u8; 3 << 20];
    std::fs::write(&path, &bytes).unwrap();
    let desc = Descriptor {
        media_type: media::OCI_LAYER_GZIP.into(),
        digest: Digest::sha256(&bytes),
        size: bytes.len() as u64,
        urls: None,
        annotations: None,
        platform: None,
    };
    (path, desc, bytes.len())
}

/// A registry whose upload PUTs answer `put(nth PUT)`.
fn upload_server(put: fn(usize) -> u16) -> (String, Seen) {
    serve(move |method, target, puts| match (method, target) {
        ("GET", "/v2/") => (200, vec![]),
        ("HEAD", _) => (404, vec![]),
        ("POST", _) => (
            202,
            vec![(
                "Location".into(),
                "/v2/app/blobs/uploads/u1?_state=abc".into(),
            )],
        ),
        ("PUT", _) => (put(puts), vec![]),
        _ => (400, vec![]),
    })
}

fn calls(seen: &Seen) -> Vec<String> {
    seen.lock()
        .unwrap()
        .iter()
        .filter(|(m, _, _)| m != "GET")
        .map(|(m, _, _)| m.clone())
        .collect()
}

#[tokio::test]
async fn failed_upload_put_is_sent_again_to_the_same_session() {
    let (addr, seen) = upload_server(|puts| if puts % 2 == 1 { 503 } else { 201 });
    let dir = tempfile::tempdir().unwrap();
    let (path, desc, len) = blob(dir.path());
    let r: Reference = format!("{addr}/app:1").parse().unwrap();
    let got = client(2).upload_blob(&r, &desc, &path, None).await.unwrap();
    assert_eq!(got, Uploaded::Uploaded);
    assert_eq!(calls(&seen), ["HEAD", "POST", "PUT", "PUT"]);
    for (_, target, n) in seen.lock().unwrap().iter().filter(|(m, _, _)| m == "PUT") {
        assert_eq!(
            target,
            &format!("/v2/app/blobs/uploads/u1?_state=abc&digest={}", desc.digest)
        );
        assert_eq!(*n, len, "each PUT carries the whole blob");
    }

    // Without retries the 503 is the answer, naming the URL without its query.
    let err = client(0)
        .upload_blob(&r, &desc, &path, None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("/v2/app/blobs/uploads/u1") && !msg.contains("_state"),
        "{msg}"
    );
}

#[tokio::test]
async fn lost_upload_session_starts_again_from_the_post() {
    let (addr, seen) = upload_server(|puts| if puts == 1 { 404 } else { 201 });
    let dir = tempfile::tempdir().unwrap();
    let (path, desc, _) = blob(dir.path());
    let r: Reference = format!("{addr}/app:1").parse().unwrap();
    let got = client(1).upload_blob(&r, &desc, &path, None).await.unwrap();
    assert_eq!(got, Uploaded::Uploaded);
    assert_eq!(calls(&seen), ["HEAD", "POST", "PUT", "POST", "PUT"]);
}

#[tokio::test]
async fn manifest_digest_must_match_the_registry() {
    let (addr, _) = serve(|method, _, _| match method {
        "GET" => (200, vec![]),
        _ => (
            201,
            vec![(
                "Docker-Content-Digest".into(),
                Digest::sha256(b"something else").to_string(),
            )],
        ),
    });
    let r: Reference = format!("{addr}/app:1").parse().unwrap();
    let err = client(0)
        .put_manifest(&r, b"{}", media::OCI_MANIFEST)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains(&Digest::sha256(b"{}").to_string()), "{err}");
    assert!(
        err.contains(&Digest::sha256(b"something else").to_string()),
        "{err}"
    );
}
