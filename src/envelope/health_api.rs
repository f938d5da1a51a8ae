//! What the AWS CLI prints for the AWS Health API, turned into the events EventBridge would have
//! delivered, so that a person can render, preview or query an event they looked up:
//!
//! - `aws health describe-event-details` (and `…-for-organization`):
//!   `{"successfulSet": [{"event": {…}, "eventDescription": {"latestDescription": …},
//!   "eventMetadata": {…}}], "failedSet": [{"eventArn", "errorName", "errorMessage"}]}`;
//! - `aws health describe-events`: `{"events": [{…}]}`, events without their description;
//! - either with `aws health describe-affected-entities`' `"entities": [{"eventArn",
//!   "entityValue", "entityArn", "awsAccountId", "lastUpdatedTime", "statusCode", "tags"}]` in the
//!   same document (`jq -s add details.json entities.json`), each entity joined to its event by
//!   `eventArn` (the command line also joins separate files: [`attach_entities`]).
//!
//! The API's names become EventBridge's (`arn` → `detail.eventArn`, `region` →
//! `detail.eventRegion`, an entity's `statusCode` → `status`), its times (epoch seconds from the
//! AWS CLI v1, ISO 8601 from v2) EventBridge's `Sat, 30 Nov 2019 01:00:00 GMT`, and `awsAccountId`
//! the affected account. `availabilityZone` has no EventBridge field and is left out. No I/O here.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// The language of `latestDescription`: the API's only locale is English.
const LANGUAGE: &str = "en_US";

/// Event fields with the same name in the API and in EventBridge's `detail`.
const SAME_NAMES: &[&str] =
    &["service", "eventTypeCode", "eventTypeCategory", "eventScopeCode", "statusCode", "actionability", "personas"];

/// API times and their EventBridge names.
const TIMES: &[&str] = &["startTime", "endTime", "lastUpdatedTime"];

/// The `successfulSet` of describe-event-details output, when `object` is one.
pub(super) fn successful_set(object: &Map<String, Value>) -> Option<&[Value]> {
    object.get("successfulSet")?.as_array().map(Vec::as_slice)
}

/// The `failedSet` of describe-event-details output (empty when there is none).
pub(super) fn failed_set(object: &Map<String, Value>) -> &[Value] {
    object.get("failedSet").and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// The `events` of describe-events output, when `object` is one.
pub(super) fn events(object: &Map<String, Value>) -> Option<&[Value]> {
    let events = object.get("events")?.as_array()?;
    events.iter().all(|event| event.get("arn").is_some()).then_some(events.as_slice())
}

/// The `entities` of describe-affected-entities output held in `object`.
pub(super) fn entities(object: &Map<String, Value>) -> &[Value] {
    object.get("entities").and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// The entities when `value` is describe-affected-entities output and nothing else: they need
/// the details of their events to make events.
pub fn entities_only(value: &Value) -> Option<&[Value]> {
    let object = value.as_object()?;
    let only = object.contains_key("entities") && successful_set(object).is_none() && events(object).is_none();
    only.then(|| entities(object))
}

/// Adds to `details` (describe-event-details or describe-events output) each of `entities` whose
/// `eventArn` is an event it describes, under `entities`; returns those that belong to none of its
/// events. Anything else is left as it is and every entity returned.
pub fn attach_entities(details: &mut Value, entities: Vec<Value>) -> Vec<Value> {
    let Some(object) = details.as_object_mut() else { return entities };
    let described: Vec<String> = match (successful_set(object), events(object)) {
        (Some(items), _) => items.iter().filter_map(|item| arn(item.get("event")?)).collect(),
        (None, Some(events)) => events.iter().filter_map(arn).collect(),
        (None, None) => return entities,
    };
    let (mine, rest): (Vec<Value>, Vec<Value>) =
        entities.into_iter().partition(|entity| entity_arn(entity).is_some_and(|a| described.iter().any(|d| d == a)));
    if !mine.is_empty() {
        let list = object.entry("entities").or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = list {
            list.extend(mine);
        }
    }
    rest
}

fn arn(event: &Value) -> Option<String> {
    event.get("arn").and_then(Value::as_str).map(str::to_owned)
}

/// The event an entity belongs to.
pub(super) fn entity_arn(entity: &Value) -> Option<&str> {
    entity.get("eventArn").and_then(Value::as_str)
}

/// The EventBridge event for one item of `successfulSet` (or one of `events`: `item` is then the
/// event itself), with the entities of `entities` that belong to it; `None` when it holds no
/// event.
pub(super) fn event(item: &Value, entities: &[Value]) -> Option<Value> {
    let (event, description, metadata) = match item.get("event") {
        Some(event) => (event.as_object()?, item.get("eventDescription"), item.get("eventMetadata")),
        None => (item.as_object()?, None, None),
    };
    let event_arn = event.get("arn").and_then(Value::as_str);
    let mine: Vec<&Value> =
        entities.iter().filter(|entity| event_arn.is_some() && entity_arn(entity) == event_arn).collect();

    let mut detail = Map::new();
    if let Some(arn) = event.get("arn") {
        detail.insert("eventArn".into(), arn.clone());
    }
    for name in SAME_NAMES {
        if let Some(value) = event.get(*name) {
            detail.insert((*name).into(), value.clone());
        }
    }
    if let Some(region) = event.get("region") {
        detail.insert("eventRegion".into(), region.clone());
    }
    for name in TIMES {
        if let Some(time) = event.get(*name) {
            detail.insert((*name).into(), health_time(time));
        }
    }
    if let Some(text) = description.and_then(|d| d.get("latestDescription")) {
        detail.insert("eventDescription".into(), json!([{"language": LANGUAGE, "latestDescription": text}]));
    }
    if let Some(metadata) = metadata.filter(|m| m.as_object().is_some_and(|m| !m.is_empty())) {
        detail.insert("eventMetadata".into(), metadata.clone());
    }
    if !mine.is_empty() {
        detail.insert("affectedEntities".into(), Value::Array(mine.iter().map(|e| entity(e)).collect()));
    }
    let account = item.get("awsAccountId").and_then(Value::as_str).or_else(|| one_account(&mine));
    if let Some(account) = account {
        detail.insert("affectedAccount".into(), json!(account));
    }

    let mut envelope = Map::new();
    envelope.insert("version".into(), json!("0"));
    let abuse = event.get("eventTypeCode").and_then(Value::as_str).is_some_and(|code| code.starts_with("AWS_ABUSE_"));
    envelope.insert("detail-type".into(), json!(if abuse { "AWS Health Abuse Event" } else { "AWS Health Event" }));
    envelope.insert("source".into(), json!("aws.health"));
    if let Some(account) = account {
        envelope.insert("account".into(), json!(account));
    }
    if let Some(at) = ["lastUpdatedTime", "startTime"].iter().find_map(|name| event.get(*name).and_then(instant)) {
        envelope.insert("time".into(), json!(at.format("%Y-%m-%dT%H:%M:%SZ").to_string()));
    }
    if let Some(region) = event.get("region") {
        envelope.insert("region".into(), region.clone());
    }
    let resources: Vec<Value> = mine.iter().filter_map(|e| e.get("entityValue").cloned()).collect();
    envelope.insert("resources".into(), Value::Array(resources));
    envelope.insert("detail".into(), Value::Object(detail));
    Some(Value::Object(envelope))
}

/// A Health API entity as EventBridge lists it in `detail.affectedEntities`.
fn entity(entity: &Value) -> Value {
    let mut shown = Map::new();
    for (from, to) in
        [("entityValue", "entityValue"), ("entityArn", "entityArn"), ("statusCode", "status"), ("tags", "tags")]
    {
        if let Some(value) = entity.get(from).filter(|value| !value.is_null()) {
            shown.insert(to.into(), value.clone());
        }
    }
    if let Some(time) = entity.get("lastUpdatedTime") {
        shown.insert("lastUpdatedTime".into(), health_time(time));
    }
    Value::Object(shown)
}

/// The one account every entity is in, when they agree on one.
fn one_account<'a>(entities: &[&'a Value]) -> Option<&'a str> {
    let mut accounts = entities.iter().filter_map(|e| e.get("awsAccountId").and_then(Value::as_str));
    let first = accounts.next()?;
    accounts.all(|other| other == first).then_some(first)
}

