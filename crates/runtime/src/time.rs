//! Injected time: the client reads the wall clock and sleeps only through these traits, so retry
//! tests drive a [`ManualClock`] and a recording [`Sleep`] and never wait.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;

/// A source of wall-clock time (used for `Retry-After` HTTP dates and the retry time budget).
pub trait Clock: fmt::Debug + Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// A shared clock is a clock (a provider keeps one `Arc` and hands it to the parts it builds).
impl Clock for Arc<dyn Clock> {
    fn now(&self) -> SystemTime {
        (**self).now()
    }
}

/// The real wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(
        clippy::disallowed_methods,
        reason = "the one sanctioned SystemTime::now call site"
    )]
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that only moves when told to; for tests.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<SystemTime>>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: SystemTime) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }

    /// Sets the clock to `to`.
    pub fn set(&self, to: SystemTime) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Waits for a while (between retry attempts).
pub trait Sleep: fmt::Debug + Send + Sync + 'static {
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
}

/// Sleeps on the tokio timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleep;

impl Sleep for TokioSleep {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A [`Sleep`] that returns at once, records every requested duration and advances a
/// [`ManualClock`] by it; for tests.
#[derive(Debug, Clone)]
pub struct RecordingSleep {
    clock: ManualClock,
    slept: Arc<Mutex<Vec<Duration>>>,
}

impl RecordingSleep {
    /// A sleep that advances `clock`.
    pub fn new(clock: ManualClock) -> Self {
        Self {
            clock,
            slept: Arc::default(),
        }
    }

    /// Every duration slept so far, in order.
    pub fn slept(&self) -> Vec<Duration> {
        self.slept.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Sleep for RecordingSleep {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        self.slept
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(duration);
        self.clock.advance(duration);
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recording_sleep_advances_the_manual_clock() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let clock = ManualClock::new(start);
        let sleep = RecordingSleep::new(clock.clone());
        drop(sleep.sleep(Duration::from_secs(3)));
        drop(sleep.sleep(Duration::from_millis(5)));
        assert_eq!(
            sleep.slept(),
            [Duration::from_secs(3), Duration::from_millis(5)]
        );
        assert_eq!(clock.now(), start + Duration::from_millis(3_005));
    }
}
