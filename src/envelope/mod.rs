//! Stage 1: find the Health events inside whatever envelope they arrived in.
//!
//! Accepted shapes (detected from the document, never from configuration):
//! - a Lambda SNS event: `Records[].Sns.Message` holds the EventBridge event as a JSON string;
//! - a Lambda SQS event: `Records[].body` holds an SNS notification or an EventBridge event;
//! - an SNS HTTP(S) notification body (`Type: Notification`, `Message`);
//! - an EventBridge event delivered directly (it has `detail`);
//! - a JSON array of any of the above (an EventBridge archive dump);
//! - a PutEvents input entry (`DetailType`, `Detail` as a string) or a whole PutEvents request
//!   (`Entries`), as found in AWS's own samples;
//! - a Lambda on-failure destination record (`requestContext`, `requestPayload`), as found in a
//!   dead-letter queue, so that `delibird redrive` can replay it;
//! - what the AWS CLI prints for the Health API: `aws health describe-event-details` (with
//!   `describe-affected-entities`' `entities` in the same document, joined by `eventArn`) and
//!   `aws health describe-events`, turned into EventBridge's shape ([`health_api`]);
//! - a bare `detail` object (`eventArn`, `eventTypeCode`, …), as a person copies it out of an
//!   event.
//!
//! One bad record never hides the others: each [`Record`] carries its own `Result`. Only input
//! that is not JSON at all, or holds no recognisable record, is an [`EnvelopeError`].
//! No I/O here.

use aws_lambda_events::event::sns::SnsMessage;
use aws_lambda_events::event::sqs::SqsMessage;
use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::json_numbers;
use crate::json_path::JsonPath;

pub mod health_api;

pub use health_api::{attach_entities, entities_only};

/// Nesting depth at which an envelope stops looking for events: an SQS body holding an SNS
/// notification holding an event is three deep; anything deeper is not a shape AWS delivers.
const MAX_NESTING: usize = 4;

/// How a record reached delibird: it decides how a failure is reported back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// An SNS record of a Lambda SNS event (Lambda retries the whole invocation on error).
    Sns,
    /// An SQS message of a Lambda SQS event (failed messages are reported one by one).
    Sqs,
    /// Anything else: an EventBridge event, an SNS HTTP notification, a file.
    Direct,
}

/// One Health event found in an envelope, or the reason the record that should hold one is unusable.
#[derive(Debug, Clone)]
pub struct Record {
    /// Where the record sits in the input, e.g. `Records[2].Sns.Message`.
    pub location: JsonPath,
    /// How the record arrived.
    pub transport: Transport,
    /// The transport's message id (SNS `MessageId`, SQS `messageId`), when there is one.
    pub message_id: Option<String>,
    /// The EventBridge-shaped event, or why this record holds none.
    pub event: Result<Value, RecordError>,
}

/// Why one record holds no Health event.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecordError {
    /// A string that should hold JSON does not.
    #[error("{location}: not JSON: {reason}")]
    NotJson {
        /// Where the string is.
        location: JsonPath,
        /// serde_json's description, with line and column.
        reason: String,
    },
    /// A transport record does not have the fields its kind requires.
    #[error("{location}: not a valid {kind} record: {reason}")]
    BadTransport {
        /// Where the record is.
        location: JsonPath,
        /// `SNS` or `SQS`.
        kind: &'static str,
        /// What is missing or wrong.
        reason: String,
    },
    /// JSON that is neither an event nor an envelope around one.
    #[error("{location}: not an AWS Health event (no `detail` object) nor an envelope holding one")]
    NotAnEvent {
        /// Where the value is.
        location: JsonPath,
    },
    /// An entry of describe-event-details' `failedSet`: an event AWS Health could not describe.
    #[error(
        "{location}: AWS Health could not describe {}: {}: {}",
        .event_arn.as_deref().unwrap_or("an event"),
        .error_name.as_deref().unwrap_or("error"),
        .message.as_deref().unwrap_or("no message")
    )]
    NotDescribed {
        /// Where the entry is.
        location: JsonPath,
        /// The event asked for.
        event_arn: Option<String>,
        /// The API's error name.
        error_name: Option<String>,
        /// The API's message.
        message: Option<String>,
    },
    /// Affected entities of an event the input does not describe.
    #[error(
        "{location}: affected entities of {event_arn}, an event this input does not describe: give \
         `aws health describe-event-details` for it too"
    )]
    UnmatchedEntities {
        /// Where the first of them is.
        location: JsonPath,
        /// Their event.
        event_arn: String,
    },
}

