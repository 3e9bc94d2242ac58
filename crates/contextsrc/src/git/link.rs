//! Where a git fetch goes and how: the URL, credentials, TLS, timeout, resolver and the
//! flag that stops it. Clones, submodules and error messages all read it.

use super::Auth;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Where to fetch from and how.
pub(crate) struct Link {
    /// `https://host/org/repo.git`, without user or password.
    pub url: String,
    pub auth: Option<Auth>,
    pub insecure: bool,
    /// The context as the user wrote it, without credentials, for messages.
    pub location: String,
    /// Raised to stop the fetch (by the watchdog).
    pub interrupt: Arc<AtomicBool>,
    /// The longest any one request may take, its body included.
    pub timeout: std::time::Duration,
    /// How the transport resolves names.
    pub resolver: resolve::Resolver,
}
