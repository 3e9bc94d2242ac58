//! The one way a request reaches a registry: the endpoint (https or plain http), the
//! cached Authorization header sent only to the registry's own origin (same scheme, host
//! and port), one answer to an auth challenge, redirects followed here (credentials
//! dropped when they leave the origin), timeouts, and the retry loop of the whole client.

use crate::auth::{answer, parse_challenge};
use crate::body::{Answer, Clock, Kind};
use crate::builtin::{Ctx, Web};
use crate::credential::Credential;
use crate::retry::{retry_after, transient_status, Policy};
use crate::transport::{Endpoint, Side, Transports};
use crate::url::{absolute, same_origin, strip_query};
use crate::{Error, Keychain, Tuning};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;
use tracing::warn;

/// Adds headers and a body to a request; called again for each retry and redirect.
pub(crate) type Builder<'b> =
    dyn Fn(reqwest::RequestBuilder) -> Result<reqwest::RequestBuilder, Error> + Send + Sync + 'b;

/// Redirects followed for one request.
const MAX_REDIRECTS: usize = 10;

/// Where a request goes.
#[derive(Clone, Copy)]
pub(crate) enum Target<'a> {
    /// A path on the registry (`/v2/...`).
    Path(&'a str),
    /// An absolute URL the registry named (an upload `Location`).
    Url(&'a str),
}

/// One request to a registry, as it is sent again on retries.
pub(crate) struct Req<'a> {
    /// The registry whose credentials apply.
    pub registry: &'a str,
    pub side: Side,
    pub scopes: &'a [String],
    pub method: &'static str,
    pub target: Target<'a>,
    pub kind: Kind,
    pub build: &'a Builder<'a>,
}

/// What every request shares: transports, credentials, tokens, limits, transfer slots.
pub(crate) struct Core {
    pub transports: Transports,
    keychain: Keychain,
    /// Credentials by registry, asked of the keychain once.
    creds: Mutex<HashMap<String, Option<Credential>>>,
    /// Authorization header values by (registry, scopes).
    tokens: Mutex<HashMap<(String, String), String>>,
    pub tuning: Tuning,
    pub uploads: Arc<Semaphore>,
    pub downloads: Arc<Semaphore>,
}

impl Core {
    pub fn new(transports: Transports, keychain: Keychain, tuning: Tuning) -> Core {
        let slots = tuning.max_transfers.max(1);
        Core {
            transports,
            keychain,
            creds: Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
            tuning,
            uploads: Arc::new(Semaphore::new(slots)),
            downloads: Arc::new(Semaphore::new(slots)),
        }
    }

    /// The retry policy of one side (`--image-download-retry`, `--push-retry`).
    pub fn policy(&self, side: Side) -> Policy {
        let opts = self.transports.options();
        Policy {
            retries: match side {
                Side::Pull => opts.pull_retries,
                Side::Push => opts.push_retries,
            },
            initial: self.tuning.retry_initial,
            max: self.tuning.retry_max,
        }
    }

    /// Sends `req` and hands the answer to `handle`, retrying transient failures (of the
    /// exchange or of `handle` reading the body) as the side's policy allows.
    pub async fn call<T, F, Fut>(&self, req: &Req<'_>, handle: F) -> Result<T, Error>
    where
        F: Fn(Answer) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        // Method and registry host only: paths and upload URLs stay out of traces.
        let span = tracing::info_span!(
            "Registry request",
            http.request.method = req.method,
            server.address = req.registry,
            http.response.status_code = tracing::field::Empty,
            kaniko.registry.retries = tracing::field::Empty,
        );
        let (mut retries, mut status) = (0, None);
        let result = self.attempts(req, handle, &mut retries, &mut status).await;
        span.record("kaniko.registry.retries", retries);
        if let Some(s) = status {
            span.record("http.response.status_code", s);
        }
        result
    }

