//! One record through the pipeline — the one path every record takes, whether or not rules
//! route: validate (or salvage, for a degraded card) → identify the notification update → find
//! its spaces (routing rules read the event's view; without rules, the one space) → claim it in
//! each space's dedup record (a duplicate stops there) → enrich → render once → deliver to each
//! space, concurrently, paced to its rate → confirm each claim, or release it when delivery
//! failed. One JSON log line per record.

use std::time::SystemTime;

use tokio::time::Instant;

use super::outcome::{Outcome, Posting, Sent};
use crate::accounts::{EnrichedEvent, enrich};
use crate::card;
use crate::channel::Channel;
use crate::dedup::{CLAIM_LEASE, Claim, DedupStore, Identity, Notification, Store, identify};
use crate::deps::Deps;
use crate::envelope::Record;
use crate::health::{self, Checked};
use crate::logging::chain;
use crate::rules;
use crate::spaces::Space;
use crate::webhook::deliver;

/// Validation errors a log line lists (with the count of the rest), and about how many characters
/// it gives them: the card and the dead-letter queue keep the event itself.
const LOGGED_ERRORS: usize = 20;
const LOGGED_ERRORS_CHARS: usize = 2_000;

/// Where a record is, for its log line.
struct At<'a> {
    location: String,
    message_id: &'a str,
}

/// One record through the pipeline, logged as one line.
pub async fn process(record: &Record, deps: &Deps, deadline: Instant) -> Outcome {
    let at = At { location: record.location.to_string(), message_id: record.message_id.as_deref().unwrap_or("") };
    let (location, message_id) = (at.location.as_str(), at.message_id);
    let raw = match &record.event {
        Ok(raw) => raw,
        Err(error) => {
            tracing::error!(location, message_id, outcome = "not_an_event", error = %error, "record failed");
            return Outcome::Unusable(error.clone());
        }
    };
    let Checked { event, problems } = health::check(raw);
    let notification = match identify(&event, deps.folding) {
        Identity::Post(notification) => notification,
        Identity::FoldedPage => {
            let page = event.page.map(|p| p.number).unwrap_or_default();
            tracing::info!(location, message_id, outcome = "folded_page", event_arn = %event.arn, page, "record folded");
            return Outcome::Folded;
        }
    };
    // The account is looked up before routing only when a rule reads it; else after the claims,
    // so that duplicates cost no lookup.
    let looked_up = deps.spaces.reads_accounts();
    let enriched = if looked_up { enrich(event, &deps.directory()).await } else { EnrichedEvent::bare(event) };
    let route = deps.spaces.route(|| rules::view(raw, &enriched, problems.is_some(), &deps.card));
    let rules = route.rules.as_ref().map(|names| names.iter().map(|name| (*name).to_owned()).collect::<Vec<_>>());
    let unmatched = rules.is_some().then_some(route.unmatched);
    let named = Named { arn: enriched.event.arn.to_string(), type_code: enriched.event.type_code.clone() };
    if route.spaces.is_empty() {
        tracing::info!(
            location, message_id, outcome = "dropped", event_arn = named.arn, event_type = named.type_code,
            notification = %notification.id(), rules = rules.as_deref().map(|r| r.join(",")), unmatched,
            "record dropped"
        );
        return Outcome::Dropped { rules: rules.unwrap_or_default() };
    }

    let claims = claim(&route.spaces, &notification, &deps.dedup, &at).await;
    let postings: Vec<Posting> = if claims.iter().all(|(_, _, claimed)| claimed.is_none()) {
        claims.iter().map(|_| Posting::Duplicate).collect()
    } else {
        let enriched = if looked_up { enriched } else { enrich(enriched.event, &deps.directory()).await };
        let card = card::render(&enriched, problems.as_ref(), &deps.card);
        let body = deps.channel.encode(&card);
        let body = &body;
        futures::future::join_all(claims.iter().map(|(space, notification, claimed)| async move {
            let Some(claimed) = claimed else { return Posting::Duplicate };
            let result =
                deliver(&deps.client, &deps.channel, &space.url, body, &deps.retry, &space.pacer, deadline).await;
            if *claimed {
                settle(&deps.dedup, notification, result.is_ok()).await;
            }
            match result {
                Ok(delivery) => Posting::Posted(delivery),
                Err(error) => Posting::Undelivered(error),
            }
        }))
        .await
    };
    let sent: Vec<Sent> =
        claims.iter().zip(postings).map(|((space, ..), posting)| Sent { space: space.name.clone(), posting }).collect();
    let outcome = Outcome::Sent { rules, problems, sent };
    log_sent(&at, &named, &notification, unmatched, &outcome);
    outcome
}

