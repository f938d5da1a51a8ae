//! Properties that hold for every event, not only the fixtures:
//!
//! - rendering is total: any event, however malformed, huge or hostile, checked, salvaged and
//!   enriched as the handler does it, becomes a card Google accepts, with every piece of event
//!   text escaped, and with a visible "+N more" wherever something was cut;
//! - validation reports exactly the fields that are wrong, each once, by its JSON path;
//! - salvage never fails and keeps exactly what was valid.
//!
//! Failing cases are saved in `proptest-regressions/properties.txt` and re-run first.

use std::collections::{BTreeMap, BTreeSet};

use delibird::accounts::{EnrichedEvent, StaticAliases, enrich};
use delibird::card::{CardSettings, Severity};
use delibird::chat::limits::MAX_THREAD_KEY_CHARS;
use delibird::chat::{self, BUDGETS};
use delibird::health::{self, AccountId, Checked, HealthEvent, Page, UNKNOWN_TYPE_CODE, ValidationErrors};
use futures::executor::block_on;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{FileFailurePersistence, TestCaseError};
use serde_json::{Map, Value, json};

use crate::support::chat_schema::assert_message_accepted;

/// Where failing cases are kept, relative to the package root (cargo's working directory for
/// tests), so that they are committed and re-run first.
const REGRESSIONS: &str = "proptest-regressions/properties.txt";

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Event text
// ---------------------------------------------------------------------------------------------

/// Text that breaks careless renderers: markup and entities (raw and pre-escaped), controls and
/// NUL, direction overrides, zero-width and joined characters, emoji, right-to-left and Korean
/// text, escaped newlines, and values that look like the ones delibird treats specially.
const HOSTILE: &[&str] = &[
    "<script>alert(1)</script>",
    "<a href=\"javascript:x\">click</a>",
    "javascript:alert(1)",
    "<b>",
    "</b>",
    "<font color=\"#00FF00\">",
    "</font>",
    "<br>",
    "<i>+3 more</i>",
    "&amp;",
    "&lt;script&gt;",
    "&#60;a&#62;",
    "&",
    "<",
    ">",
    "\"",
    "'",
    "\\",
    "\\n",
    "\\r\\n",
    "\n",
    "\r\n",
    "\t",
    "\u{0}",
    "\u{7}",
    "\u{1b}[31m",
    "\u{7f}",
    "\u{85}",
    "\u{202E}",
    "\u{2067}",
    "\u{200F}",
    "\u{061C}",
    "\u{200B}",
    "\u{200D}",
    "\u{FEFF}",
    "👩\u{200D}💻",
    "🚨🔥",
    "🇰🇷",
    "한국어 설명",
    "مرحبا بالعالم",
    "שלום",
    "e\u{301}",
    " ",
    "   ",
    "EC2",
    "AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED",
    "i-0123456789abcdef0",
    "111122223333",
    "arn:aws:health:us-east-1::event/EC2/X/Y",
];

/// Account ids the generated events use, so that aliases match some of them.
const ACCOUNTS: &[&str] = &["111122223333", "444455556666", "123456789012", "000000000000"];
const REGIONS: &[&str] = &["us-east-1", "us-west-2", "ap-southeast-2", "af-south-1", "global"];
/// The partitions delibird links into (`src/partition.rs`).
const PARTITIONS: &[&str] = &["aws", "aws-us-gov", "aws-cn"];
const SERVICES: &[&str] = &["EC2", "RDS", "LAMBDA", "ABUSE", "RISK", "MULTIPLE_SERVICES"];
const DETAIL_TYPES: &[&str] = &["AWS Health Event", "AWS Health Abuse Event"];
const CATEGORIES: &[&str] = &["issue", "accountNotification", "scheduledChange", "investigation", "plannedChange"];
const SCOPES: &[&str] = &["PUBLIC", "ACCOUNT_SPECIFIC", "NONE"];
const STATUSES: &[&str] = &["open", "closed", "upcoming"];
const ENTITY_STATUSES: &[&str] = &["IMPAIRED", "UNIMPAIRED", "PENDING", "RESOLVED", "UNKNOWN", "UPCOMING"];
const ACTIONABILITIES: &[&str] = &["ACTION_REQUIRED", "ACTION_MAY_BE_REQUIRED", "INFORMATIONAL"];
const PERSONAS: &[&str] = &["OPERATIONS", "SECURITY", "BILLING"];
const LANGUAGES: &[&str] = &["en_US", "ko_KR", "ja_JP", ""];
const WEEKDAYS: &[&str] = &["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: &[&str] = &["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// A short piece of event text: a hostile snippet, arbitrary characters, or a plain word.
fn fragment() -> BoxedStrategy<String> {
    prop_oneof![
        3 => select(HOSTILE).prop_map(str::to_owned),
        2 => vec(any::<char>(), 0..12).prop_map(String::from_iter),
        2 => "[A-Za-z0-9_ -]{0,12}",
    ]
    .boxed()
}

/// A few fragments.
fn short_text() -> BoxedStrategy<String> {
    vec(fragment(), 0..6).prop_map(|parts| parts.concat()).boxed()
}

/// A few fragments repeated to up to ~100 KB.
fn huge_text() -> BoxedStrategy<String> {
    (vec(fragment(), 1..4), 1usize..=100_000).prop_map(|(parts, bytes)| repeat_to(&parts.concat(), bytes)).boxed()
}

/// Any event text: usually short, rarely huge (huge text is slow to render in debug builds).
fn text() -> BoxedStrategy<String> {
    prop_oneof![40 => short_text(), 1 => huge_text()].boxed()
}

fn repeat_to(unit: &str, bytes: usize) -> String {
    if unit.is_empty() { String::new() } else { unit.repeat(bytes.div_ceil(unit.len())) }
}

/// A known value of an open enumeration, or any text.
fn open_text(known: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![3 => select(known).prop_map(str::to_owned), 1 => text()].boxed()
}

/// An account id from [`ACCOUNTS`], another 12-digit id, or any text.
fn account_text() -> BoxedStrategy<String> {
    prop_oneof![4 => select(ACCOUNTS).prop_map(str::to_owned), 1 => "[0-9]{12}", 1 => text()].boxed()
}

/// A 12-digit account id.
fn account_id() -> BoxedStrategy<String> {
    prop_oneof![select(ACCOUNTS).prop_map(str::to_owned), "[0-9]{12}"].boxed()
}

/// Health's date format (with impossible dates too), ISO-8601, empty, or any text.
fn time_text() -> BoxedStrategy<String> {
    let health = (select(WEEKDAYS), 1u32..=31, select(MONTHS), 1970i32..2100, 0u32..24, 0u32..60, 0u32..60).prop_map(
        |(weekday, day, month, year, h, m, s)| format!("{weekday}, {day} {month} {year} {h:02}:{m:02}:{s:02} GMT"),
    );
    let iso = (1970i32..2100, 1u32..=12, 1u32..=28, 0u32..24, 0u32..60, 0u32..60)
        .prop_map(|(year, month, day, h, m, s)| format!("{year}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z"));
    prop_oneof![3 => health, 1 => iso, 1 => Just(String::new()), 1 => text()].boxed()
}

/// A real-looking ARN, any text, or any text after `arn:` (which gets a link button when it names
/// a partition delibird knows).
fn arn_text() -> BoxedStrategy<String> {
    let real = (select(REGIONS), select(SERVICES), "[A-Z0-9_]{1,30}", "[A-Za-z0-9_]{1,20}")
        .prop_map(|(region, service, code, id)| format!("arn:aws:health:{region}::event/{service}/{code}/{id}"));
    // Any text in each partition's ARN, so that every dashboard's link is built from hostile text.
    let partitioned = (select(PARTITIONS), text()).prop_map(|(p, t)| format!("arn:{p}:{t}"));
    prop_oneof![3 => real, 1 => text(), 1 => text().prop_map(|t| format!("arn:{t}")), 1 => partitioned].boxed()
}

/// A `page`/`totalPages` as AWS sends it (a string), as a number, padded, or any text.
fn count_value() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => (1u32..30).prop_map(|n| Value::String(n.to_string())),
        1 => (1u32..30).prop_map(Value::from),
        1 => (1u32..30).prop_map(|n| Value::String(format!(" {n} "))),
        1 => text().prop_map(Value::String),
    ]
    .boxed()
}

