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
use crate::card::{self, rollup, rollup::Member};
use crate::channel::Channel;
use crate::dedup::{DedupStore, LEASE_MARGIN, Lease, ONLY_MEMBER, Seen, StoreError, ThreadId, ThreadState};
use crate::deps::Deps;
use crate::fingerprint::fnv1a;
use crate::logging::chain;
use crate::schedule::Tracked;
use crate::spaces::Space;
use crate::webhook::{Pace, Pacer, Post, TooLate, deliver};

/// Longest one store call may take (within the invocation's deadline margin): a store that does
/// not answer by then is treated as unavailable.
const STORE_CALL: Duration = Duration::from_secs(3);

/// How long a thread another invocation holds is waited for before the copies are left for a
/// retry: holders post one message and let go, so a short wait saves most storm copies a
/// redelivery; a dead holder's lease runs to its deadline, far longer than this.
const HELD_WAIT: Duration = Duration::from_secs(5);

/// Most accounts one roll-up or join message announces: an account's line is at most about 80
/// bytes (Organizations names are at most 50 characters), so 250 of them, with the event, stay
/// within Google Chat's 32,000 bytes and every one is named; more go in the next message.
const MAX_ACCOUNTS: usize = 250;

/// How often a held thread is asked for again while waiting.
pub(super) const HELD_POLL: Duration = Duration::from_millis(250);

/// The copies of one invocation bound for one thread of one space.
pub(crate) struct Group<'a> {
    /// The space.
    pub space: &'a Space,
    /// The thread.
    pub thread: ThreadId,
    /// The copies: the index of each record among the invocation's.
    pub copies: Vec<usize>,
    /// True when a `digest_only` rule sent them: kept in the thread's state for the space's
    /// digest, never posted.
    pub quiet: bool,
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
    // Most copies of a storm say what the thread says already: they need no lease, and do not
    // wait for the one that holds it.
    let looked = bounded(at, store.state(&group.thread)).await;
    if let Ok(Some(said)) = &looked
        && plan(&copies, said).is_empty()
    {
        posted.postings = copies.iter().map(|(index, _)| (*index, Posting::Duplicate)).collect();
        return posted;
    }
    // A store that did not answer the look is not asked for a lease: each call that hangs costs
    // its whole bound, and the invocation's time is better spent posting. A lease that failed
    // after the look answered posts against what the look said: the thread's next message, with
    // the request id any other container would give it, naming no account the thread has named.
    let (state, leased) = match looked {
        Ok(said) => match lease(store, &group.thread, at).await {
            Ok(Some(state)) => (state, true),
            Ok(None) => {
                posted.postings = copies.iter().map(|(index, _)| (*index, Posting::Held)).collect();
                return posted;
            }
            Err(error) => (unavailable(&error, &group, &mut posted, said), false),
        },
        Err(error) => (unavailable(&error, &group, &mut posted, None), false),
    };
    let messages = plan(&copies, &state);
    let mut results: Vec<(usize, Posting)> = Vec::new();
    let mut state = state;
    if group.quiet {
        // Kept for the digest: what the thread would say is remembered, and nothing is posted.
        for (index, routed) in messages.iter().flat_map(Message::copies) {
            routed.enriched(deps).await;
            remember(&mut state, routed, &group, deps);
            results.push((*index, Posting::Digest));
        }
        if leased {
            if results.is_empty() {
                release(store, &group.thread, at, &mut posted.store_errors).await;
            } else if let Err(error) =
                bounded(at, store.commit(&group.thread, &at.holder, &state, SystemTime::now())).await
            {
                posted.store_errors += 1;
                tracing::error!(thread = %group.thread.key, error = chain(&error), "dedup store could not keep an event for the digest");
                results = results.into_iter().map(|(index, _)| (index, Posting::Postponed)).collect();
            }
        } else {
            // Without the store nothing is kept: the digest would never list it. Left for a retry.
            results = results.into_iter().map(|(index, _)| (index, Posting::Postponed)).collect();
        }
        posted.postings = each_copy(&copies, results);
        return posted;
    }
    let mut failed = false;
    for message in messages {
        if failed {
            results.extend(message.copies().iter().map(|(index, _)| (*index, Posting::Postponed)));
            continue;
        }
        let mut card = render(&message, &group, deps).await;
        if state.posted == 0 {
            card.mentions = mentions(&message, &group);
        }
        let body = deps.channel.encode(&card);
        let request_id = request_id(&group, &state, &message);
        let pace = SharedPace { deps, space: group.space, shared: leased };
        let post = Post { url: &group.space.url, body: &body, request_id: &request_id };
        match deliver(&deps.client, &deps.channel, &post, &deps.retry, &pace, at.deadline).await {
            Ok(delivery) => {
                state.posted += 1;
                for (position, (index, routed)) in message.copies().iter().enumerate() {
                    remember(&mut state, routed, &group, deps);
                    if let Some(latency) = routed.enriched.get().and_then(|enriched| latency(&enriched.event)) {
                        posted.latencies.push(latency);
                    }
                    // One message for many copies: the first carries the delivery, the rest were in it.
                    let posting = if position == 0 { Posting::Posted(delivery.clone()) } else { Posting::Included };
                    results.push((*index, posting));
                }
            }
            Err(error) => {
                let mut copies = message.copies().iter();
                if let Some((index, _)) = copies.next() {
                    results.push((*index, Posting::Undelivered(error)));
                }
                results.extend(copies.map(|(index, _)| (*index, Posting::Postponed)));
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
            release(store, &group.thread, at, &mut posted.store_errors).await;
        }
    }
    posted.postings = each_copy(&copies, results);
    posted
}

