//! After delivery: what delibird says without a new event — reminders before scheduled changes,
//! in the event's own thread, and each space's daily digest. A scheduled tick (the collector's
//! EventBridge Scheduler schedule, every 15 minutes) asks what is due; the handler posts each due
//! item once, claimed in the dedup store like any notification ([`crate::handler`]). This module
//! is the pure part: what is kept per notification ([`Tracked`]), when each item is due, and its
//! card. The command line runs the same logic on the events it is given ([`track`]).

pub mod digest;
pub mod reminders;
mod settings;
mod tracked;

use chrono::{DateTime, Utc};

use crate::accounts::EnrichedEvent;
use crate::card::{CardSettings, rollup_key};
pub use digest::{DIGEST_CARD_ID, Digest};
pub use reminders::{REMINDER_CARD_ID, Reminder};
pub use settings::{DigestAt, DigestAtError, Offset, OffsetError, ScheduleSettings, parse_offsets};
pub use tracked::{AccountPart, Tracked};

/// The thread key of a digest in its space: one thread per day.
pub const DIGEST_THREAD: &str = "digest";

/// The notifications `events` make, as a store would keep them after posting each in turn: one
/// per event (its accounts' copies together, as a roll-up's thread keeps them), in the order
/// first seen. For the command line, which has no store: nothing has been reminded, and every
/// moment counts (the cards are taken as posted long before).
pub fn track<'a>(events: impl IntoIterator<Item = &'a EnrichedEvent>, settings: &CardSettings) -> Vec<Tracked> {
    let mut tracked: Vec<Tracked> = Vec::new();
    let long_ago = DateTime::<Utc>::UNIX_EPOCH;
    for event in events {
        let thread = rollup_key(&event.event);
        match tracked.iter_mut().find(|t| t.thread == thread) {
            Some(known) => known.absorb(event, settings, long_ago),
            None => tracked.push(Tracked::new(event, &thread, settings, long_ago)),
        }
    }
    tracked
}

/// The reminder due for each of `tracked` in (`since`, `now`], with its card.
pub fn due_reminders<'t>(
    tracked: &'t [Tracked],
    schedule: &ScheduleSettings,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Vec<(&'t Tracked, Reminder)> {
    tracked.iter().filter_map(|t| Some((t, reminders::due(t, &schedule.reminders, since, now)?))).collect()
}

/// The digest card of `space` as of `now`, or `None` on a day with nothing to say (unless
/// configured to post one all the same) or without a digest time.
pub fn digest_card<'t>(
    tracked: impl IntoIterator<Item = &'t Tracked>,
    space: &str,
    schedule: &ScheduleSettings,
    now: DateTime<Utc>,
) -> Option<crate::card::Card> {
    let at = schedule.digest?;
    let digest = Digest::of(tracked, now);
    if digest.is_empty() && !schedule.empty_digest {
        return None;
    }
    Some(digest::card(&digest, space, at.day(now), at.zone.name(), now))
}
