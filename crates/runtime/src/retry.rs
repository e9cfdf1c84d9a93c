//! When and how long to wait before repeating a failed request.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// How failed requests are repeated.
///
/// **Requests should not be retried** if the server cannot safely handle the same request twice
/// (reqwest's warning, and the reason for this type's rules). The client repeats a request only
/// when
/// * it certainly was not sent (connection refused), whatever its method; or
/// * it is idempotent (GET, HEAD, PUT, DELETE, a search by POST, and a conditional create with
///   `If-None-Exist` on a server known to honour it, see
///   [`ClientBuilder::conditional_create_is_idempotent`](crate::ClientBuilder::conditional_create_is_idempotent))
///   and the failure is transient: the connection dropped, a timeout, or status 429, 502, 503
///   or 504.
///
/// A plain POST create that may have reached the server is never repeated: it could create a
/// second patient. Nor is a conditional create by default: a server that ignores
/// `If-None-Exist` would create one on the retry.
///
/// The wait grows exponentially from [`initial_backoff`](Self::initial_backoff) with jitter (a
/// random point in the upper half of the step), capped by [`max_backoff`](Self::max_backoff). A
/// `Retry-After` header (seconds or HTTP date) replaces the computed wait. Both the number of
/// attempts and the total time are bounded: when the next wait would end after
/// [`max_elapsed`](Self::max_elapsed), the last error is returned instead.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_elapsed: Duration,
}

impl Default for RetryPolicy {
    /// 3 attempts, 200 ms initial backoff, 10 s maximum backoff, 30 s in all.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            max_elapsed: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// A policy that never repeats a request.
    pub fn none() -> Self {
        Self::default().max_attempts(1)
    }

    /// Attempts in all, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The wait before the first retry, before jitter.
    pub fn initial_backoff(mut self, wait: Duration) -> Self {
        self.initial_backoff = wait;
        self
    }

    /// The longest computed wait between two attempts (a `Retry-After` may ask for more, within
    /// [`max_elapsed`](Self::max_elapsed)).
    pub fn max_backoff(mut self, wait: Duration) -> Self {
        self.max_backoff = wait;
        self
    }

    /// The total time budget of all attempts and waits.
    pub fn max_elapsed(mut self, budget: Duration) -> Self {
        self.max_elapsed = budget;
        self
    }

    /// The configured number of attempts.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// How long to wait before attempt `failed + 1`, or `None` to give up.
    ///
    /// `failed` counts the attempts made so far (1 after the first), `elapsed` the time since the
    /// first attempt started, `jitter` is uniform in `[0, 1)`.
    pub(crate) fn next_delay(
        &self,
        failed: u32,
        retry_after: Option<Duration>,
        elapsed: Duration,
        jitter: f64,
    ) -> Option<Duration> {
        if failed >= self.max_attempts {
            return None;
        }
        let delay = match retry_after {
            Some(wait) => wait,
            None => {
                let exp = 2u32.saturating_pow(failed.saturating_sub(1));
                let step = self
                    .initial_backoff
                    .saturating_mul(exp)
                    .min(self.max_backoff);
                step / 2 + step.mul_f64(jitter.clamp(0.0, 1.0) / 2.0)
            }
        };
        if elapsed.saturating_add(delay) > self.max_elapsed {
            return None;
        }
        Some(delay)
    }
}

/// Parses a `Retry-After` value: delay seconds or an HTTP date (a date in the past means now).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A small lock-free random source for jitter (splitmix64); not for anything secret.
#[derive(Debug)]
pub(crate) struct Jitter(AtomicU64);

impl Jitter {
    pub(crate) fn new(seed: u64) -> Self {
        Self(AtomicU64::new(seed))
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn next(&self) -> f64 {
        let mut z = self
            .0
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_in_the_upper_half_and_is_capped() {
        let p = RetryPolicy::default()
            .max_attempts(10)
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(500))
            .max_elapsed(Duration::from_secs(100));
        let at = |failed, jitter| p.next_delay(failed, None, Duration::ZERO, jitter);
        assert_eq!(at(1, 0.0), Some(Duration::from_millis(50)));
        assert_eq!(at(1, 0.999_999), Some(Duration::from_nanos(99_999_950)));
        assert_eq!(at(2, 0.0), Some(Duration::from_millis(100)));
        assert_eq!(at(3, 0.0), Some(Duration::from_millis(200)));
        assert_eq!(at(4, 0.0), Some(Duration::from_millis(250)));
        assert_eq!(at(9, 0.5), Some(Duration::from_millis(375)));
        assert_eq!(at(10, 0.5), None, "attempts are bounded");
    }

    #[test]
    fn retry_after_replaces_backoff_within_the_time_budget() {
        let p = RetryPolicy::default().max_elapsed(Duration::from_secs(30));
        let wait = Some(Duration::from_secs(7));
        assert_eq!(
            p.next_delay(1, wait, Duration::from_secs(1), 0.3),
            Some(Duration::from_secs(7))
        );
        assert_eq!(p.next_delay(1, wait, Duration::from_secs(24), 0.3), None);
        assert_eq!(
            RetryPolicy::none().next_delay(1, None, Duration::ZERO, 0.0),
            None
        );
    }

    #[test]
    fn retry_after_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // 2015-10-21 07:28:00 GMT
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn jitter_is_in_range_and_varies() {
        let j = Jitter::new(42);
        let draws: Vec<f64> = (0..1000).map(|_| j.next()).collect();
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((0.4..0.6).contains(&mean), "mean {mean}");
    }
}