/// Input from which no record at all could be read.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// The bytes are not JSON.
    #[error("input is not JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    /// The JSON is neither an event nor any known envelope.
    #[error(
        "input holds no AWS Health event: expected an EventBridge event, an SNS or SQS Lambda event, \
         an SNS notification, an array of events, or what `aws health describe-event-details` prints"
    )]
    NoEvent,
    /// A known envelope with an empty record list.
    #[error("the envelope at {0} holds no records")]
    Empty(JsonPath),
    /// `aws health describe-affected-entities` output alone: entities are no event without the
    /// event's details.
    #[error(
        "input holds only affected entities (aws health describe-affected-entities): give them with their \
         event's details, as two files (delibird render details.json entities.json) or one document \
         (jq -s add details.json entities.json)"
    )]
    EntitiesOnly,
}

/// Reads JSON bytes and finds every record in them. See [`parse_value`].
pub fn parse(bytes: &[u8]) -> Result<Vec<Record>, EnvelopeError> {
    let value: Value = json_numbers::from_slice(bytes).map_err(EnvelopeError::NotJson)?;
    parse_value(&value)
}

/// Finds every record in an already parsed document, in input order.
pub fn parse_value(value: &Value) -> Result<Vec<Record>, EnvelopeError> {
    let root = JsonPath::root();
    let records = match value {
        Value::Array(items) if items.is_empty() => return Err(EnvelopeError::Empty(root)),
        Value::Array(items) => {
            items.iter().enumerate().flat_map(|(i, item)| records_in(item, root.index(i), None, 1)).collect()
        }
        Value::Object(object) if is_lambda_records(object) => lambda_records(object)?,
        Value::Object(object) if object.get("Entries").is_some_and(Value::is_array) => {
            let entries = object["Entries"].as_array().map(Vec::as_slice).unwrap_or_default();
            if entries.is_empty() {
                return Err(EnvelopeError::Empty(root.key("Entries")));
            }
            entries.iter().enumerate().flat_map(|(i, e)| records_in(e, root.key("Entries").index(i), None, 1)).collect()
        }
        Value::Object(_) if entities_only(value).is_some() => return Err(EnvelopeError::EntitiesOnly),
        Value::Object(object)
            if health_api::successful_set(object).is_some_and(<[Value]>::is_empty)
                && health_api::failed_set(object).is_empty() =>
        {
            return Err(EnvelopeError::Empty(root.key("successfulSet")));
        }
        Value::Object(_) => {
            let found = records_in(value, root, None, 0);
            if found.iter().all(|r| matches!(r.event, Err(RecordError::NotAnEvent { .. }))) {
                return Err(EnvelopeError::NoEvent);
            }
            found
        }
        _ => return Err(EnvelopeError::NoEvent),
    };
    Ok(records)
}

fn is_lambda_records(object: &Map<String, Value>) -> bool {
    object.get("Records").is_some_and(Value::is_array)
}

fn lambda_records(object: &Map<String, Value>) -> Result<Vec<Record>, EnvelopeError> {
    let location = JsonPath::root().key("Records");
    let items = object["Records"].as_array().map(Vec::as_slice).unwrap_or_default();
    if items.is_empty() {
        return Err(EnvelopeError::Empty(location));
    }
    Ok(items.iter().enumerate().flat_map(|(i, item)| lambda_record(item, location.index(i))).collect())
}

