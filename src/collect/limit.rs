//! Request pacing: a global bound on requests in flight (`--concurrency`) and a per-region
//! minimum spacing for CloudTrail LookupEvents (AWS allows 2 requests per second per account and
//! region; exceeding it earns ThrottlingException and retries that only slow things down).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{Mutex, Semaphore};
use tokio::time::Instant;

/// Bounds the number of AWS requests in flight and counts them.
#[derive(Debug)]
pub struct Limiter {
    permits: Semaphore,
    calls: AtomicU64,
}

impl Limiter {
    pub fn new(concurrency: usize) -> Self {
        Self {
            permits: Semaphore::new(concurrency.max(1)),
            calls: AtomicU64::new(0),
        }
    }

    /// Runs one API call once a slot is free. The permit is held for the whole call, including
    /// the SDK's retries, so retries never push the total above the bound.
    pub async fn call<F: Future>(&self, request: F) -> F::Output {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("semaphore never closed");
        self.calls.fetch_add(1, Ordering::Relaxed);
        request.await
    }

    /// API calls made so far (a call retried by the SDK counts once).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }
}

/// Spaces requests at least `interval` apart (a token bucket of size one: no bursts, because
/// CloudTrail counts requests per second, not on average).
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl Pacer {
    /// LookupEvents: 2 requests per second per region.
    pub const LOOKUP_EVENTS_INTERVAL: Duration = Duration::from_millis(500);

    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            next: Mutex::new(None),
        }
    }

    /// Waits until the next request may be sent.
    pub async fn wait(&self) {
        let mut next = self.next.lock().await;
        let now = Instant::now();
        let at = match *next {
            Some(t) if t > now => t,
            _ => now,
        };
        tokio::time::sleep_until(at).await;
        *next = Some(at + self.interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn pacer_spaces_requests() {
        let pacer = Pacer::new(Duration::from_millis(500));
        let start = Instant::now();
        for _ in 0..4 {
            pacer.wait().await;
        }
        assert_eq!(start.elapsed(), Duration::from_millis(1500));
    }
}
