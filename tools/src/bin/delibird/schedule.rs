//! `delibird reminders` and `delibird digest`: what the Lambda's tick would post, from the events
//! given rather than from a store. The events are taken as announced long before (every
//! reminder moment counts) and nothing as reminded yet; an event given several times (updates,
//! accounts) is one notification, as a roll-up's thread keeps it. Both print webhook bodies as
//! JSON Lines, like `render`, so `preview` shows them and Google's validator checks them.

use std::io::Write;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use delibird::card::rollup_key;
use delibird::chat;
use delibird::config::{Config, Webhook};
use delibird::rules::DEFAULT_WEBHOOK;
use delibird::schedule::{self, Tracked, reminders};

use crate::Status;
use crate::query::{usage, views};

/// Prints the reminder bodies due in (`since`, `now`].
pub async fn reminders(files: &[PathBuf], since: DateTime<Utc>, now: DateTime<Utc>) -> Status {
    let Some((config, mut status, tracked)) = tracked(files).await else { return Status::Unusable };
    if config.schedule.reminders.is_empty() {
        eprintln!("delibird: reminders: DELIBIRD_REMINDERS is blank, so no reminder is ever due");
    }
    let due = schedule::due_reminders(&tracked, &config.schedule, Some(since), now);
    let bodies = due.iter().map(|(tracked, reminder)| line(&reminders::card(tracked, reminder)));
    if print(bodies).is_err() {
        status = status.max(Status::Unusable);
    }
    status
}

/// Prints each space's digest body as of `now`: one space (`default`) without rules, else each
/// webhook the rules send events to, by name.
pub async fn digest(files: &[PathBuf], now: DateTime<Utc>, rules: Option<&str>) -> Status {
    let config = match Config::from_env(Webhook::Ignored) {
        Ok(config) => config,
        Err(error) => return usage(&error.to_string()),
    };
    if config.schedule.digest.is_none() {
        return usage("digest: DELIBIRD_DIGEST_AT is blank, so no digest is ever posted; unset it for 09:00");
    }
    let rule_set = match rules {
        Some(rules) => match crate::route::load(rules, &config).await {
            Ok(rule_set) => Some(rule_set),
            Err(status) => return status,
        },
        None => None,
    };
    let mut status = Status::Ok;
    let viewed = views(files, &config, &mut status).await;
    // Each space's events, in the order the spaces were first named, each with whether a
    // `digest_only` rule sent it there.
    let mut spaces: Vec<(String, Vec<(&delibird::accounts::EnrichedEvent, bool)>)> = Vec::new();
    for viewed in &viewed {
        let names: Vec<(String, bool)> = match &rule_set {
            Some(rule_set) => {
                let matched = rule_set.route(&viewed.view);
                matched.webhooks.iter().map(|name| ((*name).to_owned(), matched.digest_only.contains(name))).collect()
            }
            None => vec![(DEFAULT_WEBHOOK.to_owned(), false)],
        };
        for (name, quiet) in names {
            match spaces.iter_mut().find(|(space, _)| *space == name) {
                Some((_, events)) => events.push((&viewed.enriched, quiet)),
                None => spaces.push((name, vec![(&viewed.enriched, quiet)])),
            }
        }
    }
    if spaces.is_empty() && config.schedule.empty_digest {
        spaces.push((DEFAULT_WEBHOOK.to_owned(), Vec::new()));
    }
    let bodies = spaces.iter().filter_map(|(space, events)| {
        let mut tracked = schedule::track(events.iter().map(|(event, _)| *event), &config.card);
        // Kept for this digest just now, as the Lambda keeps them between two digests.
        for (event, _) in events.iter().filter(|(_, quiet)| *quiet) {
            let thread = rollup_key(&event.event);
            if let Some(kept) = tracked.iter_mut().find(|t| t.thread == thread) {
                kept.digest_only = true;
                kept.last_posted = now.timestamp();
            }
        }
        schedule::digest_card(&tracked, space, &config.schedule, now).map(|card| line(&card))
    });
    if print(bodies).is_err() {
        status = status.max(Status::Unusable);
    }
    status
}

/// The configuration, the status reading left, and the notifications the events make.
async fn tracked(files: &[PathBuf]) -> Option<(Config, Status, Vec<Tracked>)> {
    let config = match Config::from_env(Webhook::Ignored) {
        Ok(config) => config,
        Err(error) => {
            usage(&error.to_string());
            return None;
        }
    };
    let mut status = Status::Ok;
    let viewed = views(files, &config, &mut status).await;
    let tracked = schedule::track(viewed.iter().map(|viewed| &viewed.enriched), &config.card);
    Some((config, status, tracked))
}

/// Writes each body (a JSON line) on its own line.
fn print(bodies: impl Iterator<Item = String>) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    bodies.into_iter().try_for_each(|body| writeln!(out, "{body}"))
}

/// A card's webhook body, as one line of JSON.
fn line(card: &delibird::card::Card) -> String {
    serde_json::to_string(&chat::render(card)).expect("a Message always serializes")
}
