//! The dedup store kept in memory: for the command line, tests, and a Lambda with no table
//! (where it deduplicates within one warm container only).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use super::{Claim, DedupStore, Notification, StoreError};

#[derive(Debug, Clone, Copy)]
enum State {
    Pending { lease_until: SystemTime },
    Delivered,
}

/// A map of notification update → state, behind a mutex.
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, State>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, State>> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl DedupStore for MemoryStore {
    async fn claim(&self, notification: &Notification, now: SystemTime, lease: Duration) -> Result<Claim, StoreError> {
        let mut entries = self.entries();
        let id = notification.id();
        match entries.get(&id) {
            Some(State::Delivered) => Ok(Claim::Delivered),
            Some(State::Pending { lease_until }) if *lease_until > now => Ok(Claim::InFlight),
            Some(State::Pending { .. }) | None => {
                entries.insert(id, State::Pending { lease_until: now + lease });
                Ok(Claim::Claimed)
            }
        }
    }

    async fn confirm(&self, notification: &Notification, _now: SystemTime) -> Result<(), StoreError> {
        self.entries().insert(notification.id(), State::Delivered);
        Ok(())
    }

    async fn release(&self, notification: &Notification) -> Result<(), StoreError> {
        let mut entries = self.entries();
        if matches!(entries.get(&notification.id()), Some(State::Pending { .. })) {
            entries.remove(&notification.id());
        }
        Ok(())
    }
}