/// A `backupEvent` as AWS sends it, as a JSON boolean, or any text.
fn flag_value() -> BoxedStrategy<Value> {
    prop_oneof![
        2 => select(&["true", "false", "TRUE", "False", ""][..]).prop_map(|s| Value::String(s.to_owned())),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => text().prop_map(Value::String),
    ]
    .boxed()
}

fn string(text: BoxedStrategy<String>) -> BoxedStrategy<Value> {
    text.prop_map(Value::String).boxed()
}

/// Any JSON at all, for fields of the wrong type.
fn wild() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        short_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map(short_text(), inner, 0..4).prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
    .boxed()
}

/// Usually a value from `typed`, sometimes any JSON.
fn mostly(typed: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    prop_oneof![15 => typed, 1 => wild()].boxed()
}

/// An object member of an arbitrary event: absent, `null`, well typed, or any JSON.
fn member(typed: BoxedStrategy<Value>) -> BoxedStrategy<Option<Value>> {
    prop_oneof![3 => Just(None), 1 => Just(Some(Value::Null)), 12 => mostly(typed).prop_map(Some)].boxed()
}

/// An object member of a valid event: absent, `null`, or well typed.
fn optional(typed: BoxedStrategy<Value>) -> BoxedStrategy<Option<Value>> {
    prop_oneof![2 => Just(None), 1 => Just(Some(Value::Null)), 6 => typed.prop_map(Some)].boxed()
}

/// An object from its members; absent members are left out.
fn object<'a>(members: impl IntoIterator<Item = (&'a str, Option<Value>)>) -> Value {
    let map: Map<String, Value> =
        members.into_iter().filter_map(|(key, value)| value.map(|value| (key.to_owned(), value))).collect();
    Value::Object(map)
}

fn array(items: BoxedStrategy<Value>, sizes: std::ops::Range<usize>) -> BoxedStrategy<Value> {
    vec(items, sizes).prop_map(Value::Array).boxed()
}

/// A string→`values` map with keys that read back unambiguously from a JSON path.
fn text_map(values: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    btree_map("[A-Za-z][A-Za-z0-9_-]{0,8}", values, 0..4)
        .prop_map(|members| Value::Object(members.into_iter().collect()))
        .boxed()
}

// ---------------------------------------------------------------------------------------------
// Arbitrary events: anything plausible, and much that is not
// ---------------------------------------------------------------------------------------------

fn any_description() -> BoxedStrategy<Value> {
    (member(string(select(LANGUAGES).prop_map(str::to_owned).boxed())), member(string(text())))
        .prop_map(|(language, text)| object([("language", language), ("latestDescription", text)]))
        .boxed()
}

fn any_entity(text: BoxedStrategy<String>) -> BoxedStrategy<Value> {
    let value = prop_oneof![3 => text.clone(), 1 => account_text()].boxed();
    let tags = btree_map(text.clone(), mostly(string(text)), 0..3)
        .prop_map(|tags| Value::Object(tags.into_iter().collect()))
        .boxed();
    (
        member(string(value)),
        select(&["status", "statusCode"][..]),
        member(string(open_text(ENTITY_STATUSES))),
        select(&["lastUpdatedTime", "lastupdatedTime"][..]),
        member(string(time_text())),
        member(tags),
    )
        .prop_map(|(value, status_key, status, updated_key, updated, tags)| {
            object([("entityValue", value), (status_key, status), (updated_key, updated), ("tags", tags)])
        })
        .boxed()
}

/// Usually a handful of entities with any text; sometimes up to 2,000 with short text.
fn any_entities() -> BoxedStrategy<Value> {
    prop_oneof![
        8 => array(mostly(any_entity(text())), 0..6),
        1 => array(mostly(any_entity(short_text())), 0..2_000),
    ]
    .boxed()
}

fn any_detail() -> BoxedStrategy<Value> {
    let identity = (
        member(string(arn_text())),
        member(string(open_text(SERVICES))),
        member(string(prop_oneof![3 => "AWS_[A-Z0-9_]{1,40}".boxed(), 1 => text()].boxed())),
        member(string(open_text(CATEGORIES))),
        member(string(open_text(SCOPES))),
        member(string(text())),
        member(string(open_text(STATUSES))),
        member(string(open_text(REGIONS))),
        member(string(account_text())),
        member(string(open_text(ACTIONABILITIES))),
    );
    let times = (member(string(time_text())), member(string(time_text())), member(string(time_text())));
    let paging = (member(count_value()), member(count_value()), member(flag_value()));
    let lists = (
        member(array(mostly(any_description()), 0..3)),
        member(
            btree_map(text(), mostly(string(text())), 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect()))
                .boxed(),
        ),
        member(any_entities()),
        member(array(mostly(string(open_text(PERSONAS))), 0..3)),
        btree_map(text(), wild(), 0..3),
    );
    (identity, times, paging, lists)
        .prop_map(|(identity, times, paging, lists)| {
            let (arn, service, code, category, scope, communication, status, region, affected, actionability) =
                identity;
            let (start, end, updated) = times;
            let (page, total, backup) = paging;
            let (descriptions, metadata, entities, personas, extra) = lists;
            let mut detail = Value::Object(extra.into_iter().collect());
            let known = object([
                ("eventArn", arn),
                ("service", service),
                ("eventTypeCode", code),
                ("eventTypeCategory", category),
                ("eventScopeCode", scope),
                ("communicationId", communication),
                ("startTime", start),
                ("endTime", end),
                ("lastUpdatedTime", updated),
                ("statusCode", status),
                ("eventRegion", region),
                ("eventDescription", descriptions),
                ("eventMetadata", metadata),
                ("affectedEntities", entities),
                ("affectedAccount", affected),
                ("page", page),
                ("totalPages", total),
                ("backupEvent", backup),
                ("actionability", actionability),
                ("personas", personas),
            ]);
            merge(&mut detail, known);
            detail
        })
        .boxed()
}

