//! Retry decisions as pure functions: [`classify`] says what an attempt's outcome means, and
//! [`Backoff`] yields how long to wait before the next attempt (capped exponential, full jitter).

use std::time::Duration;

use reqwest::StatusCode;

/// What one attempt to post came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Chat answered with this status.
    Status(StatusCode),
    /// No answer within the request timeout: the message may or may not have been posted.
    Timeout,
    /// No connection could be made (refused, DNS failure, TLS failure).
    Connect,
    /// The connection broke while sending or receiving.
    Transport,
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Chat took the message.
    Delivered,
    /// A later attempt may succeed.
    Retry,
    /// No retry can help (a bad body, a revoked or deleted webhook).
    GiveUp,
}

/// The meaning of an outcome, following Google Chat's documented error codes: 429 (quota), 408,
/// and 5xx other than 501/505 are retried; every other 4xx, 3xx (delibird never follows
/// redirects: they could carry the token elsewhere) and 1xx are given up.
pub fn classify(outcome: Outcome) -> Verdict {
    match outcome {
        Outcome::Status(status) if status.is_success() => Verdict::Delivered,
        Outcome::Status(StatusCode::TOO_MANY_REQUESTS | StatusCode::REQUEST_TIMEOUT) => Verdict::Retry,
        Outcome::Status(StatusCode::NOT_IMPLEMENTED | StatusCode::HTTP_VERSION_NOT_SUPPORTED) => Verdict::GiveUp,
        Outcome::Status(status) if status.is_server_error() => Verdict::Retry,
        Outcome::Status(_) => Verdict::GiveUp,
        Outcome::Timeout | Outcome::Connect | Outcome::Transport => Verdict::Retry,
    }
}

/// Waits between attempts: the n-th wait is uniform in `[0, min(cap, base · 2ⁿ)]` ("full
/// jitter"), so a burst of clients spreads out instead of retrying in lockstep. Endless: the
/// caller bounds it by attempts and deadline.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    attempt: u32,
    rng: fastrand::Rng,
}

impl Backoff {
    /// A schedule seeded from the system.
    pub fn new(base: Duration, cap: Duration) -> Self {
        Self::with_rng(base, cap, fastrand::Rng::new())
    }

    /// A schedule with a given random source (for reproducible tests).
    pub fn with_rng(base: Duration, cap: Duration, rng: fastrand::Rng) -> Self {
        Self { base, cap, attempt: 0, rng }
    }

    /// The upper bound of the n-th wait (from 0).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1_u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }
}

impl Iterator for Backoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let ceiling = self.ceiling(self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Some(Duration::from_millis(self.rng.u64(0..=millis)))
    }
}

/// `Retry-After` as seconds or an HTTP date; `None` when absent or unreadable.
pub fn retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    (at.with_timezone(&chrono::Utc) - now).to_std().ok().or(Some(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_is_delivered() {
        assert_eq!(classify(Outcome::Status(StatusCode::OK)), Verdict::Delivered);
    }

    #[test]
    fn quota_server_errors_and_network_failures_are_retried() {
        for status in [429, 408, 500, 502, 503, 504] {
            let status = StatusCode::from_u16(status).unwrap();
            assert_eq!(classify(Outcome::Status(status)), Verdict::Retry, "{status}");
        }
        for outcome in [Outcome::Timeout, Outcome::Connect, Outcome::Transport] {
            assert_eq!(classify(outcome), Verdict::Retry);
        }
    }

    #[test]
    fn client_errors_and_redirects_are_given_up() {
        for status in [400, 401, 403, 404, 409, 413, 301, 302, 501, 505] {
            let status = StatusCode::from_u16(status).unwrap();
            assert_eq!(classify(Outcome::Status(status)), Verdict::GiveUp, "{status}");
        }
    }

    #[test]
    fn waits_stay_under_a_doubling_capped_ceiling() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_millis(1_000);
        let backoff = Backoff::with_rng(base, cap, fastrand::Rng::with_seed(7));
        let ceilings: Vec<u128> = (0..6).map(|n| backoff.ceiling(n).as_millis()).collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1_000, 1_000]);
        for (n, wait) in backoff.take(200).enumerate() {
            assert!(wait <= Backoff::with_rng(base, cap, fastrand::Rng::new()).ceiling(n as u32));
        }
    }

    #[test]
    fn waits_are_jittered_not_constant() {
        let backoff = Backoff::with_rng(Duration::from_secs(1), Duration::from_secs(1), fastrand::Rng::with_seed(1));
        let waits: std::collections::BTreeSet<Duration> = backoff.take(20).collect();
        assert!(waits.len() > 10);
    }

    #[test]
    fn ceiling_never_overflows() {
        let backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
        assert_eq!(backoff.ceiling(u32::MAX), Duration::from_secs(30));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().to_utc();
        assert_eq!(retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(retry_after("Thu, 01 Jan 2026 00:00:05 GMT", now), Some(Duration::from_secs(5)));
        assert_eq!(retry_after("soon", now), None);
    }
}
