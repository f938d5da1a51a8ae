//! The second half of a record's path: the records of one invocation bound for one thread of one
//! space are posted together — so that copies of one update arriving together (one per member
//! account of a public event) cost one lease and one post. Per thread: lease it in the store →
//! compare each copy with what the thread last said (a copy saying the same, or a late copy of an
//! older update, is a duplicate) → render the newest update's card once → deliver it (paced by the
//! space's shared send slots, with an idempotent request id) → commit what the thread now says,
//! or release the lease when delivery failed.

use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use super::Invocation;
use super::outcome::Posting;
use super::record::Routed;
use crate::card;
use crate::channel::Channel;
use crate::dedup::{DedupStore, LEASE_MARGIN, Lease, Seen, StoreError, ThreadId, ThreadState};
use crate::deps::Deps;
use crate::fingerprint::fnv1a;
use crate::logging::chain;
use crate::spaces::Space;
use crate::webhook::{Pace, Pacer, Post, TooLate, deliver};

/// Longest one store call may take (within the invocation's deadline margin): a store that does
/// not answer by then is treated as unavailable.
const STORE_CALL: Duration = Duration::from_secs(3);

/// How long a thread another invocation holds is waited for before the copies are left for a
/// retry: holders post one message and let go, so a short wait saves most storm copies a
/// redelivery; a dead holder's lease runs to its deadline, far longer than this.
const HELD_WAIT: Duration = Duration::from_secs(5);

/// How often a held thread is asked for again while waiting.
const HELD_POLL: Duration = Duration::from_millis(250);

/// The copies of one invocation bound for one thread of one space.
pub(crate) struct Group<'a> {
    /// The space.
    pub space: &'a Space,
    /// The thread.
    pub thread: ThreadId,
    /// The copies: the index of each record among the invocation's.
    pub copies: Vec<usize>,
}

/// What happened in a thread: each copy's posting, and what it cost.
pub(crate) struct Posted {
    /// The space's name.
    pub space: String,
    /// Each copy's outcome there, by the record's index.
    pub postings: Vec<(usize, Posting)>,
    /// Store calls that failed or did not answer.
    pub store_errors: usize,
    /// Milliseconds from the event's `time` to the accepted post, for each card posted.
    pub latencies: Vec<u64>,
}

