//! Work on two threads (the machines we generate on, CI included, have two cores): rendering
//! the resource modules, writing the files.
//!
//! The jobs are independent, so they are shared out one at a time from a counter: a thread
//! that finishes early (or the one not slowed by another process) takes the next job, and
//! neither waits while the other has several left. Syntax trees are not `Send`, so each thread
//! builds, prints and drops its own; only the text crosses threads. Results are put back in job
//! order, so the output does not depend on which thread ran what.

use crate::Error;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `first` on this thread while a second thread starts on the jobs `0..count`; after
/// `first` this thread takes jobs too. Returns `first`'s result and the jobs' results in job
/// order.
///
/// # Errors
/// [`Error::Internal`] if the second thread panicked.
pub(crate) fn run<A, T: Send>(
    first: impl FnOnce() -> A,
    count: usize,
    job: impl Fn(usize) -> T + Sync,
) -> Result<(A, Vec<T>), Error> {
    let next = AtomicUsize::new(0);
    let take_jobs = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= count {
                return done;
            }
            done.push((i, job(i)));
        }
    };
    let (first, mut done, helped) = std::thread::scope(|scope| {
        let helper = scope.spawn(take_jobs);
        let first = first();
        let done = take_jobs();
        (first, done, helper.join())
    });
    let helped = helped.map_err(|_| Error::Internal("the second thread panicked".to_owned()))?;
    done.extend(helped);
    done.sort_unstable_by_key(|(i, _)| *i);
    Ok((first, done.into_iter().map(|(_, t)| t).collect()))
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        reason = "test code: a failed unwrap is a failed test"
    )]
    use super::*;

    #[test]
    fn results_are_in_job_order() {
        for count in [0, 1, 2, 7, 100] {
            let (first, out) = run(|| "first", count, |i| i * 2).unwrap();
            assert_eq!(first, "first");
            assert_eq!(out, (0..count).map(|i| i * 2).collect::<Vec<_>>());
        }
    }
}
