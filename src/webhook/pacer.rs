//! A chat space takes a message at most every so often (Google Chat: one per second) and answers
//! 429 beyond. A [`Pacer`] spaces
//! the requests to one webhook at least an interval apart, across every record being delivered
//! concurrently (and, in a warm Lambda, across invocations), so a burst queues instead of
//! collecting 429s.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Hands out send slots: where [`crate::webhook::deliver`] waits before each attempt.
pub trait Pace: Sync {
    /// Waits for this caller's slot; `Err(TooLate)`, without waiting or taking a slot, when the
    /// slot would be at or after `stop_at`.
    fn turn(&self, stop_at: Instant) -> impl Future<Output = Result<(), TooLate>> + Send;

    /// The least time between two slots.
    fn interval(&self) -> Duration;
}

/// Hands out send slots at least `interval` apart, within one process.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

/// The next slot would come too late.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLate;

impl Pacer {
    /// Slots `interval` apart.
    pub fn new(interval: Duration) -> Self {
        Self { interval, next: Mutex::new(None) }
    }

    /// No pacing at all.
    pub fn unpaced() -> Self {
        Self::new(Duration::ZERO)
    }

    /// The time between slots.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    async fn take(&self, stop_at: Instant) -> Result<(), TooLate> {
        if self.interval.is_zero() {
            return Ok(());
        }
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = Instant::now();
            let slot = next.map_or(now, |next| next.max(now));
            if slot >= stop_at {
                return Err(TooLate);
            }
            *next = Some(slot + self.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
        Ok(())
    }
}

impl Pace for Pacer {
    async fn turn(&self, stop_at: Instant) -> Result<(), TooLate> {
        self.take(stop_at).await
    }

    fn interval(&self) -> Duration {
        self.interval
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn slots_are_an_interval_apart() {
        let pacer = Pacer::new(Duration::from_secs(1));
        let start = Instant::now();
        let far = start + Duration::from_secs(60);
        let mut slots = Vec::new();
        for _ in 0..3 {
            pacer.turn(far).await.unwrap();
            slots.push(Instant::now() - start);
        }
        assert_eq!(slots, [Duration::ZERO, Duration::from_secs(1), Duration::from_secs(2)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slot_past_the_deadline_is_refused_without_waiting() {
        let pacer = Pacer::new(Duration::from_secs(1));
        let start = Instant::now();
        let stop_at = start + Duration::from_millis(1500);
        assert_eq!(pacer.turn(stop_at).await, Ok(()));
        assert_eq!(pacer.turn(stop_at).await, Ok(()));
        assert_eq!(pacer.turn(stop_at).await, Err(TooLate));
        assert_eq!(Instant::now() - start, Duration::from_secs(1));
    }
}