/// Any event-shaped JSON: every field may be absent, `null`, well typed, of any type, hostile
/// or huge; unknown members are added at the root and in `detail`.
fn any_event() -> BoxedStrategy<Value> {
    let envelope = (
        member(string(text())),
        member(string(open_text(DETAIL_TYPES))),
        member(string(prop_oneof![3 => Just("aws.health".to_owned()), 1 => text()].boxed())),
        member(string(account_text())),
        member(string(time_text())),
        member(string(open_text(REGIONS))),
        member(array(mostly(string(text())), 0..4)),
    );
    let detail = prop_oneof![20 => any_detail().prop_map(Some), 1 => Just(None), 1 => wild().prop_map(Some)];
    (envelope, detail, btree_map(short_text(), wild(), 0..2))
        .prop_map(|((id, detail_type, source, account, time, region, resources), detail, extra)| {
            let mut event = Value::Object(extra.into_iter().collect());
            let known = object([
                ("version", Some(json!("0"))),
                ("id", id),
                ("detail-type", detail_type),
                ("source", source),
                ("account", account),
                ("time", time),
                ("region", region),
                ("resources", resources),
                ("detail", detail),
            ]);
            merge(&mut event, known);
            event
        })
        .boxed()
}

fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(into), Value::Object(from)) = (into, from) {
        into.extend(from);
    }
}

/// Names for some of [`ACCOUNTS`], of any length and content.
fn aliases() -> BoxedStrategy<StaticAliases> {
    btree_map(select(ACCOUNTS), text(), 0..=ACCOUNTS.len())
        .prop_map(|names| {
            names.into_iter().map(|(id, name)| (AccountId::parse(id).expect("a 12-digit id"), name)).collect()
        })
        .boxed()
}

fn settings() -> BoxedStrategy<CardSettings> {
    select(LANGUAGES)
        .prop_map(|language| CardSettings { language: language.to_owned(), ..CardSettings::default() })
        .boxed()
}

/// Validation problems to show on a degraded card: any number, with hostile text in their paths.
fn problems() -> BoxedStrategy<ValidationErrors> {
    (vec(short_text(), 0..4), 0usize..300)
        .prop_map(|(keys, personas)| {
            let metadata: Map<String, Value> = keys.into_iter().map(|key| (key, json!(1))).collect();
            let event = json!({"detail": {"eventMetadata": metadata, "personas": vec![1; personas]}});
            health::validate(&event).expect_err("an event without eventArn is invalid")
        })
        .boxed()
}

/// Characters that cost the most once rendered and serialized: controls (six bytes as JSON
/// `\u0000` escapes wherever they are not removed), quotes and backslashes (escaped twice), markup
/// characters (five or six bytes as HTML escapes), and four-byte emoji.
const COSTLY: &[&str] = &["\u{0}", "\u{1f}", "\"", "\\", "&", "'", "<", "🚨", "한"];

/// A short run of [`COSTLY`] characters.
fn costly_unit() -> BoxedStrategy<String> {
    vec(select(COSTLY), 1..4).prop_map(|parts| parts.concat()).boxed()
}

/// An event with every text field as full as a card could show it, and names for its accounts:
/// one costly unit repeated to `bytes` in every field, and an event ARN of another, often as long
/// as Chat allows a thread key to be (keys are bounded in characters, not in serialized bytes).
fn saturated_event() -> BoxedStrategy<(Value, StaticAliases)> {
    let arn_unit = prop_oneof![1 => Just("\u{0}".to_owned()), 2 => costly_unit()];
    let shorter = prop_oneof![Just(0usize), 0usize..3_900];
    (costly_unit(), arn_unit, 500usize..12_000, shorter, any::<bool>(), any::<bool>())
        .prop_map(|(unit, arn_unit, bytes, shorter, public, invalid)| {
            let full = repeat_to(&unit, bytes);
            // `health/<arn>` for public events, `health/<arn>/<account>` for the rest.
            let account = if public { 0 } else { "/".len() + ACCOUNTS[1].len() };
            let longest = MAX_THREAD_KEY_CHARS - "health/".len() - account;
            let arn: String = arn_unit.chars().cycle().take(longest - shorter).collect();
            let entity = json!({"entityValue": full, "status": full, "lastUpdatedTime": full, "tags": {"k": full}});
            let mut event = json!({
                "id": full, "detail-type": full, "source": full, "account": ACCOUNTS[0], "time": full,
                "region": full, "resources": [full],
                "detail": {
                    "eventArn": arn, "service": full, "eventTypeCode": full, "eventTypeCategory": full,
                    "eventScopeCode": if public { "PUBLIC" } else { full.as_str() }, "communicationId": full,
                    "startTime": full, "endTime": full, "lastUpdatedTime": full, "statusCode": full,
                    "eventRegion": format!("x{full}"), "affectedAccount": ACCOUNTS[1], "page": "1", "totalPages": "3",
                    "backupEvent": "true", "actionability": full, "personas": [full],
                    "eventDescription": [{"language": "en_US", "latestDescription": full}],
                    "eventMetadata": {"k": full}, "affectedEntities": [entity.clone(), entity], "x-extra": full,
                },
            });
            if invalid {
                event["detail"]["affectedEntities"].as_array_mut().expect("a list").push(json!({"entityValue": 1}));
            }
            let aliases =
                ACCOUNTS.iter().map(|id| (AccountId::parse(id).expect("a 12-digit id"), full.clone())).collect();
            (event, aliases)
        })
        .boxed()
}

// ---------------------------------------------------------------------------------------------
// Valid events, and the same events with known fields corrupted
// ---------------------------------------------------------------------------------------------

fn nonblank() -> BoxedStrategy<String> {
    text().prop_filter("required text is not blank", |text| !text.trim().is_empty()).boxed()
}

fn valid_description() -> BoxedStrategy<Value> {
    (optional(string(open_text(LANGUAGES))), string(nonblank()))
        .prop_map(|(language, text)| object([("language", language), ("latestDescription", Some(text))]))
        .boxed()
}

