//! A scheduled tick: the collector's EventBridge Scheduler schedule invokes the function every
//! 15 minutes with `{"delibird": "tick", "scheduledTime": "…"}`, and the tick posts what is due
//! at that time — each reminder in its event's thread, each space's digest — from the events
//! earlier invocations kept in the store ([`crate::schedule`]).
//!
//! Each item is posted exactly once, claimed like any notification: the reminder leases its
//! event's thread (so it never races the event's own update), checks on the leased state that it
//! is still due and not posted, posts with a request id of its own (a repeat returns the message
//! it made), and records that it was posted before giving the lease back. A digest claims its
//! space's `digest` thread the same way, and records the day it was posted for.
//!
//! "Now" is the tick's `scheduledTime`: a late or retried tick still posts what was due then,
//! and tests run simulated days through the real function by choosing it.
//!
//! A digest whose moment passed more than [`DIGEST_LATE`] before the tick is skipped: a 09:00
//! digest read at 15:00 is still today's overview, one read in the evening is not; the next
//! day's comes at its time.

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde::Serialize;
use serde_json::Value;
use tokio::time::Instant;

use super::Invocation;
use super::thread::{SharedPace, bounded, lease, release};
use crate::channel::Channel;
use crate::dedup::{DedupStore, Seen, ThreadId, ThreadState};
use crate::deps::Deps;
use crate::fingerprint::fnv1a;
use crate::logging::chain;
use crate::schedule::{DIGEST_THREAD, Digest, Tracked, digest, reminders};
use crate::spaces::Space;
use crate::webhook::{Post, deliver};

/// How late a digest may still be posted after its moment.
pub const DIGEST_LATE: chrono::Duration = chrono::Duration::hours(6);

/// Items posted at once (each waits its space's turn).
const ITEMS_IN_FLIGHT: usize = 8;

/// The member of a space's digest thread that records the last day posted.
const DIGEST_DAY: &str = "day";

/// The time a tick payload is for: `None` when `payload` is not a tick, `Some(Err)` when it is
/// one whose `scheduledTime` is missing or not an ISO 8601 time.
pub fn tick_time(payload: &Value) -> Option<Result<DateTime<Utc>, TickError>> {
    if payload.get("delibird")?.as_str()? != "tick" {
        return None;
    }
    let time = payload.get("scheduledTime").and_then(Value::as_str);
    Some(
        time.and_then(|time| DateTime::parse_from_rfc3339(time).ok())
            .map(|at| at.with_timezone(&Utc))
            .ok_or_else(|| TickError::Time(time.map(str::to_owned))),
    )
}

/// A tick that cannot be acted on.
#[derive(Debug, thiserror::Error)]
pub enum TickError {
    /// Its `scheduledTime` is missing or not a time.
    #[error(
        "a tick's scheduledTime must be an ISO 8601 time (2026-12-01T09:00:00Z), found {}; the collector's schedule sends <aws.scheduler.scheduled-time>",
        .0.as_deref().map_or_else(|| "none".to_owned(), |t| format!("{t:?}"))
    )]
    Time(Option<String>),
}

/// What one tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TickSummary {
    /// Events kept in the store that were looked at.
    pub tracked: usize,
    /// Reminders posted.
    pub reminders: usize,
    /// Digests posted.
    pub digests: usize,
    /// Items another invocation held the thread of: the next tick posts them.
    pub held: usize,
    /// Items that could not be posted or recorded (the store or the webhook failed).
    pub failed: usize,
}

/// One item's end.
enum Done {
    Posted,
    Nothing,
    Held,
    Failed,
}