/// What a record's log line names its event by.
struct Named {
    arn: String,
    type_code: String,
}

/// Each space's claim on its update: `Some(true)` to post holding a claim, `Some(false)` to post
/// without one (the store is down: availability over deduplication, a store outage may cost a
/// duplicate, never a card), `None` for a duplicate.
async fn claim<'a>(
    spaces: &[&'a Space],
    notification: &Notification,
    store: &Store,
    at: &At<'_>,
) -> Vec<(&'a Space, Notification, Option<bool>)> {
    let now = SystemTime::now();
    futures::future::join_all(spaces.iter().map(|space| async move {
        let notification = space.notification(notification);
        let claimed = match store.claim(&notification, now, CLAIM_LEASE).await {
            Ok(Claim::Claimed) => Some(true),
            Ok(Claim::Delivered | Claim::InFlight) => None,
            Err(error) => {
                tracing::warn!(
                    location = at.location, message_id = at.message_id, webhook = %space.name, error = chain(&error),
                    "dedup store unavailable; posting without it"
                );
                Some(false)
            }
        };
        (*space, notification, claimed)
    }))
    .await
}

/// Confirms a delivered claim or releases a failed one; a store error here is logged, not fatal:
/// at worst a later copy posts the update again.
async fn settle(store: &Store, notification: &Notification, delivered: bool) {
    let result = if delivered {
        store.confirm(notification, SystemTime::now()).await
    } else {
        store.release(notification).await
    };
    if let Err(error) = result {
        tracing::warn!(notification = %notification.id(), error = chain(&error), "dedup store could not record the outcome");
    }
}

/// The one log line of a record sent to its spaces: posted (`record posted`), all duplicates
/// (`record skipped`) or some space not delivered (`record failed`, an error).
fn log_sent(at: &At<'_>, event: &Named, notification: &Notification, unmatched: Option<bool>, outcome: &Outcome) {
    let Outcome::Sent { rules, problems, sent } = outcome else { return };
    let names = |wanted: fn(&Posting) -> bool| {
        let names: Vec<&str> = sent.iter().filter(|s| wanted(&s.posting)).map(|s| s.space.as_str()).collect();
        (!names.is_empty()).then(|| names.join(","))
    };
    let posted = names(|p| matches!(p, Posting::Posted(_)));
    let duplicate = names(|p| matches!(p, Posting::Duplicate));
    let failed = names(|p| matches!(p, Posting::Undelivered(_)));
    let attempts: u32 = sent
        .iter()
        .map(|s| match &s.posting {
            Posting::Posted(delivery) => delivery.attempts,
            Posting::Undelivered(error) => error.attempts(),
            Posting::Duplicate => 0,
        })
        .sum();
    let errors: Vec<String> = sent
        .iter()
        .filter_map(|s| match &s.posting {
            Posting::Undelivered(error) if sent.len() == 1 => Some(chain(error)),
            Posting::Undelivered(error) => Some(format!("{}: {}", s.space, chain(error))),
            Posting::Posted(_) | Posting::Duplicate => None,
        })
        .collect();
    let (outcome, message) = match (&failed, &posted) {
        (Some(_), _) => ("undelivered", "record failed"),
        (None, Some(_)) if problems.is_some() => ("posted_degraded", "record posted"),
        (None, Some(_)) => ("posted", "record posted"),
        (None, None) => ("duplicate", "record skipped"),
    };
    let webhooks = sent.iter().map(|s| s.space.as_str()).collect::<Vec<_>>().join(",");
    let validation_errors = problems.as_ref().map(|p| p.summary(LOGGED_ERRORS, LOGGED_ERRORS_CHARS));
    let rules = rules.as_ref().map(|rules| rules.join(","));
    let error = (!errors.is_empty()).then(|| errors.join("; "));
    macro_rules! line {
        ($level:ident) => {
            tracing::$level!(
                location = at.location,
                message_id = at.message_id,
                outcome,
                event_arn = event.arn,
                event_type = event.type_code,
                notification = %notification.id(),
                rules,
                unmatched,
                webhooks,
                posted,
                duplicate,
                failed,
                attempts,
                error,
                validation_errors,
                "{message}"
            )
        };
    }
    if failed.is_some() {
        line!(error);
    } else {
        line!(info);
    }
}
