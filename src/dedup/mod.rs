//! Nothing lost, nothing twice: what each space's threads have been told, so that each update of
//! each notification is posted once however many copies arrive (one per member account for
//! public events, backup-Region copies, pages, and the at-least-once repeats of EventBridge, SNS,
//! SQS and Lambda), and so that an update is posted when — and only when — it differs from what
//! its thread last said.
//!
//! Protocol, per thread of a space: [`DedupStore::lease`] it (one invocation at a time; the
//! lease ends with the deadline of the invocation that took it, plus [`LEASE_MARGIN`], so a
//! holder that died never blocks the thread for long, and never makes a later copy look posted);
//! compare each copy with the [`ThreadState`] the lease returns; post what is new; then
//! [`DedupStore::commit`] the new state (which also gives the lease back), or
//! [`DedupStore::release`] after a failed post. A release that fails is healed by the lease
//! running out. [`DedupStore::slot`] hands out send slots for a space shared by every container.

mod dynamo;
mod memory;
mod notification;

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, SystemTime};

pub use dynamo::DynamoStore;
pub use memory::MemoryStore;
pub use notification::{Folding, Identity, Notification, ONLY_MEMBER, identify};

use crate::schedule::Tracked;

/// How long after the deadline of the invocation that took it a lease still holds: room for the
/// clocks of two containers to disagree.
pub const LEASE_MARGIN: Duration = Duration::from_secs(10);

/// One thread of one space: where every update of one notification is posted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ThreadId {
    /// The space's name (`default` without rules).
    pub space: String,
    /// The thread key (`health/<eventArn>`, `health/<eventArn>/<account>`).
    pub key: String,
}

impl ThreadId {
    /// The store's id of the thread.
    pub fn id(&self) -> String {
        format!("thread#{}#{}", self.space, self.key)
    }

    /// The thread whose store id is `id` and whose key is `key`.
    pub fn from_id(id: &str, key: &str) -> Option<Self> {
        let space = id.strip_prefix("thread#")?.strip_suffix(key)?.strip_suffix('#')?;
        Some(Self { space: space.to_owned(), key: key.to_owned() })
    }
}

/// What a member of a thread last had posted about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The content posted, as a stable hash.
    pub fingerprint: String,
    /// Its `lastUpdatedTime`, in seconds since the epoch, when it had one.
    pub updated: Option<i64>,
}

/// What the store remembers about a thread.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThreadState {
    /// Messages posted to the thread so far.
    pub posted: u32,
    /// What each member (`*` for a thread about one subject, an account in a roll-up) last had
    /// posted about it.
    pub members: BTreeMap<String, Seen>,
    /// What reminders and the digest need of the notification (none for a digest's own thread).
    pub tracked: Option<Box<Tracked>>,
}

/// The answer to a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lease {
    /// This invocation holds the thread until the lease ends: post, then commit or release.
    Held(ThreadState),
    /// Another invocation that is still running holds it.
    Busy,
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

/// Where what each thread was told is remembered.
pub trait DedupStore: Send + Sync {
    /// What `thread` says now, without taking it: a copy the thread says already needs no lease
    /// (most of a storm's copies). `None` for a thread never told anything.
    fn state(&self, thread: &ThreadId) -> impl Future<Output = Result<Option<ThreadState>, StoreError>> + Send;

    /// Takes `thread` for `holder` until `until` (its invocation's deadline plus
    /// [`LEASE_MARGIN`]), unless another holder's lease is still running at `now`.
    fn lease(
        &self,
        thread: &ThreadId,
        holder: &str,
        until: SystemTime,
        now: SystemTime,
    ) -> impl Future<Output = Result<Lease, StoreError>> + Send;

    /// Records what the thread now says and gives the lease back (only if `holder` still holds it).
    fn commit(
        &self,
        thread: &ThreadId,
        holder: &str,
        state: &ThreadState,
        now: SystemTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every thread that keeps a notification for reminders and the digest, with it.
    fn tracked(&self) -> impl Future<Output = Result<Vec<(ThreadId, Tracked)>, StoreError>> + Send;

    /// Gives the lease back without changing what the thread says.
    fn release(&self, thread: &ThreadId, holder: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The next send slot of the space `pace` (at least `interval` after the last one handed out,
    /// to any container), from `now`; `None`, taking nothing, when it would be at or after
    /// `until` (a slot taken and not used would push every container's next slot later).
    fn slot(
        &self,
        pace: &str,
        interval: Duration,
        now: SystemTime,
        until: SystemTime,
    ) -> impl Future<Output = Result<Option<SystemTime>, StoreError>> + Send;
}

/// The store delibird runs with: a DynamoDB table when configured, else memory.
#[derive(Debug)]
pub enum Store {
    /// In memory: within one process only.
    Memory(MemoryStore),
    /// A DynamoDB table: across invocations and containers.
    Dynamo(DynamoStore),
}

impl Store {
    /// True when the store is shared by every container (a table), so that pacing goes through it.
    pub fn is_shared(&self) -> bool {
        matches!(self, Self::Dynamo(_))
    }
}

impl DedupStore for Store {
    async fn state(&self, thread: &ThreadId) -> Result<Option<ThreadState>, StoreError> {
        match self {
            Self::Memory(store) => store.state(thread).await,
            Self::Dynamo(store) => store.state(thread).await,
        }
    }

    async fn lease(
        &self,
        thread: &ThreadId,
        holder: &str,
        until: SystemTime,
        now: SystemTime,
    ) -> Result<Lease, StoreError> {
        match self {
            Self::Memory(store) => store.lease(thread, holder, until, now).await,
            Self::Dynamo(store) => store.lease(thread, holder, until, now).await,
        }
    }

    async fn commit(
        &self,
        thread: &ThreadId,
        holder: &str,
        state: &ThreadState,
        now: SystemTime,
    ) -> Result<(), StoreError> {
        match self {
            Self::Memory(store) => store.commit(thread, holder, state, now).await,
            Self::Dynamo(store) => store.commit(thread, holder, state, now).await,
        }
    }

    async fn tracked(&self) -> Result<Vec<(ThreadId, Tracked)>, StoreError> {
        match self {
            Self::Memory(store) => store.tracked().await,
            Self::Dynamo(store) => store.tracked().await,
        }
    }

    async fn release(&self, thread: &ThreadId, holder: &str) -> Result<(), StoreError> {
        match self {
            Self::Memory(store) => store.release(thread, holder).await,
            Self::Dynamo(store) => store.release(thread, holder).await,
        }
    }

    async fn slot(
        &self,
        pace: &str,
        interval: Duration,
        now: SystemTime,
        until: SystemTime,
    ) -> Result<Option<SystemTime>, StoreError> {
        match self {
            Self::Memory(store) => store.slot(pace, interval, now, until).await,
            Self::Dynamo(store) => store.slot(pace, interval, now, until).await,
        }
    }
}