/// What is due at `now`, posted: every reminder, then every space's digest.
pub async fn tick(now: DateTime<Utc>, deps: &Deps, at: &Invocation) -> TickSummary {
    let mut summary = TickSummary::default();
    if !deps.schedule.is_on() {
        return summary;
    }
    let budget = at.stop_starting.saturating_duration_since(Instant::now());
    let listed = match tokio::time::timeout(budget, deps.dedup.tracked()).await {
        Ok(Ok(listed)) => listed,
        Ok(Err(error)) => {
            tracing::error!(error = chain(&error), "the tick could not list the events the store keeps");
            summary.failed += 1;
            return summary;
        }
        Err(_) => {
            tracing::error!("the tick's listing of the store did not finish in time");
            summary.failed += 1;
            return summary;
        }
    };
    summary.tracked = listed.len();
    let space_of = |name: &str| deps.spaces.iter().find(|space| space.name == name);

    let due: Vec<(&ThreadId, &Space)> = listed
        .iter()
        .filter(|(_, tracked)| reminders::due(tracked, &deps.schedule.reminders, None, now).is_some())
        .filter_map(|(thread, _)| match space_of(&thread.space) {
            Some(space) => Some((thread, space)),
            None => {
                tracing::warn!(space = %thread.space, thread = %thread.key, "a reminder is due in a space the rules no longer name; not posted");
                None
            }
        })
        .collect();
    let mut waiting = due.into_iter();
    let mut posting = FuturesUnordered::new();
    loop {
        while posting.len() < ITEMS_IN_FLIGHT
            && let Some((thread, space)) = waiting.next()
        {
            posting.push(remind(thread, space, now, deps, at));
        }
        match posting.next().await {
            Some(Done::Posted) => summary.reminders += 1,
            Some(Done::Nothing) => {}
            Some(Done::Held) => summary.held += 1,
            Some(Done::Failed) => summary.failed += 1,
            None => break,
        }
    }

    if let Some(digest_at) = deps.schedule.digest {
        let (day, moment) = digest_at.last_due(now);
        if now - moment <= DIGEST_LATE {
            let mut posting = FuturesUnordered::new();
            for space in deps.spaces.iter() {
                let events: Vec<&Tracked> =
                    listed.iter().filter(|(thread, _)| thread.space == space.name).map(|(_, t)| t).collect();
                posting.push(post_digest(space, events, day, now, deps, at));
            }
            while let Some(done) = posting.next().await {
                match done {
                    Done::Posted => summary.digests += 1,
                    Done::Nothing => {}
                    Done::Held => summary.held += 1,
                    Done::Failed => summary.failed += 1,
                }
            }
        }
    }
    summary
}

/// The reminder due in `thread`, posted there once.
async fn remind(thread: &ThreadId, space: &Space, now: DateTime<Utc>, deps: &Deps, at: &Invocation) -> Done {
    let said = claimed(thread, deps, at, |state| {
        // Checked again on the leased state: another tick may have posted it meanwhile.
        let tracked = state.tracked.as_ref()?;
        let reminder = reminders::due(tracked, &deps.schedule.reminders, None, now)?;
        let card = reminders::card(tracked, &reminder);
        let request_id = id(&[&space.name, &thread.key, "reminder", &reminder.offset]);
        let record: Record = Box::new(move |state: &mut ThreadState| {
            if let Some(tracked) = state.tracked.as_mut() {
                tracked.reminded.extend(reminder.settles);
            }
        });
        Some(Say::Card(card, request_id, record))
    });
    match said.await {
        Some(Done::Posted) => {
            tracing::info!(space = %space.name, thread = %thread.key, "reminder posted");
            Done::Posted
        }
        Some(done) => done,
        None => Done::Nothing,
    }
}

/// `space`'s digest of `events` for `day`, posted once.
async fn post_digest(
    space: &Space,
    events: Vec<&Tracked>,
    day: chrono::NaiveDate,
    now: DateTime<Utc>,
    deps: &Deps,
    at: &Invocation,
) -> Done {
    let Some(digest_at) = deps.schedule.digest else { return Done::Nothing };
    let thread = space.thread(DIGEST_THREAD);
    let day_text = day.format("%Y-%m-%d").to_string();
    let said = claimed(&thread, deps, at, |state| {
        if state.members.get(DIGEST_DAY).is_some_and(|seen| seen.fingerprint == day_text) {
            return None;
        }
        let digest = Digest::of(events.iter().copied(), now);
        let mark = {
            let day_text = day_text.clone();
            Box::new(move |state: &mut ThreadState| {
                state.members.insert(DIGEST_DAY.to_owned(), Seen { fingerprint: day_text, updated: None });
            }) as Record
        };
        if digest.is_empty() && !deps.schedule.empty_digest {
            return Some(Say::Quiet(mark));
        }
        let card = digest::card(&digest, &space.name, day, digest_at.zone.name(), now);
        let request_id = id(&[&space.name, DIGEST_THREAD, &day_text]);
        Some(Say::Card(card, request_id, mark))
    });
    match said.await {
        Some(Done::Posted) => {
            tracing::info!(space = %space.name, day = %day_text, "digest posted");
            Done::Posted
        }
        Some(done) => done,
        None => Done::Nothing,
    }
}