fn valid_entity() -> BoxedStrategy<Value> {
    let tags = text_map(prop_oneof![4 => string(text()), 1 => Just(Value::Null)].boxed());
    (
        string(prop_oneof![3 => nonblank(), 1 => account_id()].boxed()),
        select(&["status", "statusCode"][..]),
        optional(string(open_text(ENTITY_STATUSES))),
        select(&["lastUpdatedTime", "lastupdatedTime"][..]),
        optional(string(time_text())),
        optional(tags),
    )
        .prop_map(|(value, status_key, status, updated_key, updated, tags)| {
            object([("entityValue", Some(value)), (status_key, status), (updated_key, updated), ("tags", tags)])
        })
        .boxed()
}

/// A valid event: every field well typed, optional ones absent or `null` at random, small lists.
fn valid_event() -> BoxedStrategy<Value> {
    let envelope = (
        optional(string(text())),
        optional(string(open_text(DETAIL_TYPES))),
        optional(string(text())),
        optional(string(account_id())),
        optional(string(time_text())),
        optional(string(open_text(REGIONS))),
        optional(array(string(text()), 0..4)),
    );
    let identity = (
        string(arn_text().prop_filter("eventArn is not blank", |arn| !arn.trim().is_empty()).boxed()),
        optional(string(open_text(SERVICES))),
        string(nonblank()),
        optional(string(open_text(CATEGORIES))),
        optional(string(open_text(SCOPES))),
        optional(string(text())),
        optional(string(open_text(STATUSES))),
        optional(string(open_text(REGIONS))),
        optional(string(account_id())),
        optional(string(open_text(ACTIONABILITIES))),
    );
    let times = (optional(string(time_text())), optional(string(time_text())), optional(string(time_text())));
    let positive = prop_oneof![
        (1u32..30).prop_map(|n| Value::String(n.to_string())),
        (1u32..30).prop_map(Value::from),
        (1u32..30).prop_map(|n| Value::String(format!(" {n} "))),
    ]
    .boxed();
    let flag = prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        select(&["true", "false", "TRUE", "False", ""][..]).prop_map(|s| Value::String(s.to_owned())),
    ]
    .boxed();
    let paging = (optional(positive.clone()), optional(positive), optional(flag));
    let lists = (
        optional(array(valid_description(), 0..3)),
        optional(text_map(prop_oneof![4 => string(text()), 1 => Just(Value::Null)].boxed())),
        optional(array(valid_entity(), 0..5)),
        optional(array(string(open_text(PERSONAS)), 0..3)),
        btree_map("x-[a-z]{1,6}", wild(), 0..2),
    );
    (envelope, (identity, times, paging, lists))
        .prop_map(|((id, detail_type, source, account, time, region, resources), detail)| {
            let (identity, times, paging, lists) = detail;
            let (arn, service, code, category, scope, communication, status, event_region, affected, actionability) =
                identity;
            let (start, end, updated) = times;
            let (page, total, backup) = paging;
            let (descriptions, metadata, entities, personas, extra) = lists;
            let mut detail = Value::Object(extra.into_iter().collect());
            merge(
                &mut detail,
                object([
                    ("eventArn", Some(arn)),
                    ("service", service),
                    ("eventTypeCode", Some(code)),
                    ("eventTypeCategory", category),
                    ("eventScopeCode", scope),
                    ("communicationId", communication),
                    ("startTime", start),
                    ("endTime", end),
                    ("lastUpdatedTime", updated),
                    ("statusCode", status),
                    ("eventRegion", event_region),
                    ("eventDescription", descriptions),
                    ("eventMetadata", metadata),
                    ("affectedEntities", entities),
                    ("affectedAccount", affected),
                    ("page", page),
                    ("totalPages", total),
                    ("backupEvent", backup),
                    ("actionability", actionability),
                    ("personas", personas),
                ]),
            );
            object([
                ("id", id),
                ("detail-type", detail_type),
                ("source", source),
                ("account", account),
                ("time", time),
                ("region", region),
                ("resources", resources),
                ("detail", Some(detail)),
            ])
        })
        .boxed()
}

/// One step of a path into an event.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

type Path = Vec<Step>;

/// A path the way delibird's `JsonPath` displays it: `detail.affectedEntities[3].entityValue`.
fn dotted(path: &[Step]) -> String {
    let mut shown = String::new();
    for step in path {
        match step {
            Step::Key(key) if shown.is_empty() => shown.push_str(key),
            Step::Key(key) => {
                shown.push('.');
                shown.push_str(key);
            }
            Step::Index(index) => shown.push_str(&format!("[{index}]")),
        }
    }
    shown
}

fn key(path: &[Step], key: &str) -> Path {
    let mut path = path.to_vec();
    path.push(Step::Key(key.to_owned()));
    path
}

fn index(path: &[Step], index: usize) -> Path {
    let mut path = path.to_vec();
    path.push(Step::Index(index));
    path
}

/// Stands for "remove the member" among the replacement values below.
const REMOVE: &str = "<remove>";
/// Replacements (JSON text) that make an optional text field wrong: it must be a string.
const NOT_TEXT: &[&str] = &["1", "-2.5", "true", "[]", "[\"x\"]", "{}"];
/// Replacements that make a required text wrong: missing, `null`, blank, or not a string.
const BAD_REQUIRED: &[&str] = &[REMOVE, "null", "\"\"", "\" \\t \\n \"", "7", "[\"x\"]"];
/// Replacements that are not a 12-digit account id.
const BAD_ACCOUNT: &[&str] =
    &["\"12\"", "\"abc\"", "\"1234567890123\"", "\"11112222333a\"", "\"\"", "111122223333", "false"];
/// Replacements that are not a positive whole number.
const BAD_COUNT: &[&str] =
    &["\"abc\"", "\"0\"", "\"-1\"", "\"1.5\"", "\"\"", "0", "-3", "1.5", "4294967296", "true", "[]"];
/// Replacements that are not `"true"` or `"false"`.
const BAD_FLAG: &[&str] = &["\"yes\"", "\"1\"", "1", "[]", "{}"];
/// Replacements that are not an object of strings.
const BAD_MAP: &[&str] = &["\"k=v\"", "[]", "3", "true"];
/// Replacements that are not an array.
const BAD_LIST: &[&str] = &["\"a,b\"", "{}", "3", "false"];
/// Replacements for an element of a list of strings.
const BAD_TEXT_ITEM: &[&str] = &["1", "true", "null", "{}", "[\"x\"]"];
/// Replacements for an element of a list of objects.
const BAD_OBJECT_ITEM: &[&str] = &["\"x\"", "1", "null", "[]"];
/// Replacements for the whole `detail`.
const BAD_DETAIL: &[&str] = &[REMOVE, "null", "\"detail\"", "[]", "1"];

