//! The dedup store kept in memory: for the command line, tests, and a Lambda with no table
//! (where it remembers within one warm container only).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use super::{DedupStore, Lease, StoreError, ThreadId, ThreadState};
use crate::schedule::Tracked;

#[derive(Debug, Default)]
struct Entry {
    state: ThreadState,
    holder: Option<(String, SystemTime)>,
}

/// Threads' states and the spaces' next send slots, behind a mutex.
#[derive(Debug, Default)]
pub struct MemoryStore {
    threads: Mutex<HashMap<ThreadId, Entry>>,
    slots: Mutex<HashMap<String, SystemTime>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn threads(&self) -> std::sync::MutexGuard<'_, HashMap<ThreadId, Entry>> {
        self.threads.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl DedupStore for MemoryStore {
    async fn state(&self, thread: &ThreadId) -> Result<Option<ThreadState>, StoreError> {
        Ok(self.threads().get(thread).map(|entry| entry.state.clone()))
    }

    async fn lease(
        &self,
        thread: &ThreadId,
        holder: &str,
        until: SystemTime,
        now: SystemTime,
    ) -> Result<Lease, StoreError> {
        let mut threads = self.threads();
        let entry = threads.entry(thread.clone()).or_default();
        match &entry.holder {
            Some((other, lease_until)) if other != holder && *lease_until > now => Ok(Lease::Busy),
            _ => {
                entry.holder = Some((holder.to_owned(), until));
                Ok(Lease::Held(entry.state.clone()))
            }
        }
    }

    async fn commit(
        &self,
        thread: &ThreadId,
        holder: &str,
        state: &ThreadState,
        _now: SystemTime,
    ) -> Result<(), StoreError> {
        let mut threads = self.threads();
        let entry = threads.entry(thread.clone()).or_default();
        if entry.holder.as_ref().is_none_or(|(other, _)| other == holder) {
            entry.state = state.clone();
            entry.holder = None;
        }
        Ok(())
    }

    async fn tracked(&self) -> Result<Vec<(ThreadId, Tracked)>, StoreError> {
        let mut tracked: Vec<(ThreadId, Tracked)> = self
            .threads()
            .iter()
            .filter_map(|(thread, entry)| Some((thread.clone(), entry.state.tracked.as_deref()?.clone())))
            .collect();
        tracked.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(tracked)
    }

    async fn release(&self, thread: &ThreadId, holder: &str) -> Result<(), StoreError> {
        if let Some(entry) = self.threads().get_mut(thread)
            && entry.holder.as_ref().is_some_and(|(other, _)| other == holder)
        {
            entry.holder = None;
        }
        Ok(())
    }

    async fn slot(
        &self,
        pace: &str,
        interval: Duration,
        now: SystemTime,
        until: SystemTime,
    ) -> Result<Option<SystemTime>, StoreError> {
        let mut slots = self.slots.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let next = slots.get(pace).copied().map_or(now, |next| next.max(now));
        if next >= until {
            return Ok(None);
        }
        slots.insert(pace.to_owned(), next + interval);
        Ok(Some(next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a slot refused as too late was taken all the same, so a big batch pushed the
    /// space's next slot hours ahead and every later post failed with "no send slot before the
    /// deadline".
    #[tokio::test]
    async fn a_slot_at_or_after_until_is_refused_without_being_taken() {
        let store = MemoryStore::new();
        let (now, second) = (SystemTime::UNIX_EPOCH + Duration::from_secs(1_000), Duration::from_secs(1));
        assert_eq!(store.slot("p", second, now, now + second).await.unwrap(), Some(now));
        assert_eq!(store.slot("p", second, now, now + second).await.unwrap(), None);
        assert_eq!(store.slot("p", second, now, now + 2 * second).await.unwrap(), Some(now + second));
    }
}
