//! Nothing twice: each update of each notification is posted once, however many copies arrive
//! (one per member account for public events, backup-Region copies, pages, and the at-least-once
//! repeats of EventBridge, SNS, SQS and Lambda).
//!
//! Protocol, per record: [`identify`] the update; [`DedupStore::claim`] it (exactly one caller
//! wins); post; then [`DedupStore::confirm`] on success or [`DedupStore::release`] on failure, so
//! the retry of a failed post is not mistaken for a duplicate. A claim whose holder died expires
//! after its lease and can be taken over.

mod dynamo;
mod memory;
mod notification;

use std::future::Future;
use std::time::{Duration, SystemTime};

pub use dynamo::DynamoStore;
pub use memory::MemoryStore;
pub use notification::{Folding, Identity, Notification, identify};

/// How long a claim holds before another invocation may take the update over: longer than any
/// Lambda invocation (15 minutes at most).
pub const CLAIM_LEASE: Duration = Duration::from_secs(16 * 60);

/// The answer to a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This caller holds the update: post it.
    Claimed,
    /// The update was posted already: a duplicate.
    Delivered,
    /// Another caller is posting it now; if that fails, its own retry posts it.
    InFlight,
}

/// A store operation that failed.
#[derive(Debug, thiserror::Error)]
#[error("dedup store {operation} failed")]
pub struct StoreError {
    /// The operation.
    pub operation: &'static str,
    /// The cause.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// Where delivered updates are remembered.
pub trait DedupStore: Send + Sync {
    /// Claims `notification` for posting.
    fn claim(
        &self,
        notification: &Notification,
        now: SystemTime,
        lease: Duration,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// Records that the claimed update was posted.
    fn confirm(
        &self,
        notification: &Notification,
        now: SystemTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Gives a claim back after a failed post, so a retry can post.
    fn release(&self, notification: &Notification) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The store delibird runs with: a DynamoDB table when configured, else memory.
#[derive(Debug)]
pub enum Store {
    /// In memory: within one process only.
    Memory(MemoryStore),
    /// A DynamoDB table: across invocations and containers.
    Dynamo(DynamoStore),
}

impl DedupStore for Store {
    async fn claim(&self, notification: &Notification, now: SystemTime, lease: Duration) -> Result<Claim, StoreError> {
        match self {
            Self::Memory(store) => store.claim(notification, now, lease).await,
            Self::Dynamo(store) => store.claim(notification, now, lease).await,
        }
    }

    async fn confirm(&self, notification: &Notification, now: SystemTime) -> Result<(), StoreError> {
        match self {
            Self::Memory(store) => store.confirm(notification, now).await,
            Self::Dynamo(store) => store.confirm(notification, now).await,
        }
    }

    async fn release(&self, notification: &Notification) -> Result<(), StoreError> {
        match self {
            Self::Memory(store) => store.release(notification).await,
            Self::Dynamo(store) => store.release(notification).await,
        }
    }
}
