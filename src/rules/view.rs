//! The JSON view of an event that rules and queries read: the event as EventBridge delivered it
//! (`detail.service`, `detail-type`, `region`, …), plus what delibird knows about it under
//! `delibird.` — one field per [`Fact`], the same list the rule language checks names against
//! ([`super::schema`]) — built here and nowhere else. No I/O here.
//!
//! | field | value |
//! |---|---|
//! | `delibird.severity` | `critical`, `high`, `warning` or `info`: the card's severity; for a resolved event, the severity it had while open (its card is `info`), so that its resolution goes where it went |
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

use super::schema::{AccountFact, Fact};
use crate::accounts::{AccountInfo, EnrichedEvent};
use crate::card::{CardSettings, Severity, assess_as_open, event_title};
use crate::health::{AccountId, EventTime};

/// The view of `raw` (the event as it came), `enriched` (it, validated or salvaged, with account
/// names) and whether it failed validation (`degraded`, which raises severity to at least
/// warning, as on the card).
pub fn view(raw: &Value, enriched: &EnrichedEvent, degraded: bool, card: &CardSettings) -> Value {
    let event = &enriched.event;
    let time = |time: &Option<EventTime>| {
        time.as_ref().and_then(EventTime::at).map(|at| json!(at.format("%Y-%m-%dT%H:%M:%SZ").to_string()))
    };
    let mut delibird = Map::new();
    for fact in Fact::ALL {
        let value = match fact {
            Fact::Severity => {
                let description = event.description(&card.language).map(|d| d.text.as_str());
                let mut severity = assess_as_open(event, description, &card.severity);
                if degraded {
                    severity = severity.max(Severity::Warning);
                }
                Some(json!(severity.label().to_lowercase()))
            }
            Fact::Account => event.affected_account().map(|id| account(id, enriched.accounts.get(id))),
            Fact::Title => Some(json!(event_title(event))),
            Fact::Valid => Some(json!(!degraded)),
            Fact::StartTime => time(&event.start),
            Fact::EndTime => time(&event.end),
            Fact::LastUpdatedTime => time(&event.last_updated),
        };
        if let Some(value) = value {
            delibird.insert(fact.name().into(), value);
        }
    }
    let mut view = match raw {
        Value::Object(object) => object.clone(),
        _ => Map::new(),
    };
    view.insert("delibird".into(), Value::Object(delibird));
    Value::Object(view)
}

/// `delibird.account`: the id, and what the directory knows of it.
fn account(id: &AccountId, info: Option<&AccountInfo>) -> Value {
    let mut account = Map::new();
    for fact in AccountFact::ALL {
        let value = match (fact, info) {
            (AccountFact::Id, _) => Some(json!(id.as_str())),
            (_, None) => None,
            (AccountFact::Name, Some(info)) => Some(json!(info.name)),
            (AccountFact::Ou, Some(info)) => (!info.ou_path.is_empty()).then(|| json!(info.ou_path.join(" / "))),
            (AccountFact::Tags, Some(info)) => {
                Some(Value::Object(info.tags.iter().map(|(k, v)| (k.clone(), json!(v))).collect()))
            }
        };
        if let Some(value) = value {
            account.insert(fact.name().into(), value);
        }
    }
    Value::Object(account)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::rules::schema::{Shape, shape_of};

    /// The keys of an object, sorted (as a JSON object keeps them).
    fn names(value: &Value) -> Vec<String> {
        value.as_object().unwrap().keys().cloned().collect()
    }

    /// The view of an event that has every time, an affected account with a name, an OU and a
    /// tag: every fact delibird knows is there.
    fn full_view() -> Value {
        let raw = json!({"detail": {
            "eventArn": "arn:aws:health:us-east-1::event/EC2/AWS_EC2_OPERATIONAL_ISSUE/X", "service": "EC2",
            "eventTypeCode": "AWS_EC2_OPERATIONAL_ISSUE", "eventTypeCategory": "issue",
            "affectedAccount": "111122223333", "startTime": "Sat, 30 Nov 2019 01:00:00 GMT",
            "endTime": "Sat, 30 Nov 2019 02:00:00 GMT", "lastUpdatedTime": "Sat, 30 Nov 2019 02:00:00 GMT",
            "eventDescription": [{"language": "en_US", "latestDescription": "x"}]}});
        let event = crate::health::validate(&raw).unwrap();
        let id = AccountId::parse("111122223333").unwrap();
        let info = AccountInfo {
            name: "payments-prod".into(),
            ou_path: vec!["Production".into()],
            tags: vec![("Owner".into(), "team".into())],
        };
        let enriched = EnrichedEvent { event, accounts: BTreeMap::from([(id, info)]) };
        view(&raw, &enriched, false, &CardSettings::default())
    }

    #[test]
    fn the_view_holds_exactly_the_facts_the_schema_names() {
        let view = full_view();
        let sorted = |names: &mut dyn Iterator<Item = &str>| {
            let mut names: Vec<String> = names.map(str::to_owned).collect();
            names.sort();
            names
        };
        assert_eq!(names(&view["delibird"]), sorted(&mut Fact::ALL.iter().map(|fact| fact.name())));
        assert_eq!(names(&view["delibird"]["account"]), sorted(&mut AccountFact::ALL.iter().map(|fact| fact.name())));
        assert_eq!(view["delibird"]["startTime"], "2019-11-30T01:00:00Z");
        assert_eq!(view["delibird"]["account"]["tags"]["Owner"], "team");
    }

    #[test]
    fn every_field_of_the_view_is_one_the_checks_accept() {
        fn walk(value: &Value, path: &mut Vec<String>) {
            let Value::Object(object) = value else { return };
            for (key, inner) in object {
                path.push(key.clone());
                let shape = shape_of(path).unwrap_or_else(|e| panic!("{}: {e:?}", path.join(".")));
                if !matches!(shape, Shape::Open) {
                    walk(inner, path);
                }
                path.pop();
            }
        }
        walk(&full_view(), &mut Vec::new());
    }
}
