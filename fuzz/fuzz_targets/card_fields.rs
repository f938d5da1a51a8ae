//! The renderer on events that are valid JSON and mostly valid Health events, with any field
//! replaced by any text, number or JSON type: real fixtures edited by structured input
//! (`arbitrary`), so the fuzzer spends its time in validation and rendering rather than in JSON
//! syntax. Account names are fuzzed too (AWS Organizations account names are set by whoever
//! creates the account). Same checks as `card_render`.
#![no_main]

mod pipeline;

use arbitrary::Arbitrary;
use delibird::accounts::StaticAliases;
use delibird::health::AccountId;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

const BASES: &[&str] = &[
    include_str!(
        "../../tests/fixtures/health-events/awsdocs-ec2-instance-retirement-scheduled-metadata-actionability.json"
    ),
    include_str!(
        "../../tests/fixtures/health-events/aws-health-tools-ec2-instance-store-drive-degraded-with-tags.json"
    ),
    include_str!("../../tests/fixtures/health-events/awsdocs-public-ec2-operational-issue-af-south-1.json"),
    include_str!("../../tests/fixtures/health-events/awsdocs-lambda-planned-lifecycle-multi-entities-page1-of-10.json"),
    include_str!("../../tests/fixtures/health-events/seed-project-health104.json"),
    include_str!("../../tests/fixtures/health-events/aws-health-tools-risk-credentials-exposed.json"),
];

#[derive(Debug, Arbitrary)]
struct Input {
    base: u8,
    edits: Vec<Edit>,
    names: Vec<(u64, String)>,
}

#[derive(Debug, Arbitrary)]
enum Edit {
    Text(Field, String),
    Json(Field, Scalar),
    Entity { value: String, status: String, updated: String, tags: Vec<(String, String)> },
    Description { language: String, text: String },
    Metadata(String, String),
    Extra(String, Scalar),
    Resource(String),
    Persona(String),
    EntityField { index: u8, key: EntityKey, value: Scalar },
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum Field {
    Id,
    DetailType,
    Source,
    Account,
    Time,
    Region,
    EventArn,
    Service,
    EventTypeCode,
    EventTypeCategory,
    EventScopeCode,
    CommunicationId,
    StartTime,
    EndTime,
    LastUpdatedTime,
    StatusCode,
    EventRegion,
    AffectedAccount,
    Page,
    TotalPages,
    BackupEvent,
    Actionability,
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum EntityKey {
    EntityValue,
    Status,
    StatusCode,
    LastUpdatedTime,
    Tags,
}

#[derive(Debug, Arbitrary)]
enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Unsigned(u64),
    Float(f64),
    Text(String),
    Array(Vec<String>),
    Object(Vec<(String, String)>),
}

impl Scalar {
    fn json(self) -> Value {
        match self {
            Self::Null => Value::Null,
            Self::Bool(flag) => json!(flag),
            Self::Int(n) => json!(n),
            Self::Unsigned(n) => json!(n),
            Self::Float(x) => serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number),
            Self::Text(text) => json!(text),
            Self::Array(items) => json!(items),
            Self::Object(members) => Value::Object(members.into_iter().map(|(k, v)| (k, json!(v))).collect()),
        }
    }
}

impl Field {
    /// (in `detail`?, key)
    fn place(self) -> (bool, &'static str) {
        match self {
            Self::Id => (false, "id"),
            Self::DetailType => (false, "detail-type"),
            Self::Source => (false, "source"),
            Self::Account => (false, "account"),
            Self::Time => (false, "time"),
            Self::Region => (false, "region"),
            Self::EventArn => (true, "eventArn"),
            Self::Service => (true, "service"),
            Self::EventTypeCode => (true, "eventTypeCode"),
            Self::EventTypeCategory => (true, "eventTypeCategory"),
            Self::EventScopeCode => (true, "eventScopeCode"),
            Self::CommunicationId => (true, "communicationId"),
            Self::StartTime => (true, "startTime"),
            Self::EndTime => (true, "endTime"),
            Self::LastUpdatedTime => (true, "lastUpdatedTime"),
            Self::StatusCode => (true, "statusCode"),
            Self::EventRegion => (true, "eventRegion"),
            Self::AffectedAccount => (true, "affectedAccount"),
            Self::Page => (true, "page"),
            Self::TotalPages => (true, "totalPages"),
            Self::BackupEvent => (true, "backupEvent"),
            Self::Actionability => (true, "actionability"),
        }
    }
}