/// Each copy's posting, in the copies' order: its own from `results`, or, for a copy no message
/// carried, a duplicate (it says what a posted, or already said, update says).
fn each_copy(copies: &[(usize, &Routed<'_>)], mut results: Vec<(usize, Posting)>) -> Vec<(usize, Posting)> {
    copies
        .iter()
        .map(|(index, _)| {
            let posting = results
                .iter()
                .position(|(at, _)| at == index)
                .map_or(Posting::Duplicate, |found| results.swap_remove(found).1);
            (*index, posting)
        })
        .collect()
}

/// Notes in the thread's state that it was told `routed`'s update: its member's fingerprint, and
/// the event for reminders and the digest.
fn remember(state: &mut ThreadState, routed: &Routed<'_>, group: &Group<'_>, deps: &Deps) {
    let notification = &routed.notification;
    let seen = Seen { fingerprint: notification.fingerprint.clone(), updated: notification.updated };
    state.members.insert(notification.member.clone(), seen);
    if deps.schedule.is_on()
        && let Some(enriched) = routed.enriched.get()
    {
        track(state, enriched, &group.thread, deps);
        if let Some(tracked) = state.tracked.as_mut() {
            // Once the thread has a card, it is an ordinary thread.
            tracked.digest_only = group.quiet && state.posted == 0;
        }
    }
}

/// Keeps what reminders and the digest need of the notification the thread was just told about.
fn track(state: &mut ThreadState, enriched: &crate::accounts::EnrichedEvent, thread: &ThreadId, deps: &Deps) {
    let now = deps.card.clock.now();
    match &mut state.tracked {
        Some(tracked) => tracked.absorb(enriched, &deps.card, now),
        None => state.tracked = Some(Box::new(Tracked::new(enriched, &thread.key, &deps.card, now))),
    }
}

/// A store that failed: availability over deduplication. The card is still posted, against
/// `said` (what the thread's last look answered, if it did), and its request id (the same for the
/// same post) keeps a repeat from making a second message.
fn unavailable(error: &StoreError, group: &Group<'_>, posted: &mut Posted, said: Option<ThreadState>) -> ThreadState {
    posted.store_errors += 1;
    tracing::error!(
        space = %group.space.name, thread = %group.thread.key, error = chain(error),
        "dedup store unavailable: posting without it"
    );
    said.unwrap_or_default()
}

/// One message a thread is about to be told.
enum Message<'r, 'a> {
    /// One copy's own card: the thread's only subject, or one account's real change.
    Card((usize, &'r Routed<'a>)),
    /// The first message for several accounts: the event once, every account listed.
    Rollup(Vec<(usize, &'r Routed<'a>)>),
    /// A reply naming the accounts that joined since the thread's last message.
    Joined(Vec<(usize, &'r Routed<'a>)>),
}

impl<'r, 'a> Message<'r, 'a> {
    /// The copies it says, the one whose record carries the delivery first.
    fn copies(&self) -> &[(usize, &'r Routed<'a>)] {
        match self {
            Self::Card(copy) => std::slice::from_ref(copy),
            Self::Rollup(copies) | Self::Joined(copies) => copies,
        }
    }
}

/// What the thread must be told, in order, so that it says every update once: per member
/// (an account of a roll-up, or the thread's one subject) the updates it does not say yet, oldest
/// first (by `lastUpdatedTime`, then as they came), a later copy of the same update carried by
/// it, an older one than the thread's dropped. Accounts new to a roll-up's thread are announced
/// together — all of them in its first message, or in one reply — by their newest update; a real
/// change in an account the thread has named is that account's own card.
fn plan<'r, 'a>(copies: &[(usize, &'r Routed<'a>)], state: &ThreadState) -> Vec<Message<'r, 'a>> {
    let mut updates: Vec<(usize, &'r Routed<'a>)> = copies.to_vec();
    updates.sort_by_key(|(index, routed)| (routed.notification.updated, *index));
    let mut pending: Vec<(&str, Vec<(usize, &'r Routed<'a>)>)> = Vec::new();
    for (position, &(index, routed)) in updates.iter().enumerate() {
        let notification = &routed.notification;
        if updates[position + 1..].iter().any(|(_, later)| later.notification.fingerprint == notification.fingerprint) {
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
        match pending.iter_mut().find(|(member, _)| *member == notification.member) {
            Some((_, updates)) => updates.push((index, routed)),
            None => pending.push((&notification.member, vec![(index, routed)])),
        }
    }
    let rolled_up = pending.iter().all(|(member, _)| *member != ONLY_MEMBER);
    let (news, changes): (Vec<_>, Vec<_>) =
        pending.into_iter().partition(|(member, _)| rolled_up && !state.members.contains_key(*member));
    let mut messages = Vec::new();
    let newest = |updates: &[(usize, &'r Routed<'a>)]| updates[updates.len() - 1];
    match (state.posted, news.len()) {
        (_, 0) => {}
        (0, 1) => messages.extend(news[0].1.iter().copied().map(Message::Card)),
        (posted, _) => {
            // At most MAX_ACCOUNTS a message, so that each names every account it carries.
            for (chunk, accounts) in news.chunks(MAX_ACCOUNTS).enumerate() {
                let copies = accounts.iter().map(|(_, updates)| newest(updates)).collect();
                messages.push(if posted == 0 && chunk == 0 {
                    Message::Rollup(copies)
                } else {
                    Message::Joined(copies)
                });
            }
        }
    }
    for (_, updates) in changes {
        messages.extend(updates.into_iter().map(Message::Card));
    }
    messages
}

/// A message's card, in the group's thread.
async fn render(message: &Message<'_, '_>, group: &Group<'_>, deps: &Deps) -> card::Card {
    let thread = &group.thread.key;
    match message {
        Message::Card((_, routed)) => {
            let mut card = card::render(routed.enriched(deps).await, routed.problems.as_ref(), &deps.card);
            card.thread.clone_from(thread);
            card
        }
        Message::Rollup(copies) | Message::Joined(copies) => {
            let mut members = Vec::with_capacity(copies.len());
            for (_, routed) in copies {
                members.push(Member { event: routed.enriched(deps).await, problems: routed.problems.as_ref() });
            }
            if matches!(message, Message::Rollup(_)) {
                rollup::rollup(&members, &deps.card, thread)
            } else {
                rollup::joined(&members, &deps.card, thread)
            }
        }
    }
}

/// Who a thread's first message calls on in its space: every mention the rules that routed its
/// copies there asked for, each once. Later messages in the thread call on no one: the people
/// called on follow the thread from its first message.
fn mentions(message: &Message<'_, '_>, group: &Group<'_>) -> Vec<card::Mention> {
    let mut mentions: Vec<card::Mention> = Vec::new();
    for (_, routed) in message.copies() {
        for (space, mention) in &routed.mentions {
            if *space == group.space.name && !mentions.contains(mention) {
                mentions.push((*mention).clone());
            }
        }
    }
    mentions.sort();
    mentions
}

/// Leases the thread: `Ok(Some(state))` when this invocation holds it, `Ok(None)` when another
/// live invocation held it all the while it was waited for.
pub(super) async fn lease(
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
pub(super) async fn release(store: &crate::dedup::Store, thread: &ThreadId, at: &Invocation, store_errors: &mut usize) {
    if let Err(error) = bounded(at, store.release(thread, &at.holder)).await {
        *store_errors += 1;
        tracing::error!(thread = %thread.key, error = chain(&error), "dedup store could not give the lease back; it runs out by itself");
    }
}

/// A store call, given at most [`STORE_CALL`] and never past the invocation's stop.
pub(super) async fn bounded<T>(
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
/// the message's place in it and what it says (each copy's member and update).
fn request_id(group: &Group<'_>, state: &ThreadState, message: &Message<'_, '_>) -> String {
    let mut text = format!("{}\n{}\n{}", group.space.name, group.thread.key, state.posted);
    for (_, routed) in message.copies() {
        let notification = &routed.notification;
        text.push_str(&format!("\n{}#{}", notification.member, notification.fingerprint));
    }
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
pub(super) struct SharedPace<'a> {
    pub deps: &'a Deps,
    pub space: &'a Space,
    /// Whether to ask the store: not when it just failed to lease the thread.
    pub shared: bool,
}

impl Pace for SharedPace<'_> {
    async fn turn(&self, stop_at: Instant) -> Result<(), TooLate> {
        let local: &Pacer = &self.space.pacer;
        let interval = local.interval();
        if interval.is_zero() || !self.shared || !self.deps.dedup.is_shared() {
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