/// What to note in the thread's state once the item is posted.
type Record = Box<dyn FnOnce(&mut ThreadState) + Send>;

/// What a claimed thread is to say.
enum Say {
    /// A card, its request id, and what to record once it is posted.
    Card(crate::card::Card, String, Record),
    /// Nothing to post; record that all the same (a quiet day's digest).
    Quiet(Record),
}

/// Leases `thread`, asks `decide` on its leased state what to say (`None`: nothing, the lease is
/// given back), posts it, records it and commits. `None` when there was nothing to say.
async fn claimed(
    thread: &ThreadId,
    deps: &Deps,
    at: &Invocation,
    decide: impl FnOnce(&ThreadState) -> Option<Say>,
) -> Option<Done> {
    if Instant::now() >= at.stop_starting {
        return Some(Done::Held);
    }
    let store = &deps.dedup;
    // A release that fails is logged there, and the lease runs out by itself.
    let mut store_errors = 0;
    let mut state = match lease(store, thread, at).await {
        Ok(Some(state)) => state,
        Ok(None) => return Some(Done::Held),
        Err(error) => {
            // Without the claim another container could post it too: the next tick tries again.
            tracing::error!(thread = %thread.key, error = chain(&error), "the store could not claim a due item; the next tick tries again");
            return Some(Done::Failed);
        }
    };
    let Some(say) = decide(&state) else {
        release(store, thread, at, &mut store_errors).await;
        return None;
    };
    let record = match say {
        Say::Quiet(record) => record,
        Say::Card(card, request_id, record) => {
            let Some(space) = deps.spaces.iter().find(|space| space.name == thread.space) else {
                release(store, thread, at, &mut store_errors).await;
                return Some(Done::Nothing);
            };
            let body = deps.channel.encode(&card);
            let pace = SharedPace { deps, space, shared: true };
            let post = Post { url: &space.url, body: &body, request_id: &request_id };
            if let Err(error) = deliver(&deps.client, &deps.channel, &post, &deps.retry, &pace, at.deadline).await {
                tracing::error!(space = %space.name, thread = %thread.key, error = chain(&error), "a due item was not delivered; the next tick tries again");
                release(store, thread, at, &mut store_errors).await;
                return Some(Done::Failed);
            }
            state.posted += 1;
            record(&mut state);
            return Some(commit(store, thread, at, &state, Done::Posted).await);
        }
    };
    record(&mut state);
    Some(commit(store, thread, at, &state, Done::Nothing).await)
}

/// Records what the thread now says; a failure is logged (the lease runs out, and a later tick
/// posts again with the same request id, which returns the message already made).
async fn commit(
    store: &crate::dedup::Store,
    thread: &ThreadId,
    at: &Invocation,
    state: &ThreadState,
    done: Done,
) -> Done {
    match bounded(at, store.commit(thread, &at.holder, state, SystemTime::now())).await {
        Ok(()) => done,
        Err(error) => {
            tracing::error!(thread = %thread.key, error = chain(&error), "the store could not record a posted item");
            Done::Failed
        }
    }
}

/// A request id made of `parts`: the same item, posted again, has the same one.
fn id(parts: &[&str]) -> String {
    format!("delibird-{:016x}", fnv1a(parts.join("\n").as_bytes()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_tick_is_told_from_other_payloads_and_its_time_is_read() {
        let at = tick_time(&json!({"delibird": "tick", "scheduledTime": "2026-12-01T09:00:00Z"}));
        assert_eq!(at.unwrap().unwrap().to_rfc3339(), "2026-12-01T09:00:00+00:00");
        assert!(tick_time(&json!({"Records": []})).is_none(), "an SNS or SQS event is not a tick");
        assert!(tick_time(&json!({"delibird": "other"})).is_none());
        assert!(tick_time(&json!("tick")).is_none());
    }

    #[test]
    fn a_tick_without_a_time_says_what_it_needs() {
        let missing = tick_time(&json!({"delibird": "tick"})).unwrap().unwrap_err().to_string();
        assert!(missing.contains("found none") && missing.contains("aws.scheduler.scheduled-time"), "{missing}");
        let bad = tick_time(&json!({"delibird": "tick", "scheduledTime": "soon"})).unwrap().unwrap_err().to_string();
        assert!(bad.contains(r#"found "soon""#), "{bad}");
    }
}
