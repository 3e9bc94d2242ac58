//! The retry policy of the whole client: which failures are worth another try, and how
//! long to wait first (exponential backoff with jitter, at least what `Retry-After` asks,
//! never more than the configured longest wait).

use std::time::{Duration, SystemTime};

/// Statuses that may succeed later: 408, 429, and 5xx other than 501 and 505.
pub(crate) fn transient_status(status: u16) -> bool {
    matches!(status, 408 | 429) || ((500..600).contains(&status) && !matches!(status, 501 | 505))
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy {
    /// How many times a failed request is sent again.
    pub retries: u32,
    pub initial: Duration,
    pub max: Duration,
}

impl Policy {
    /// The wait before retry number `attempt` (0-based): a random time between half and all
    /// of `initial * 2^attempt` (capped at `max`), and at least `retry_after` (also capped).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .initial
            .saturating_mul(1u32 << attempt.min(20))
            .min(self.max);
        let half = exp / 2;
        let jitter = half.mul_f64(fastrand::f64());
        let wait = half + jitter;
        match retry_after {
            Some(ra) => wait.max(ra.min(self.max)),
            None => wait,
        }
    }
}

/// A `Retry-After` value: delay-seconds or an HTTP date.
pub(crate) fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The `Retry-After` of an answer, if it has a valid one.
pub(crate) fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    resp.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        for s in [408, 429, 500, 502, 503, 504, 599] {
            assert!(transient_status(s), "{s}");
        }
        for s in [200, 400, 401, 403, 404, 416, 501, 505] {
            assert!(!transient_status(s), "{s}");
        }
    }

    #[test]
    fn backoff_grows_with_jitter_and_honours_retry_after() {
        let p = Policy {
            retries: 5,
            initial: Duration::from_secs(1),
            max: Duration::from_secs(8),
        };
        for _ in 0..50 {
            let d0 = p.delay(0, None);
            assert!(d0 >= Duration::from_millis(500) && d0 <= Duration::from_secs(1));
            let d2 = p.delay(2, None);
            assert!(d2 >= Duration::from_secs(2) && d2 <= Duration::from_secs(4));
            let d9 = p.delay(9, None);
            assert!(d9 >= Duration::from_secs(4) && d9 <= Duration::from_secs(8));
        }
        assert!(p.delay(0, Some(Duration::from_secs(5))) >= Duration::from_secs(5));
        // A server asking for an hour gets the longest wait.
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(3600))),
            Duration::from_secs(8)
        );
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        let soon = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
        let d = parse_retry_after(&soon).unwrap();
        assert!(
            d > Duration::from_secs(100) && d <= Duration::from_secs(120),
            "{d:?}"
        );
        assert_eq!(parse_retry_after("later"), None);
    }
}