/// A field that can be corrupted, and the values that corrupt it.
#[derive(Debug, Clone)]
struct Site {
    path: Path,
    bad: &'static [&'static str],
}

/// Every field of `event` a corruption can target: each known field whether present or not, and
/// each element and member of the lists and maps present.
fn sites(event: &Value) -> Vec<Site> {
    let mut sites = Vec::new();
    let root: Path = Vec::new();
    for name in ["id", "detail-type", "source", "time", "region"] {
        sites.push(Site { path: key(&root, name), bad: NOT_TEXT });
    }
    sites.push(Site { path: key(&root, "account"), bad: BAD_ACCOUNT });
    text_list_sites(&mut sites, event, &root, "resources");
    sites.push(Site { path: key(&root, "detail"), bad: BAD_DETAIL });

    let at = key(&root, "detail");
    let detail = &event["detail"];
    for name in ["eventArn", "eventTypeCode"] {
        sites.push(Site { path: key(&at, name), bad: BAD_REQUIRED });
    }
    for name in [
        "service",
        "eventTypeCategory",
        "eventScopeCode",
        "communicationId",
        "startTime",
        "endTime",
        "lastUpdatedTime",
        "statusCode",
        "eventRegion",
        "actionability",
    ] {
        sites.push(Site { path: key(&at, name), bad: NOT_TEXT });
    }
    sites.push(Site { path: key(&at, "affectedAccount"), bad: BAD_ACCOUNT });
    sites.push(Site { path: key(&at, "page"), bad: BAD_COUNT });
    sites.push(Site { path: key(&at, "totalPages"), bad: BAD_COUNT });
    sites.push(Site { path: key(&at, "backupEvent"), bad: BAD_FLAG });
    map_sites(&mut sites, detail, &at, "eventMetadata");
    text_list_sites(&mut sites, detail, &at, "personas");

    sites.push(Site { path: key(&at, "eventDescription"), bad: BAD_LIST });
    for (i, _) in detail["eventDescription"].as_array().into_iter().flatten().enumerate() {
        let item = index(&key(&at, "eventDescription"), i);
        sites.push(Site { path: item.clone(), bad: BAD_OBJECT_ITEM });
        sites.push(Site { path: key(&item, "language"), bad: NOT_TEXT });
        sites.push(Site { path: key(&item, "latestDescription"), bad: BAD_REQUIRED });
    }

    sites.push(Site { path: key(&at, "affectedEntities"), bad: BAD_LIST });
    for (i, entity) in detail["affectedEntities"].as_array().into_iter().flatten().enumerate() {
        let item = index(&key(&at, "affectedEntities"), i);
        sites.push(Site { path: item.clone(), bad: BAD_OBJECT_ITEM });
        sites.push(Site { path: key(&item, "entityValue"), bad: BAD_REQUIRED });
        // Validation reads `status` when present (not null), else `statusCode`; likewise for the
        // two spellings of `lastUpdatedTime`. Corrupt the one it reads.
        let read = |preferred: &str, other: &str| {
            let present = |name: &str| entity.get(name).is_some_and(|value| !value.is_null());
            if !present(preferred) && present(other) { other.to_owned() } else { preferred.to_owned() }
        };
        sites.push(Site { path: key(&item, &read("status", "statusCode")), bad: NOT_TEXT });
        sites.push(Site { path: key(&item, &read("lastUpdatedTime", "lastupdatedTime")), bad: NOT_TEXT });
        map_sites(&mut sites, entity, &item, "tags");
    }
    sites
}

fn text_list_sites(sites: &mut Vec<Site>, parent: &Value, at: &[Step], name: &str) {
    let list = key(at, name);
    sites.push(Site { path: list.clone(), bad: BAD_LIST });
    for (i, _) in parent[name].as_array().into_iter().flatten().enumerate() {
        sites.push(Site { path: index(&list, i), bad: BAD_TEXT_ITEM });
    }
}

fn map_sites(sites: &mut Vec<Site>, parent: &Value, at: &[Step], name: &str) {
    let map = key(at, name);
    sites.push(Site { path: map.clone(), bad: BAD_MAP });
    for member in parent[name].as_object().into_iter().flat_map(Map::keys) {
        sites.push(Site { path: key(&map, member), bad: NOT_TEXT });
    }
}

/// A valid event, the same event with some fields corrupted, and the corrupted paths. No
/// corrupted path lies inside another: the outer corruption would hide the inner one.
#[derive(Debug, Clone)]
struct Corrupted {
    valid: Value,
    raw: Value,
    paths: Vec<Path>,
}

fn corrupted_event() -> BoxedStrategy<Corrupted> {
    (valid_event(), vec((any::<Index>(), any::<Index>()), 1..8))
        .prop_map(|(valid, picks)| {
            let sites = sites(&valid);
            let mut chosen: Vec<(Path, &str)> = Vec::new();
            for (site, bad) in picks {
                let site = site.get(&sites);
                if !chosen.iter().any(|(path, _)| *path == site.path) {
                    chosen.push((site.path.clone(), *bad.get(site.bad)));
                }
            }
            let outer: Vec<Path> = chosen.iter().map(|(path, _)| path.clone()).collect();
            chosen.retain(|(path, _)| !outer.iter().any(|o| o.len() < path.len() && path.starts_with(o)));
            let mut raw = valid.clone();
            for (path, bad) in &chosen {
                replace(&mut raw, path, bad);
            }
            Corrupted { valid, raw, paths: chosen.into_iter().map(|(path, _)| path).collect() }
        })
        .boxed()
}

