//! The one way the process makes an HTTP client (registries, token services, `ADD <url>`,
//! HTTPS contexts, the trace exporter): reqwest 0.13 on rustls (aws-lc-rs, the one crypto
//! provider in the binary), names resolved by [`resolve::Resolver`], and the system's root
//! certificates read when the client is built (`rustls-native-certs`: `SSL_CERT_FILE`,
//! `SSL_CERT_DIR`, else the distribution's bundle), to which callers add their own CAs.
//!
//! reqwest 0.13's own default verifier (`rustls-platform-verifier`) refuses to build a
//! client when the system has no certificate at all, which would break plain-HTTP
//! registries in an image without a bundle; the roots here are handed over as the only
//! roots (`tls_certs_only`), as reqwest 0.12's `rustls-tls-native-roots` did: unparsable
//! system certificates are skipped, and only a store with nothing but unparsable ones fails.

use std::sync::Arc;

pub use reqwest;

/// The system's certificates could not be read: there are some and none parses.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("system root certificates: {0}")]
    SystemRoots(String),
}

/// A client builder with the resolver and the system's roots; callers add timeouts,
/// redirects, their CAs ([`ClientBuilder::tls_certs_merge`]) and identities.
///
/// [`ClientBuilder::tls_certs_merge`]: reqwest::ClientBuilder::tls_certs_merge
pub fn builder(resolver: &resolve::Resolver) -> Result<reqwest::ClientBuilder, Error> {
    Ok(reqwest::Client::builder()
        .dns_resolver(Arc::new(resolver.clone()))
        .tls_certs_only(system_roots()?))
}

/// The system's root certificates that parse as trust anchors.
fn system_roots() -> Result<Vec<reqwest::Certificate>, Error> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = Vec::with_capacity(found.certs.len());
    let mut invalid = 0;
    for der in found.certs {
        if rustls::RootCertStore::empty().add(der.clone()).is_err() {
            invalid += 1;
            continue;
        }
        match reqwest::Certificate::from_der(&der) {
            Ok(c) => roots.push(c),
            Err(_) => invalid += 1,
        }
    }
    if invalid > 0 {
        tracing::debug!("{invalid} system root certificates skipped: not parsable");
    }
    if roots.is_empty() && invalid > 0 {
        let why: Vec<String> = found.errors.iter().map(|e| e.to_string()).collect();
        return Err(Error::SystemRoots(if why.is_empty() {
            "no valid certificate found".into()
        } else {
            why.join("; ")
        }));
    }
    Ok(roots)
}

#[cfg(test)]
mod tests;
