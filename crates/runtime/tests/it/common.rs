//! Helpers shared by the integration tests.

use std::time::{Duration, SystemTime};

use fhirforge_runtime::time::{ManualClock, RecordingSleep};
use fhirforge_runtime::{Client, ClientBuilder, RetryPolicy};
use fhirforge_testkit::hfs::Hfs;

/// 2015-10-21T07:28:00Z, a fixed "now" for retry tests.
pub(crate) fn fixed_now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480)
}

/// A builder with a manual clock and a sleep that records instead of waiting.
pub(crate) fn builder_without_waiting(base: &str) -> (ClientBuilder, RecordingSleep) {
    let clock = ManualClock::new(fixed_now());
    let sleep = RecordingSleep::new(clock.clone());
    let builder = Client::builder(base)
        .clock(clock)
        .sleep(sleep.clone())
        .retry(RetryPolicy::default().max_attempts(3));
    (builder, sleep)
}

/// A fresh hfs and a client for it.
pub(crate) async fn hfs_client() -> (Hfs, Client) {
    let hfs = Hfs::start().await.unwrap_or_else(|e| panic!("{e}"));
    let client = Client::builder(hfs.base_url())
        .build()
        .expect("client for hfs");
    (hfs, client)
}