/// Sets the value at `path` to the JSON text `bad`, or removes the member for [`REMOVE`].
fn replace(event: &mut Value, path: &[Step], bad: &str) {
    let (last, parents) = path.split_last().expect("corruptions are below the root");
    let mut parent = event;
    for step in parents {
        parent = match step {
            Step::Key(key) => parent.get_mut(key.as_str()),
            Step::Index(index) => parent.get_mut(*index),
        }
        .expect("corruption sites exist in the valid event");
    }
    match (last, parent) {
        (Step::Key(key), Value::Object(members)) if bad == REMOVE => {
            members.remove(key);
        }
        (Step::Key(key), Value::Object(members)) => {
            members.insert(key.clone(), serde_json::from_str(bad).expect("replacements are JSON"));
        }
        (Step::Index(index), Value::Array(items)) => {
            items[*index] = serde_json::from_str(bad).expect("replacements are JSON");
        }
        (step, parent) => panic!("cannot corrupt {step:?} of {parent}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Invariants
// ---------------------------------------------------------------------------------------------

/// Card fields Chat reads as its HTML subset.
const HTML_FIELDS: &[&str] = &["text", "topLabel", "bottomLabel", "header"];
/// Card fields Chat shows as plain text (delibird writes them with `text::plain`, unescaped).
const PLAIN_FIELDS: &[&str] = &["title", "subtitle", "fallbackText"];
/// The only markup delibird writes, besides the severity's `<font color>` (see `src/card/mod.rs`).
const OWN_TAGS: &[&str] = &["<b>", "</b>", "<i>", "</i>", "<br>", "<code>", "</code>", "</font>"];
/// The escapes `text::escape` writes.
const ESCAPES: &[&str] = &["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"];
/// Where delibird's only link goes: the Health dashboard of the event's partition.
const LINK_PREFIXES: &[&str] =
    &["https://health.aws.amazon.com/", "https://console.amazonaws-us-gov.com/", "https://console.amazonaws.cn/"];

/// The `<font color="#RRGGBB">` tags of delibird's severities.
fn severity_fonts() -> Vec<String> {
    [Severity::Info, Severity::Warning, Severity::High, Severity::Critical]
        .iter()
        .map(|severity| format!("<font color=\"{}\">", severity.colour()))
        .collect()
}

/// Characters that must never reach a card: controls (tabs aside) and direction overrides.
fn is_hidden(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Where Chat HTML first holds markup, an entity or a character that delibird did not write
/// itself, if anywhere: every `<` must open one of delibird's own tags, every `&` one of its
/// escapes, and no `>`, `"` or hidden character may stand alone. Markup from an event (`<script`,
/// `<a `, `<font`, a `javascript:` link) therefore cannot survive; the *text* `javascript:` may,
/// escaped and harmless, which is why this checks tags rather than searching for that word.
fn foreign_markup<'a>(html: &'a str, fonts: &[String]) -> Option<&'a str> {
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        let own = match c {
            '<' => OWN_TAGS.iter().copied().chain(fonts.iter().map(String::as_str)).find(|tag| rest.starts_with(tag)),
            '&' => ESCAPES.iter().copied().find(|escape| rest.starts_with(escape)),
            '>' | '"' => None,
            c if is_hidden(c) => None,
            c => Some(&rest[..c.len_utf8()]),
        };
        match own {
            Some(own) => rest = &rest[own.len()..],
            None => return Some(rest),
        }
    }
    None
}

/// Every string in `value` with the name of the member holding it (arrays pass their name on).
fn strings<'a>(value: &'a Value, name: &'a str, found: &mut Vec<(&'a str, &'a str)>) {
    match value {
        Value::String(text) => found.push((name, text)),
        Value::Array(items) => items.iter().for_each(|item| strings(item, name, found)),
        Value::Object(members) => members.iter().for_each(|(name, value)| strings(value, name, found)),
        _ => {}
    }
}

/// The body Google would accept (schema, 32,000 bytes, 100 widgets, …), with all event text
/// escaped in HTML fields, no hidden characters in plain ones, and only delibird's own link.
fn accepted_and_escaped(message: &chat::wire::Message) -> Result<Value, TestCaseError> {
    let body = assert_message_accepted(message);
    let fonts = severity_fonts();
    let mut found = Vec::new();
    strings(&body, "", &mut found);
    for (name, text) in found {
        if HTML_FIELDS.contains(&name) {
            if let Some(at) = foreign_markup(text, &fonts) {
                let at: String = at.chars().take(40).collect();
                return Err(TestCaseError::fail(format!("{name} holds markup delibird did not write at {at:?}")));
            }
        } else if PLAIN_FIELDS.contains(&name) {
            prop_assert!(!text.chars().any(is_hidden), "{name} holds a hidden character: {text:?}");
        } else if name == "url" {
            prop_assert!(LINK_PREFIXES.iter().any(|p| text.starts_with(p)), "a link leads elsewhere: {text:?}");
        }
    }
    Ok(body)
}

/// Whatever `raw` holds, the handler's path through delibird (check, salvage, enrich, render)
/// yields a card Google accepts with every piece of event text escaped, plain or degraded.
fn any_event_renders_an_accepted_card_with_its_text_escaped(
    raw: &Value,
    aliases: &StaticAliases,
    settings: &CardSettings,
    more_problems: &ValidationErrors,
) -> Result<(), TestCaseError> {
    let Checked { event, problems } = health::check(raw);
    let enriched = block_on(enrich(event, aliases));
    for problems in [problems.as_ref(), None, Some(more_problems)] {
        accepted_and_escaped(&chat::message(&enriched, problems, settings))?;
    }
    Ok(())
}

/// Description pieces that the card keeps character for character (no backslashes, carriage
/// returns or hidden characters, which it rewrites or removes), so a description's length is
/// exactly what the card counts when it says how much it left out.
const PARAGRAPH_PIECES: &[&str] =
    &["word ", "<script>alert(1)</script>", "&amp;", "한국어 ", "🚨", "مرحبا ", "e\u{301}", "\n", "x"];

/// A description of exactly `chars` characters that starts and ends with a letter.
fn description_of(pieces: &[&str], chars: usize) -> String {
    let inner: String = pieces.concat().chars().cycle().take(chars.saturating_sub(2)).collect();
    format!("x{inner}x")
}

fn event_with(description: &str, entities: Vec<Value>) -> EnrichedEvent {
    let raw = json!({"detail": {
        "eventArn": "arn:aws:health:us-east-1::event/EC2/AWS_EC2_OPERATIONAL_ISSUE/AWS_EC2_OPERATIONAL_ISSUE_1",
        "eventTypeCode": "AWS_EC2_OPERATIONAL_ISSUE",
        "eventDescription": [{"language": "en_US", "latestDescription": description}],
        "affectedEntities": entities,
    }});
    EnrichedEvent::bare(health::validate(&raw).expect("a valid event"))
}

/// Entities whose values are `width` characters long, to push the card into smaller budgets.
fn entities(count: usize, width: usize) -> Vec<Value> {
    (0..count).map(|i| json!({"entityValue": format!("i-{i:0width$x}"), "status": "IMPAIRED"})).collect()
}

/// The first section of the card whose header passes `header`.
fn section(body: &Value, header: impl Fn(&str) -> bool) -> Option<&Value> {
    body["cardsV2"][0]["card"]["sections"].as_array()?.iter().find(|s| s["header"].as_str().is_some_and(&header))
}

/// `N` of the `<i>+N …</i>` mark at the end of `html`.
fn more_count(html: &str) -> Option<usize> {
    let (_, mark) = html.rsplit_once("<i>+")?;
    mark.split_once(' ')?.0.parse().ok()
}

