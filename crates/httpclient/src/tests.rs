use super::*;
use std::path::Path;

// Where rustls-native-certs looks is decided by SSL_CERT_FILE/SSL_CERT_DIR: these tests
// set the process environment, so they run in one test, one after another.
#[test]
fn system_roots_follow_the_ssl_variables() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle.pem");
    std::fs::copy("/etc/ssl/certs/ca-certificates.crt", &bundle).unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let under = |f: &Path, then: &dyn Fn() -> Result<usize, Error>| {
        std::env::set_var("SSL_CERT_FILE", f);
        std::env::set_var("SSL_CERT_DIR", dir.path().join("none"));
        let r = then();
        std::env::remove_var("SSL_CERT_FILE");
        std::env::remove_var("SSL_CERT_DIR");
        r
    };
    let count = || system_roots().map(|r| r.len());
    let client = || {
        let b = builder(&resolve::Resolver::default())?;
        Ok(usize::from(b.build().is_ok()))
    };
    // Debian's bundle: well over a hundred roots.
    assert!(under(&bundle, &count).unwrap() > 100);
    // No certificate at all is no error (a plain-HTTP registry still works)...
    assert_eq!(under(&empty, &count).unwrap(), 0);
    assert_eq!(under(&empty, &client).unwrap(), 1);
    // ...but nothing but unparsable ones is.
    let err = under(&garbage, &count).unwrap_err().to_string();
    assert!(err.starts_with("system root certificates"), "{err}");
}