fn lambda_record(item: &Value, location: JsonPath) -> Vec<Record> {
    let source = item.get("EventSource").or_else(|| item.get("eventSource")).and_then(Value::as_str);
    let (transport, records) = match source {
        Some("aws:sns") => (Transport::Sns, sns_record(item, location)),
        Some("aws:sqs") => (Transport::Sqs, sqs_record(item, location)),
        _ if item.get("Sns").is_some() => (Transport::Sns, sns_record(item, location)),
        _ if item.get("body").is_some() => (Transport::Sqs, sqs_record(item, location)),
        _ => (Transport::Direct, records_in(item, location, None, 1)),
    };
    records.into_iter().map(|record| Record { transport, ..record }).collect()
}

fn sns_record(item: &Value, location: JsonPath) -> Vec<Record> {
    match LambdaSnsRecord::deserialize(item) {
        Ok(record) => {
            let message_id = Some(record.sns.message_id.into_owned());
            embedded(&record.sns.message, location.key("Sns").key("Message"), message_id, 1)
        }
        Err(reason) => vec![bad_transport(location, "SNS", reason.to_string())],
    }
}

/// An SNS record as SNS delivers it to Lambda, with the fields `aws_lambda_events`' `SnsRecord`
/// requires (so a record it would refuse is refused here too), borrowed from the parsed
/// envelope instead of copied: copying the message and the signature cost more than a small
/// event's validation. Unread fields are checked for presence and type only.
#[derive(Deserialize)]
#[serde(rename = "SnsRecord", rename_all = "PascalCase")]
#[expect(dead_code, reason = "fields read only to check the record's shape")]
struct LambdaSnsRecord<'a> {
    #[serde(borrow)]
    event_source: Cow<'a, str>,
    #[serde(borrow)]
    event_version: Cow<'a, str>,
    #[serde(borrow)]
    event_subscription_arn: Cow<'a, str>,
    #[serde(borrow)]
    sns: LambdaSnsMessage<'a>,
}

/// The `Sns` object of a [`LambdaSnsRecord`].
#[derive(Deserialize)]
#[serde(rename = "SnsMessage", rename_all = "PascalCase")]
#[expect(dead_code, reason = "fields read only to check the record's shape")]
struct LambdaSnsMessage<'a> {
    #[serde(rename = "Type")]
    #[serde(borrow)]
    message_type: Cow<'a, str>,
    #[serde(borrow)]
    message_id: Cow<'a, str>,
    #[serde(borrow)]
    topic_arn: Cow<'a, str>,
    timestamp: DateTime<Utc>,
    #[serde(borrow)]
    signature_version: Cow<'a, str>,
    #[serde(borrow)]
    signature: Cow<'a, str>,
    #[serde(alias = "SigningCertURL")]
    #[serde(borrow)]
    signing_cert_url: Cow<'a, str>,
    #[serde(alias = "UnsubscribeURL")]
    #[serde(borrow)]
    unsubscribe_url: Cow<'a, str>,
    #[serde(borrow)]
    message: Cow<'a, str>,
}

fn sqs_record(item: &Value, location: JsonPath) -> Vec<Record> {
    match SqsMessage::deserialize_from(item) {
        Ok(SqsMessage { body: Some(body), message_id, .. }) => embedded(&body, location.key("body"), message_id, 1),
        Ok(SqsMessage { message_id, .. }) => {
            vec![Record { message_id, ..bad_transport(location, "SQS", "missing field `body`".into()) }]
        }
        Err(reason) => {
            let message_id = item.get("messageId").and_then(Value::as_str).map(str::to_owned);
            vec![Record { message_id, ..bad_transport(location, "SQS", reason) }]
        }
    }
}

fn bad_transport(location: JsonPath, kind: &'static str, reason: String) -> Record {
    Record {
        location: location.clone(),
        transport: Transport::Direct,
        message_id: None,
        event: Err(RecordError::BadTransport { location, kind, reason }),
    }
}

/// A JSON document carried as a string inside a transport record.
fn embedded(text: &str, location: JsonPath, message_id: Option<String>, depth: usize) -> Vec<Record> {
    match json_numbers::from_str(text) {
        // The event itself, moved rather than cloned as `records_in` must: a 1,000-entity page
        // costs as much to clone as to parse.
        Ok(value) if value.get("detail").is_some() => {
            vec![Record { location, transport: Transport::Direct, message_id, event: Ok(value) }]
        }
        Ok(value) => records_in(&value, location, message_id, depth),
        Err(error) => vec![Record {
            location: location.clone(),
            transport: Transport::Direct,
            message_id,
            event: Err(RecordError::NotJson { location, reason: error.to_string() }),
        }],
    }
}