/// A description longer than any budget is cut with a visible "+N more characters", where N is
/// exactly what was left out.
fn a_cut_description_says_how_much_was_left_out(
    description: &str,
    entity_count: usize,
    width: usize,
) -> Result<(), TestCaseError> {
    let total = description.chars().count();
    let body = accepted_and_escaped(&chat::message(
        &event_with(description, entities(entity_count, width)),
        None,
        &CardSettings::default(),
    ))?;
    let Some(shown) = section(&body, |header| header == "Description") else {
        return Err(TestCaseError::fail("the description section is missing"));
    };
    let html = shown["widgets"][0]["textParagraph"]["text"].as_str().unwrap_or_default();
    prop_assert!(html.ends_with(" more characters</i>"), "no visible mark at the end of {html:?}");
    let left_out = more_count(html).ok_or_else(|| TestCaseError::fail("no count in the mark"))?;
    prop_assert!(
        BUDGETS.iter().any(|budget| budget.description + left_out == total),
        "{left_out} characters left out of {total}, which is no budget's cut"
    );
    Ok(())
}

/// A description within the smallest budget is never marked as cut.
fn a_short_description_is_shown_whole(description: &str) -> Result<(), TestCaseError> {
    let body =
        accepted_and_escaped(&chat::message(&event_with(description, Vec::new()), None, &CardSettings::default()))?;
    prop_assert!(!body.to_string().contains("more characters"), "a short description was marked as cut");
    Ok(())
}

/// A list of entities longer than any budget lists some and says `+N more` for exactly the rest.
fn a_cut_entity_list_says_how_many_were_left_out(count: usize, width: usize) -> Result<(), TestCaseError> {
    let body =
        accepted_and_escaped(&chat::message(&event_with("x", entities(count, width)), None, &CardSettings::default()))?;
    let header = format!("Affected resources ({count})");
    let Some(listed) = section(&body, |shown| shown == header) else {
        return Err(TestCaseError::fail(format!("no section headed {header:?}")));
    };
    let widgets = listed["widgets"].as_array().expect("a section has widgets");
    let rows = widgets.iter().filter(|widget| widget.get("decoratedText").is_some()).count();
    let mark = widgets.last().and_then(|widget| widget["textParagraph"]["text"].as_str()).unwrap_or_default();
    let left_out = more_count(mark).ok_or_else(|| TestCaseError::fail(format!("no +N more mark in {mark:?}")))?;
    prop_assert_eq!(rows + left_out, count, "listed and left out do not add up to the list");
    prop_assert!(BUDGETS.iter().any(|budget| budget.entities == rows), "{} entities listed: no budget's cut", rows);
    Ok(())
}

/// A valid event validates, and `check` takes it as it is.
fn a_valid_event_validates(raw: &Value) -> Result<(), TestCaseError> {
    let event = health::validate(raw).map_err(|errors| TestCaseError::fail(format!("rejected: {errors}")))?;
    let listed = |name: &str| raw["detail"][name].as_array().map_or(0, Vec::len);
    prop_assert_eq!(event.entities.len(), listed("affectedEntities"));
    prop_assert_eq!(event.descriptions.len(), listed("eventDescription"));
    prop_assert!(health::check(raw).problems.is_none(), "check salvaged a valid event");
    Ok(())
}

/// Validation reports every corrupted field, by path, once, and nothing else.
fn validation_reports_exactly_the_corrupted_fields(case: &Corrupted) -> Result<(), TestCaseError> {
    let errors = health::validate(&case.raw).err().ok_or_else(|| TestCaseError::fail("a corrupted event validated"))?;
    let mut reported: Vec<String> = errors.errors().iter().map(|error| error.path.to_string()).collect();
    let mut corrupted: Vec<String> = case.paths.iter().map(|path| dotted(path)).collect();
    reported.sort();
    corrupted.sort();
    prop_assert_eq!(reported, corrupted);
    Ok(())
}

/// What salvage must keep of `original` once `corrupted` paths are wrong: every field not
/// corrupted; list elements and map members not corrupted; nothing else. The event ARN is
/// compared separately (a salvaged one is a generated placeholder).
fn valid_remainder(original: &HealthEvent, corrupted: &[Path]) -> HealthEvent {
    let mut kept = original.clone();
    let is = |step: &Step, name: &str| matches!(step, Step::Key(key) if key == name);
    if corrupted.iter().any(|path| path.len() == 1 && is(&path[0], "detail")) {
        let blank = json!({"detail": {"eventArn": original.arn.as_str(), "eventTypeCode": UNKNOWN_TYPE_CODE}});
        kept = HealthEvent {
            id: kept.id,
            detail_type: kept.detail_type,
            source: kept.source,
            account: kept.account,
            time: kept.time,
            region: kept.region,
            resources: kept.resources,
            ..health::validate(&blank).expect("a minimal event is valid")
        };
    }
    let mut dropped: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
    let (mut page_gone, mut total_gone) = (false, false);
    for path in corrupted {
        match path.as_slice() {
            [Step::Key(name)] => match name.as_str() {
                "id" => kept.id = None,
                "detail-type" => kept.detail_type = None,
                "source" => kept.source = None,
                "account" => kept.account = None,
                "time" => kept.time = None,
                "region" => kept.region = None,
                "resources" => kept.resources.clear(),
                _ => {}
            },
            [Step::Key(list), Step::Index(i), ..] => {
                dropped.entry(list.as_str()).or_default().insert(*i);
            }
            [detail, Step::Key(name)] if is(detail, "detail") => match name.as_str() {
                "eventTypeCode" => kept.type_code = UNKNOWN_TYPE_CODE.to_owned(),
                "service" => kept.service = None,
                "eventTypeCategory" => kept.category = None,
                "eventScopeCode" => kept.scope = None,
                "communicationId" => kept.communication_id = None,
                "startTime" => kept.start = None,
                "endTime" => kept.end = None,
                "lastUpdatedTime" => kept.last_updated = None,
                "statusCode" => kept.status = None,
                "eventRegion" => kept.event_region = None,
                "affectedAccount" => kept.affected_account = None,
                "actionability" => kept.actionability = None,
                "backupEvent" => kept.backup = false,
                "page" => page_gone = true,
                "totalPages" => total_gone = true,
                "eventMetadata" => kept.metadata.clear(),
                "personas" => kept.personas.clear(),
                "eventDescription" => kept.descriptions.clear(),
                "affectedEntities" => kept.entities.clear(),
                _ => {}
            },
            [detail, Step::Key(map), Step::Key(member)] if is(detail, "detail") && map == "eventMetadata" => {
                kept.metadata.remove(member);
            }
            [detail, Step::Key(list), Step::Index(i), ..] if is(detail, "detail") => {
                dropped.entry(list.as_str()).or_default().insert(*i);
            }
            _ => {}
        }
    }
    if page_gone {
        kept.page = None;
    } else if total_gone {
        kept.page = kept.page.map(|page| Page { number: page.number, total: page.number });
    }
    kept.resources = without(kept.resources, dropped.get("resources"));
    kept.personas = without(kept.personas, dropped.get("personas"));
    kept.descriptions = without(kept.descriptions, dropped.get("eventDescription"));
    kept.entities = without(kept.entities, dropped.get("affectedEntities"));
    kept
}