fn base(index: u8) -> Value {
    let text = BASES[usize::from(index) % BASES.len()];
    let records = delibird::envelope::parse(text.as_bytes()).expect("the fixtures parse");
    records.into_iter().find_map(|record| record.event.ok()).expect("each fixture holds an event")
}

fn array<'a>(detail: &'a mut Map<String, Value>, key: &str) -> &'a mut Vec<Value> {
    let slot = detail.entry(key).or_insert_with(|| json!([]));
    if !slot.is_array() {
        *slot = json!([]);
    }
    slot.as_array_mut().expect("just made an array")
}

fn apply(event: &mut Value, edit: Edit) {
    let Some(top) = event.as_object_mut() else { return };
    let set = |top: &mut Map<String, Value>, field: Field, value: Value| {
        let (in_detail, key) = field.place();
        if in_detail {
            if let Some(detail) = top.get_mut("detail").and_then(Value::as_object_mut) {
                detail.insert(key.to_owned(), value);
            }
        } else {
            top.insert(key.to_owned(), value);
        }
    };
    match edit {
        Edit::Text(field, text) => set(top, field, json!(text)),
        Edit::Json(field, value) => set(top, field, value.json()),
        Edit::Resource(text) => {
            let slot = top.entry("resources").or_insert_with(|| json!([]));
            if let Some(items) = slot.as_array_mut() {
                items.push(json!(text));
            }
        }
        edit => {
            let Some(detail) = top.get_mut("detail").and_then(Value::as_object_mut) else { return };
            match edit {
                Edit::Entity { value, status, updated, tags } => {
                    let tags: Map<String, Value> = tags.into_iter().map(|(k, v)| (k, json!(v))).collect();
                    array(detail, "affectedEntities").push(
                        json!({"entityValue": value, "status": status, "lastUpdatedTime": updated, "tags": tags}),
                    );
                }
                Edit::Description { language, text } => {
                    array(detail, "eventDescription")
                        .insert(0, json!({"language": language, "latestDescription": text}));
                }
                Edit::Metadata(key, value) => {
                    let slot = detail.entry("eventMetadata").or_insert_with(|| json!({}));
                    if let Some(metadata) = slot.as_object_mut() {
                        metadata.insert(key, json!(value));
                    }
                }
                Edit::Extra(key, value) => {
                    detail.insert(key, value.json());
                }
                Edit::Persona(text) => array(detail, "personas").push(json!(text)),
                Edit::EntityField { index, key, value } => {
                    let entities = array(detail, "affectedEntities");
                    let count = entities.len();
                    if let Some(entity) =
                        entities.get_mut(usize::from(index) % count.max(1)).and_then(Value::as_object_mut)
                    {
                        let key = match key {
                            EntityKey::EntityValue => "entityValue",
                            EntityKey::Status => "status",
                            EntityKey::StatusCode => "statusCode",
                            EntityKey::LastUpdatedTime => "lastUpdatedTime",
                            EntityKey::Tags => "tags",
                        };
                        entity.insert(key.to_owned(), value.json());
                    }
                }
                Edit::Text(..) | Edit::Json(..) | Edit::Resource(_) => {}
            }
        }
    }
}

fuzz_target!(|input: Input| {
    let mut event = base(input.base);
    for edit in input.edits {
        apply(&mut event, edit);
    }
    let mut aliases: Vec<(AccountId, String)> = pipeline::hostile_aliases_list();
    for (id, name) in input.names {
        if let Some(id) = AccountId::parse(&format!("{:012}", id % 1_000_000_000_000)) {
            aliases.push((id, name));
        }
    }
    let aliases: StaticAliases = aliases.into_iter().collect();
    pipeline::check_and_render(&event, &aliases);
});