/// The records in one value that is not a Lambda `Records` list.
fn records_in(value: &Value, location: JsonPath, message_id: Option<String>, depth: usize) -> Vec<Record> {
    let not_an_event = |location: JsonPath, message_id| Record {
        location: location.clone(),
        transport: Transport::Direct,
        message_id,
        event: Err(RecordError::NotAnEvent { location }),
    };
    let Value::Object(object) = value else {
        return vec![not_an_event(location, message_id)];
    };
    let direct = Transport::Direct;
    if object.get("detail").is_some() {
        return vec![Record { location, transport: direct, message_id, event: Ok(value.clone()) }];
    }
    if depth >= MAX_NESTING {
        return vec![not_an_event(location, message_id)];
    }
    if let Some(payload) = object.get("requestPayload").filter(|_| object.contains_key("requestContext")) {
        // A Lambda on-failure destination record: the failed invocation's event, for redrive.
        return records_in(payload, location.key("requestPayload"), message_id, depth + 1);
    }
    if let Some(entry) = put_events_entry(object) {
        return match entry {
            Ok(event) => vec![Record { location, transport: direct, message_id, event: Ok(event) }],
            Err(reason) => vec![Record {
                location: location.key("Detail"),
                transport: direct,
                message_id,
                event: Err(RecordError::NotJson { location: location.key("Detail"), reason }),
            }],
        };
    }
    if object.get("Type").and_then(Value::as_str) == Some("Notification") {
        return match SnsMessage::deserialize_from(value) {
            Ok(notification) => embedded(
                &notification.message,
                location.key("Message"),
                message_id.or(Some(notification.message_id)),
                depth + 1,
            ),
            Err(reason) => vec![bad_transport(location, "SNS", reason)],
        };
    }
    if let Some(items) = health_api::successful_set(object) {
        return described(object, items, "successfulSet", &location);
    }
    if let Some(events) = health_api::events(object) {
        return described(object, events, "events", &location);
    }
    if object.get("eventArn").is_some_and(Value::is_string) && object.contains_key("eventTypeCode") {
        let event = serde_json::json!({"version": "0", "detail-type": "AWS Health Event", "source": "aws.health",
                                       "detail": value});
        return vec![Record { location, transport: direct, message_id, event: Ok(event) }];
    }
    if is_lambda_records(object) {
        return match lambda_records(object) {
            Ok(records) => records
                .into_iter()
                .map(|mut record| {
                    record.location = prefixed(&location, &record.location);
                    record
                })
                .collect(),
            Err(_) => vec![not_an_event(location, message_id)],
        };
    }
    vec![not_an_event(location, message_id)]
}

/// The events of Health API output (`items`, under `key`: `successfulSet` or `events`), each with
/// its entities, then one record for each event AWS could not describe and for each event whose
/// entities came without it.
fn described(object: &Map<String, Value>, items: &[Value], key: &str, location: &JsonPath) -> Vec<Record> {
    let entities = health_api::entities(object);
    let record = |location: JsonPath, event: Result<Value, RecordError>| Record {
        location,
        transport: Transport::Direct,
        message_id: None,
        event,
    };
    let mut records: Vec<Record> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = location.key(key).index(i);
            let event =
                health_api::event(item, entities).ok_or_else(|| RecordError::NotAnEvent { location: at.clone() });
            record(at, event)
        })
        .collect();
    for (i, failed) in health_api::failed_set(object).iter().enumerate() {
        let at = location.key("failedSet").index(i);
        let text = |name: &str| failed.get(name).and_then(Value::as_str).map(str::to_owned);
        let error = RecordError::NotDescribed {
            location: at.clone(),
            event_arn: text("eventArn"),
            error_name: text("errorName"),
            message: text("errorMessage"),
        };
        records.push(record(at, Err(error)));
    }
    let described: Vec<&str> =
        items.iter().filter_map(|item| item.get("event").unwrap_or(item).get("arn").and_then(Value::as_str)).collect();
    let mut unmatched: Vec<&str> = Vec::new();
    for (i, entity) in entities.iter().enumerate() {
        let arn = health_api::entity_arn(entity).unwrap_or("no eventArn");
        if !described.contains(&arn) && !unmatched.contains(&arn) {
            unmatched.push(arn);
            let at = location.key("entities").index(i);
            let error = RecordError::UnmatchedEntities { location: at.clone(), event_arn: arn.to_owned() };
            records.push(record(at, Err(error)));
        }
    }
    records
}