/// `items` without the elements at the indexes in `gone`.
fn without<T>(items: Vec<T>, gone: Option<&BTreeSet<usize>>) -> Vec<T> {
    let gone = gone.cloned().unwrap_or_default();
    items.into_iter().enumerate().filter(|(i, _)| !gone.contains(i)).map(|(_, item)| item).collect()
}

/// `check` never fails on a corrupted event: it salvages, reports the same problems as
/// `validate`, and keeps every field, element and member that was not corrupted.
fn salvage_keeps_exactly_what_was_valid(case: &Corrupted) -> Result<(), TestCaseError> {
    let original = health::validate(&case.valid).map_err(|errors| TestCaseError::fail(errors.to_string()))?;
    let salvaged = health::check(&case.raw);
    if salvaged.problems.is_none() {
        return Err(TestCaseError::fail("check accepted a corrupted event"));
    }
    let errors = health::validate(&case.raw).err();
    prop_assert_eq!(salvaged.problems.as_ref(), errors.as_ref());
    let mut expected = valid_remainder(&original, &case.paths);
    let arn_gone = case.paths.iter().any(|path| {
        let shown = dotted(path);
        shown == "detail" || shown == "detail.eventArn"
    });
    if arn_gone {
        prop_assert!(
            salvaged.event.arn.as_str().starts_with("unknown-event/"),
            "placeholder ARN {}",
            salvaged.event.arn
        );
        expected.arn = salvaged.event.arn.clone();
    }
    prop_assert_eq!(salvaged.event, expected);
    Ok(())
}

/// The markup check must be able to fail: a check that cannot fail proves nothing.
#[test]
fn the_markup_check_rejects_event_markup_and_accepts_delibirds_own() {
    let fonts = severity_fonts();
    let own = format!("{}<b>High</b></font> · &lt;script&gt; &amp;amp; javascript:x<br><i>+3 more</i>", fonts[3]);
    assert_eq!(foreign_markup(&own, &fonts), None);
    for foreign in ["<script>", "<a href=&quot;x&quot;>", "<font color=\"#00FF00\">", "&#60;", "a\u{202E}b", "x>", "\""]
    {
        assert!(foreign_markup(foreign, &fonts).is_some(), "{foreign:?} passed");
    }
}

/// Regression: salvage removed an array element once per wrong field in it, so an entity with
/// two wrong fields took its valid neighbour with it.
#[test]
fn salvage_drops_an_entity_with_two_wrong_fields_without_dropping_its_neighbour() {
    let raw = json!({"detail": {
        "eventArn": "arn:aws:health:us-east-1::event/EC2/X/Y",
        "eventTypeCode": "AWS_EC2_X",
        "affectedEntities": [
            {"entityValue": "i-1"},
            {"entityValue": ["i-2"], "status": 1},
            {"entityValue": "i-3"},
        ],
    }});
    let salvaged = health::check(&raw);
    assert!(salvaged.problems.is_some(), "the event is invalid");
    let kept: Vec<&str> = salvaged.event.entities.iter().map(|entity| entity.value.as_str()).collect();
    assert_eq!(kept, ["i-1", "i-3"]);
}

/// Regression: thread keys were bounded at Chat's 4,000 characters only, and 4,000 control
/// characters serialize to 24,000 bytes, so an event with such an ARN and full fields rendered a
/// message over 32,000 bytes even at the smallest budget.
#[test]
fn an_arn_of_control_characters_does_not_push_the_message_over_32000_bytes() {
    let full = "\"".repeat(5_000);
    let raw = json!({"account": ACCOUNTS[0], "region": full, "time": full, "detail": {
        "eventArn": "\u{1}".repeat(3_980), "eventTypeCode": full, "service": full, "statusCode": full,
        "eventTypeCategory": full, "eventScopeCode": full, "eventRegion": format!("x{full}"),
        "affectedAccount": ACCOUNTS[1], "startTime": full, "endTime": full, "lastUpdatedTime": full,
        "eventDescription": [{"language": "en_US", "latestDescription": full}],
        "affectedEntities": [{"entityValue": full, "status": full, "tags": {"k": full}}],
    }});
    let event = health::validate(&raw).expect("a valid event");
    let aliases: StaticAliases =
        ACCOUNTS.iter().map(|id| (AccountId::parse(id).expect("a 12-digit id"), full.clone())).collect();
    let enriched = block_on(enrich(event, &aliases));
    assert_message_accepted(&chat::message(&enriched, None, &CardSettings::default()));
}

// ---------------------------------------------------------------------------------------------
// Drivers
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(160))]

    #[test]
    fn any_event_renders_as_a_card_google_accepts_with_all_event_text_escaped(
        raw in any_event(),
        aliases in aliases(),
        settings in settings(),
        problems in problems(),
    ) {
        any_event_renders_an_accepted_card_with_its_text_escaped(&raw, &aliases, &settings, &problems)?;
    }
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn a_card_stays_within_google_limits_however_full_every_field_is(
        (raw, aliases) in saturated_event(),
        problems in problems(),
    ) {
        any_event_renders_an_accepted_card_with_its_text_escaped(&raw, &aliases, &CardSettings::default(), &problems)?;
    }
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn a_description_too_long_for_the_card_ends_with_how_many_characters_were_left_out(
        pieces in vec(select(PARAGRAPH_PIECES), 1..4),
        chars in (BUDGETS[0].description + 1)..=100_000,
        entity_count in prop_oneof![Just(0usize), 0usize..300],
        width in 10usize..300,
    ) {
        a_cut_description_says_how_much_was_left_out(&description_of(&pieces, chars), entity_count, width)?;
    }

    #[test]
    fn an_entity_list_too_long_for_the_card_ends_with_how_many_entities_were_left_out(
        count in (BUDGETS[0].entities + 1)..=2_000,
        width in 10usize..300,
    ) {
        a_cut_entity_list_says_how_many_were_left_out(count, width)?;
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn a_description_within_every_budget_is_shown_whole(
        pieces in vec(select(PARAGRAPH_PIECES), 1..6),
        chars in 2usize..=BUDGETS[BUDGETS.len() - 1].description,
    ) {
        a_short_description_is_shown_whole(&description_of(&pieces, chars))?;
    }

    #[test]
    fn a_valid_event_validates_and_is_not_salvaged(raw in valid_event()) {
        a_valid_event_validates(&raw)?;
    }

    #[test]
    fn validation_reports_exactly_the_fields_that_were_corrupted(case in corrupted_event()) {
        validation_reports_exactly_the_corrupted_fields(&case)?;
    }

    #[test]
    fn salvage_keeps_every_field_that_was_not_corrupted(case in corrupted_event()) {
        salvage_keeps_exactly_what_was_valid(&case)?;
    }
}
