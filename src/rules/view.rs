//! The JSON view of an event that rules and queries read: the event as EventBridge delivered it
//! (`detail.service`, `detail-type`, `region`, …), plus what delibird knows about it under
//! `delibird.`, built here and nowhere else. No I/O here.
//!
//! | field | value |
//! |---|---|
//! | `delibird.severity` | `critical`, `high`, `warning` or `info`: the card's severity |
//! | `delibird.account.id` | the affected account (`detail.affectedAccount`, else `account`) |
//! | `delibird.account.name` | its name (`DELIBIRD_ACCOUNT_ALIASES` or AWS Organizations) |
//! | `delibird.account.ou` | its OU path from the root, `Production / Payments` (Organizations) |
//! | `delibird.account.tags.KEY` | its tags named in `DELIBIRD_ACCOUNT_TAGS` (Organizations) |
//! | `delibird.title` | the card's title, e.g. `EC2 instance retirement scheduled` |
//! | `delibird.valid` | `false` when the event failed validation (a degraded card) |
//! | `delibird.startTime`, `delibird.endTime`, `delibird.lastUpdatedTime` | ISO-8601 UTC (`2023-01-27T06:02:51Z`), when the event's date could be read |
//!
//! Whatever the event itself holds under `delibird` is replaced: an event cannot choose its own
//! severity or account name.

use serde_json::{Map, Value, json};

use crate::accounts::EnrichedEvent;
use crate::card::{CardSettings, Severity, assess, event_title};
use crate::health::EventTime;

/// The view of `raw` (the event as it came), `enriched` (it, validated or salvaged, with account
/// names) and whether it failed validation (`degraded`, which raises severity to at least
/// warning, as on the card).
pub fn view(raw: &Value, enriched: &EnrichedEvent, degraded: bool, card: &CardSettings) -> Value {
    let event = &enriched.event;
    let description = event.description(&card.language).map(|d| d.text.as_str());
    let mut severity = assess(event, description, &card.severity);
    if degraded {
        severity = severity.max(Severity::Warning);
    }
    let mut delibird = Map::new();
    delibird.insert("severity".into(), json!(severity.label().to_lowercase()));
    if let Some(id) = event.affected_account() {
        let mut account = Map::new();
        account.insert("id".into(), json!(id.as_str()));
        if let Some(info) = enriched.accounts.get(id) {
            account.insert("name".into(), json!(info.name));
            if !info.ou_path.is_empty() {
                account.insert("ou".into(), json!(info.ou_path.join(" / ")));
            }
            let tags: Map<String, Value> = info.tags.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            account.insert("tags".into(), Value::Object(tags));
        }
        delibird.insert("account".into(), Value::Object(account));
    }
    delibird.insert("title".into(), json!(event_title(event)));
    delibird.insert("valid".into(), json!(!degraded));
    for (name, time) in [("startTime", &event.start), ("endTime", &event.end), ("lastUpdatedTime", &event.last_updated)]
    {
        if let Some(at) = time.as_ref().and_then(EventTime::at) {
            delibird.insert(name.into(), json!(at.format("%Y-%m-%dT%H:%M:%SZ").to_string()));
        }
    }
    let mut view = match raw {
        Value::Object(object) => object.clone(),
        _ => Map::new(),
    };
    view.insert("delibird".into(), Value::Object(delibird));
    Value::Object(view)
}