/// An API time (epoch seconds, or ISO 8601 text) as EventBridge writes Health times; anything
/// else as it came, for validation to report.
fn health_time(time: &Value) -> Value {
    instant(time).map_or_else(|| time.clone(), |at| json!(at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()))
}

fn instant(time: &Value) -> Option<DateTime<Utc>> {
    match time {
        Value::Number(seconds) => {
            let seconds = seconds.as_f64()?;
            let whole = seconds.floor();
            // Whole seconds: the millisecond the AWS CLI prints is below what Health shows.
            DateTime::from_timestamp(whole as i64, 0).filter(|_| whole.is_finite())
        }
        Value::String(text) => DateTime::parse_from_rfc3339(text.trim()).ok().map(|at| at.with_timezone(&Utc)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_come_in_both_aws_cli_forms_and_leave_in_eventbridges() {
        assert_eq!(health_time(&json!(1587462325.096)), json!("Tue, 21 Apr 2020 09:45:25 GMT"));
        assert_eq!(health_time(&json!("2020-04-21T02:45:25.096000-07:00")), json!("Tue, 21 Apr 2020 09:45:25 GMT"));
        assert_eq!(health_time(&json!("yesterday")), json!("yesterday"));
    }

    #[test]
    fn entities_join_the_event_they_name_and_the_rest_are_returned() {
        let mut details = json!({"successfulSet": [{"event": {"arn": "arn:a"}}], "failedSet": []});
        let left = attach_entities(&mut details, vec![json!({"eventArn": "arn:a"}), json!({"eventArn": "arn:b"})]);
        assert_eq!(left, [json!({"eventArn": "arn:b"})]);
        assert_eq!(details["entities"], json!([{"eventArn": "arn:a"}]));
        assert_eq!(attach_entities(&mut json!({"detail": {}}), vec![json!({})]).len(), 1);
    }

    #[test]
    fn an_entity_keeps_eventbridges_names_and_its_account_is_the_events() {
        let item = json!({"event": {"arn": "arn:a", "eventTypeCode": "AWS_ABUSE_DOS_REPORT", "availabilityZone": "x"}});
        let entities = [json!({"eventArn": "arn:a", "entityValue": "i-1", "statusCode": "IMPAIRED",
                               "awsAccountId": "111122223333", "lastUpdatedTime": 1588356454.08, "entityUrl": "u"})];
        let event = event(&item, &entities).unwrap();
        assert_eq!(event["detail-type"], "AWS Health Abuse Event");
        assert_eq!(event["account"], "111122223333");
        assert_eq!(event["resources"], json!(["i-1"]));
        assert_eq!(
            event["detail"]["affectedEntities"],
            json!([{"entityValue": "i-1", "status": "IMPAIRED", "lastUpdatedTime": "Fri, 01 May 2020 18:07:34 GMT"}])
        );
        assert!(event["detail"].get("availabilityZone").is_none());
    }
}