    /// [`Core::call`]'s loop; counts the retries and keeps the last status handled.
    async fn attempts<T, F, Fut>(
        &self,
        req: &Req<'_>,
        handle: F,
        attempt: &mut u32,
        status: &mut Option<u16>,
    ) -> Result<T, Error>
    where
        F: Fn(Answer) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let policy = self.policy(req.side);
        loop {
            let (why, asked) = match self.send(req).await {
                Ok(a) if *attempt < policy.retries && transient_status(a.status()) => {
                    let asked = retry_after(&a.resp);
                    let why = a.expect(&[]).await.err().map(|e| e.to_string());
                    (why.unwrap_or_default(), asked)
                }
                Ok(a) => {
                    *status = Some(a.status());
                    match handle(a).await {
                        Err(e) if *attempt < policy.retries && e.is_transient() => {
                            (e.to_string(), None)
                        }
                        other => return other,
                    }
                }
                Err(e) if *attempt < policy.retries && e.is_transient() => (e.to_string(), None),
                Err(e) => return Err(e),
            };
            let wait = policy.delay(*attempt, asked);
            *attempt += 1;
            warn!(
                "{why}; retrying in {:.1}s ({attempt} of {})",
                wait.as_secs_f64(),
                policy.retries
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// One attempt: the request, one answer to a challenge, redirects.
    pub async fn send(&self, req: &Req<'_>) -> Result<Answer, Error> {
        let Endpoint { http, base } = self.transports.endpoint(req.registry, req.side).await?;
        let mut url = match req.target {
            Target::Path(p) => format!("{base}{p}"),
            Target::Url(u) => u.to_string(),
        };
        let mut challenged = false;
        let mut hops = 0;
        loop {
            let own = same_origin(&url, &base);
            let auth = own
                .then(|| self.cached_auth(req.registry, req.scopes))
                .flatten();
            let a = self.send_raw(&http, req, &url, auth).await?;
            let status = a.status();
            if status == 401 && own && !challenged {
                challenged = true;
                if self.authorize(&http, &base, req, &a).await? {
                    continue;
                }
                return Ok(a);
            }
            let follow = matches!(status, 307 | 308)
                || (matches!(status, 301..=303) && matches!(req.method, "GET" | "HEAD"));
            match a.header("location").filter(|_| follow) {
                Some(loc) if hops < MAX_REDIRECTS => {
                    hops += 1;
                    url = absolute(a.resp.url(), loc);
                }
                Some(_) => {
                    return Err(Error::Protocol(format!(
                        "{} {}: more than {MAX_REDIRECTS} redirects",
                        req.method,
                        strip_query(&url)
                    )))
                }
                None => return Ok(a),
            }
        }
    }

    async fn send_raw(
        &self,
        http: &reqwest::Client,
        req: &Req<'_>,
        url: &str,
        auth: Option<String>,
    ) -> Result<Answer, Error> {
        let clock = Clock::start(&self.tuning, req.kind);
        let method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|_| Error::Protocol(format!("bad method {}", req.method)))?;
        let mut rb = (req.build)(http.request(method, url).timeout(clock.total))?;
        if let Some(a) = auth {
            rb = rb.header("Authorization", a);
        }
        let resp = rb
            .send()
            .await
            .map_err(|e| clock.error(req.method, url, e))?;
        Ok(Answer {
            resp,
            method: req.method,
            clock,
            max_error: self.tuning.max_error_bytes,
        })
    }

    /// Answers the challenge of a 401; false when there is none we can answer.
    async fn authorize(
        &self,
        http: &reqwest::Client,
        base: &str,
        req: &Req<'_>,
        a: &Answer,
    ) -> Result<bool, Error> {
        let Some(challenge) = a.header("www-authenticate").map(parse_challenge) else {
            return Ok(false);
        };
        let endpoint = Endpoint {
            http: http.clone(),
            base: base.to_string(),
        };
        let cred = self.credential(req.registry, &endpoint).await?;
        let Some(header) =
            answer(http, &challenge, cred.as_ref(), req.scopes, &self.tuning).await?
        else {
            return Ok(false);
        };
        if let Ok(mut t) = self.tokens.lock() {
            t.insert((req.registry.to_string(), req.scopes.join(" ")), header);
        }
        Ok(true)
    }

    /// The keychain's credential for `registry` (reached at `endpoint`), asked once per run.
    async fn credential(
        &self,
        registry: &str,
        endpoint: &Endpoint,
    ) -> Result<Option<Credential>, Error> {
        if let Some(c) = self
            .creds
            .lock()
            .ok()
            .and_then(|c| c.get(registry).cloned())
        {
            return Ok(c);
        }
        let ctx = Ctx {
            web: Web {
                transports: &self.transports,
                tuning: &self.tuning,
            },
            registry,
            endpoint,
        };
        let c = self.keychain.resolve(&ctx).await?;
        if let Ok(mut m) = self.creds.lock() {
            m.insert(registry.to_string(), c.clone());
        }
        Ok(c)
    }

    /// The cached Authorization header for these scopes, if any.
    fn cached_auth(&self, registry: &str, scopes: &[String]) -> Option<String> {
        let key = (registry.to_string(), scopes.join(" "));
        self.tokens.lock().ok().and_then(|t| t.get(&key).cloned())
    }
}