/// Posts what the copies of `group` say that the thread does not.
pub(crate) async fn post(group: Group<'_>, records: &[Option<Routed<'_>>], deps: &Deps, at: &Invocation) -> Posted {
    let mut posted =
        Posted { space: group.space.name.clone(), postings: Vec::new(), store_errors: 0, latencies: Vec::new() };
    let copies: Vec<(usize, &Routed<'_>)> =
        group.copies.iter().filter_map(|&index| Some((index, records[index].as_ref()?))).collect();
    if Instant::now() >= at.stop_starting {
        posted.postings = copies.iter().map(|(index, _)| (*index, Posting::Postponed)).collect();
        return posted;
    }
    let store = &deps.dedup;
    let (state, leased) = match lease(store, &group.thread, at).await {
        Ok(Some(state)) => (state, true),
        Ok(None) => {
            posted.postings = copies.iter().map(|(index, _)| (*index, Posting::Held)).collect();
            return posted;
        }
        Err(error) => {
            posted.store_errors += 1;
            // Availability over deduplication: without the store the card is still posted, and its
            // request id (the same for the same post) keeps a repeat from making a second message.
            tracing::error!(
                space = %group.space.name, thread = %group.thread.key, error = chain(&error),
                "dedup store unavailable: posting without it"
            );
            (ThreadState::default(), false)
        }
    };
    // Each update the copies carry, oldest first (by `lastUpdatedTime`, then as they came), once:
    // the thread says each one it has not said yet, in order.
    let mut updates: Vec<(usize, &Routed<'_>)> = copies.clone();
    updates.sort_by_key(|(index, routed)| (routed.notification.updated, *index));
    let mut results: Vec<(usize, Posting)> = Vec::new();
    let mut state = state;
    let mut failed = false;
    for (position, &(index, routed)) in updates.iter().enumerate() {
        let notification = &routed.notification;
        // A later copy of the same update (the same content) is carried by its last copy.
        if updates[position + 1..].iter().any(|(_, later)| later.notification.fingerprint == notification.fingerprint) {
            continue;
        }
        if failed {
            results.push((index, Posting::Postponed));
            continue;
        }
        let said = state.members.get(&notification.member);
        let already = said.is_some_and(|seen| {
            seen.fingerprint == notification.fingerprint
                || matches!((notification.updated, seen.updated), (Some(new), Some(old)) if new < old)
        });
        if already {
            continue;
        }
        let enriched = routed.enriched(deps).await;
        let card = card::render(enriched, routed.problems.as_ref(), &deps.card);
        let body = deps.channel.encode(&card);
        let request_id = request_id(&group, &state, &notification.fingerprint);
        let pace = SharedPace { deps, space: group.space };
        let post = Post { url: &group.space.url, body: &body, request_id: &request_id };
        match deliver(&deps.client, &deps.channel, &post, &deps.retry, &pace, at.deadline).await {
            Ok(delivery) => {
                if let Some(latency) = latency(&enriched.event) {
                    posted.latencies.push(latency);
                }
                state.posted += 1;
                let seen = Seen { fingerprint: notification.fingerprint.clone(), updated: notification.updated };
                state.members.insert(notification.member.clone(), seen);
                results.push((index, Posting::Posted(delivery)));
            }
            Err(error) => {
                results.push((index, Posting::Undelivered(error)));
                failed = true;
            }
        }
    }
    let said_something = results.iter().any(|(_, posting)| matches!(posting, Posting::Posted(_)));
    if leased {
        if said_something {
            if let Err(error) = bounded(at, store.commit(&group.thread, &at.holder, &state, SystemTime::now())).await {
                posted.store_errors += 1;
                // The lease runs out; a later copy finds the thread as it was, posts again with the
                // same request id, and the service returns the message it made.
                tracing::error!(thread = %group.thread.key, error = chain(&error), "dedup store could not record the post");
            }
        } else {
            release(store, &group.thread, at, &mut posted).await;
        }
    }
    // Every other copy says what a posted (or already said) update says: a duplicate.
    posted.postings = copies
        .iter()
        .map(|(index, _)| {
            let posting = results
                .iter()
                .position(|(at, _)| at == index)
                .map_or(Posting::Duplicate, |found| results.swap_remove(found).1);
            (*index, posting)
        })
        .collect();
    posted
}

/// Leases the thread: `Ok(Some(state))` when this invocation holds it, `Ok(None)` when another
/// live invocation held it all the while it was waited for.
async fn lease(
    store: &crate::dedup::Store,
    thread: &ThreadId,
    at: &Invocation,
) -> Result<Option<ThreadState>, StoreError> {
    let until = at.deadline_at + LEASE_MARGIN;
    let give_up = Instant::now() + HELD_WAIT;
    loop {
        match bounded(at, store.lease(thread, &at.holder, until, SystemTime::now())).await? {
            Lease::Held(state) => return Ok(Some(state)),
            Lease::Busy if Instant::now() + HELD_POLL < give_up.min(at.stop_starting) => {
                tokio::time::sleep(HELD_POLL).await;
            }
            Lease::Busy => return Ok(None),
        }
    }
}

/// Gives the lease back; a failure is logged: the lease runs out by itself.
async fn release(store: &crate::dedup::Store, thread: &ThreadId, at: &Invocation, posted: &mut Posted) {
    if let Err(error) = bounded(at, store.release(thread, &at.holder)).await {
        posted.store_errors += 1;
        tracing::error!(thread = %thread.key, error = chain(&error), "dedup store could not give the lease back; it runs out by itself");
    }
}

/// A store call, given at most [`STORE_CALL`] and never past the invocation's stop.
async fn bounded<T>(
    at: &Invocation,
    call: impl std::future::Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let budget = STORE_CALL.min(at.stop.saturating_duration_since(Instant::now()));
    match tokio::time::timeout(budget, call).await {
        Ok(answer) => answer,
        Err(_) => Err(StoreError { operation: "call", source: Box::new(NoAnswer(budget)) }),
    }
}

/// A store call that did not answer in time.
#[derive(Debug, thiserror::Error)]
#[error("no answer within {0:?}")]
struct NoAnswer(Duration);

/// The id that makes a repeat of this post return the message it made: the space, the thread,
/// the message's place in it and what it says.
fn request_id(group: &Group<'_>, state: &ThreadState, fingerprint: &str) -> String {
    let text = format!("{}\n{}\n{}\n{fingerprint}", group.space.name, group.thread.key, state.posted);
    format!("delibird-{:016x}", fnv1a(text.as_bytes()))
}

/// From the event's `time` (when EventBridge emitted it) to now, in milliseconds.
fn latency(event: &crate::health::HealthEvent) -> Option<u64> {
    let emitted = event.time.as_ref()?.at()?;
    let millis = (chrono::Utc::now() - emitted).num_milliseconds();
    u64::try_from(millis).ok()
}

/// A space's send slots: shared by every container through the store when it is a table, else
/// (or when the table does not answer) this container's own pacer.
struct SharedPace<'a> {
    deps: &'a Deps,
    space: &'a Space,
}

impl Pace for SharedPace<'_> {
    async fn turn(&self, stop_at: Instant) -> Result<(), TooLate> {
        let local: &Pacer = &self.space.pacer;
        let interval = local.interval();
        if interval.is_zero() || !self.deps.dedup.is_shared() {
            return local.turn(stop_at).await;
        }
        let budget = STORE_CALL.min(stop_at.saturating_duration_since(Instant::now()));
        let until = SystemTime::now() + stop_at.saturating_duration_since(Instant::now());
        let slot = tokio::time::timeout(
            budget,
            self.deps.dedup.slot(&self.space.pace_key(), interval, SystemTime::now(), until),
        )
        .await;
        match slot {
            Ok(Ok(None)) => Err(TooLate),
            Ok(Ok(Some(slot))) => {
                let wait = slot.duration_since(SystemTime::now()).unwrap_or_default();
                let at = Instant::now() + wait;
                if at >= stop_at {
                    return Err(TooLate);
                }
                tokio::time::sleep_until(at).await;
                Ok(())
            }
            Ok(Err(error)) => {
                tracing::warn!(space = %self.space.name, error = chain(&error), "shared pacing unavailable; pacing this container alone");
                local.turn(stop_at).await
            }
            Err(_) => {
                tracing::warn!(space = %self.space.name, "shared pacing did not answer; pacing this container alone");
                local.turn(stop_at).await
            }
        }
    }

    fn interval(&self) -> Duration {
        self.space.pacer.interval()
    }
}