fn prefixed(prefix: &JsonPath, path: &JsonPath) -> JsonPath {
    path.segments().iter().fold(prefix.clone(), |acc, segment| match segment {
        crate::json_path::Segment::Key(key) => acc.key(key),
        crate::json_path::Segment::Index(index) => acc.index(*index),
    })
}

/// A PutEvents input entry turned into the event EventBridge would deliver for it.
fn put_events_entry(object: &Map<String, Value>) -> Option<Result<Value, String>> {
    let detail = object.get("Detail")?.as_str()?;
    let detail: Value = match json_numbers::from_str(detail) {
        Ok(detail) => detail,
        Err(error) => return Some(Err(error.to_string())),
    };
    let mut event = Map::new();
    event.insert("detail".into(), detail);
    for (from, to) in
        [("DetailType", "detail-type"), ("Source", "source"), ("Time", "time"), ("Resources", "resources")]
    {
        if let Some(value) = object.get(from) {
            event.insert(to.into(), value.clone());
        }
    }
    Some(Ok(Value::Object(event)))
}

/// Typed transport records read from a borrowed `Value`, with serde's message as the error.
trait DeserializeFrom: Sized {
    fn deserialize_from(value: &Value) -> Result<Self, String>;
}

impl<T: serde::de::DeserializeOwned> DeserializeFrom for T {
    fn deserialize_from(value: &Value) -> Result<Self, String> {
        T::deserialize(value).map_err(|error| error.to_string())
    }
}

/// A Lambda SQS event carrying `events`, one message each, as the queue-mode event source mapping
/// delivers them (each body the SNS notification the topic wrote to the queue): for the demo,
/// tests and other handlers' tests.
pub fn sqs_event<'a>(events: impl IntoIterator<Item = &'a Value>, topic_arn: &str) -> Value {
    let records: Vec<Value> = events
        .into_iter()
        .enumerate()
        .map(|(i, event)| {
            let notification = serde_json::json!({
                "Type": "Notification",
                "MessageId": format!("00000000-0000-4000-9000-{i:012}"),
                "TopicArn": topic_arn,
                "Message": event.to_string(),
                "Timestamp": "2026-01-01T00:00:00.000Z",
                "SignatureVersion": "1",
                "Signature": "EXAMPLE",
                "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-EXAMPLE.pem",
                "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"
            });
            serde_json::json!({
                "messageId": format!("00000000-0000-4000-a000-{i:012}"),
                "receiptHandle": format!("receipt-{i}"),
                "body": notification.to_string(),
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:999988887777:delibird-deliveries",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    serde_json::json!({ "Records": records })
}

/// A Lambda SNS event carrying `events`, one record each, as SNS delivers them to Lambda: for the
/// demo, tests and other handlers' tests.
pub fn sns_event<'a>(events: impl IntoIterator<Item = &'a Value>, topic_arn: &str) -> Value {
    let records: Vec<Value> = events
        .into_iter()
        .enumerate()
        .map(|(i, event)| {
            serde_json::json!({
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": format!("{topic_arn}:delibird"),
                "Sns": {
                    "Type": "Notification",
                    "MessageId": format!("00000000-0000-4000-8000-{i:012}"),
                    "TopicArn": topic_arn,
                    "Subject": null,
                    "Message": event.to_string(),
                    "Timestamp": "2026-01-01T00:00:00.000Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-EXAMPLE.pem",
                    "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {}
                }
            })
        })
        .collect();
    serde_json::json!({ "Records": records })
}
