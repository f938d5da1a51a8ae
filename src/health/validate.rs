//! [`validate`]: JSON → [`HealthEvent`], every problem reported at once with its JSON path.
//!
//! Each field has a small validator returning `Result<T, FieldError>` (or a list of errors for
//! lists); `validate` adds them up applicatively with frunk's `Validated`, so one wrong field never
//! hides another. `null` reads as absent everywhere. Only `detail`, `detail.eventArn` and
//! `detail.eventTypeCode` are required: without them there is no thread, link or title.

use std::collections::BTreeMap;
use std::fmt;

use frunk::{hlist_pat, prelude::*};
use serde_json::{Map, Value};

use super::{
    AccountId, Actionability, Category, Description, Entity, EntityStatus, EventArn, EventTime, HealthEvent, Page,
    Scope, Status,
};
use crate::json_numbers;
use crate::json_path::{JsonPath, PathRef};

/// Keys of `detail` that delibird reads; any other key is kept in [`HealthEvent::extra`].
const KNOWN_DETAIL_KEYS: &[&str] = &[
    "eventArn",
    "service",
    "eventTypeCode",
    "eventTypeCategory",
    "eventScopeCode",
    "communicationId",
    "startTime",
    "endTime",
    "lastUpdatedTime",
    "statusCode",
    "eventRegion",
    "eventDescription",
    "eventMetadata",
    "affectedEntities",
    "affectedAccount",
    "page",
    "totalPages",
    "backupEvent",
    "actionability",
    "personas",
];

/// What is wrong with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldErrorKind {
    /// A required field is absent or `null`.
    Missing,
    /// A required text is empty or blank.
    Empty,
    /// The JSON type is wrong.
    WrongType {
        /// What the field must be.
        expected: &'static str,
        /// What it is.
        found: &'static str,
    },
    /// The type is right but the value is not one the field can hold.
    Invalid {
        /// What the field must be.
        expected: &'static str,
        /// The value, shortened for the message.
        found: String,
    },
}

/// One field that is wrong, and where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {kind}")]
pub struct FieldError {
    /// Where the field is, from the event's root (`detail.affectedEntities[2].entityValue`).
    pub path: JsonPath,
    /// What is wrong with it.
    pub kind: FieldErrorKind,
}

impl fmt::Display for FieldErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("required field is missing"),
            Self::Empty => f.write_str("required text is empty"),
            Self::WrongType { expected, found } => write!(f, "expected {expected}, found {found}"),
            Self::Invalid { expected, found } => write!(f, "expected {expected}, found {found:?}"),
        }
    }
}

/// Every problem found in one event (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationErrors(Vec<FieldError>);

impl ValidationErrors {
    /// The problems, in the order of the event's fields.
    pub fn errors(&self) -> &[FieldError] {
        &self.0
    }

    /// The problems for one log line: like `Display`, but at most `max_errors` of them and
    /// about `max_chars` characters, with how many more there were. An event can hold thousands
    /// of wrong fields (and keys megabytes long); a log line must stay readable and small.
    pub fn summary(&self, max_errors: usize, max_chars: usize) -> String {
        let count = self.0.len();
        let mut summary = format!("{count} invalid field{}: ", if count == 1 { "" } else { "s" });
        let mut room = max_chars;
        let mut shown = 0;
        for error in self.0.iter().take(max_errors) {
            let text = error.to_string();
            let separator = if shown > 0 { "; " } else { "" };
            summary.push_str(separator);
            shown += 1;
            match text.char_indices().nth(room) {
                Some((end, _)) => {
                    summary.push_str(&text[..end]);
                    summary.push('…');
                    break;
                }
                None => summary.push_str(&text),
            }
            room = room.saturating_sub(text.chars().count() + separator.len());
        }
        if count > shown {
            summary.push_str(&format!("; +{} more", count - shown));
        }
        summary
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        write!(f, "{count} invalid field{}: ", if count == 1 { "" } else { "s" })?;
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

type Checked<T> = Result<T, Vec<FieldError>>;

/// Lifts a single-field result into the list-of-errors form `Validated` accumulates.
trait Lift<T> {
    fn lift(self) -> Checked<T>;
}

impl<T> Lift<T> for Result<T, FieldError> {
    fn lift(self) -> Checked<T> {
        self.map_err(|error| vec![error])
    }
}

/// Validates one EventBridge-shaped Health event, reporting every wrong field at once.
pub fn validate(event: &Value) -> Result<HealthEvent, ValidationErrors> {
    let root_path = JsonPath::root();
    let root = PathRef::At(&root_path);
    let Value::Object(top) = event else {
        return Err(ValidationErrors(vec![wrong_type(root_path, "an object", event)]));
    };
    let envelope = (text(top, &root, "id").lift().into_validated()
        + text(top, &root, "detail-type").lift()
        + text(top, &root, "source").lift()
        + account(top, &root, "account").lift()
        + time(top, &root, "time").lift()
        + text(top, &root, "region").lift()
        + texts(top, &root, "resources"))
    .into_result();
    let detail = match present(top, "detail") {
        None => Err(vec![FieldError { path: root.key("detail"), kind: FieldErrorKind::Missing }]),
        Some(Value::Object(detail)) if !is_marker(present(top, "detail")) => {
            detail_fields(detail, &PathRef::Key(&root, "detail"))
        }
        Some(other) => Err(vec![wrong_type(root.key("detail"), "an object", other)]),
    };
    match (envelope, detail) {
        (Ok(hlist_pat![id, detail_type, source, account, time, region, resources]), Ok(detail)) => {
            Ok(HealthEvent { id, detail_type, source, account, time, region, resources, ..detail })
        }
        (envelope, detail) => {
            let mut errors: Vec<FieldError> = envelope.err().into_iter().flatten().flatten().collect();
            errors.extend(detail.err().into_iter().flatten());
            Err(ValidationErrors(errors))
        }
    }
}

/// The `detail` fields, as a `HealthEvent` whose envelope fields are still empty.
fn detail_fields(detail: &Map<String, Value>, at: &PathRef<'_>) -> Checked<HealthEvent> {
    let validated = required_text(detail, at, "eventArn").lift().into_validated()
        + text(detail, at, "service").lift()
        + required_text(detail, at, "eventTypeCode").lift()
        + open_value(detail, at, "eventTypeCategory", Category::parse).lift()
        + open_value(detail, at, "eventScopeCode", Scope::parse).lift()
        + text(detail, at, "communicationId").lift()
        + time(detail, at, "startTime").lift()
        + time(detail, at, "endTime").lift()
        + time(detail, at, "lastUpdatedTime").lift()
        + open_value(detail, at, "statusCode", Status::parse).lift()
        + text(detail, at, "eventRegion").lift()
        + descriptions(detail, at)
        + text_map(detail, at, "eventMetadata")
        + entities(detail, at)
        + account(detail, at, "affectedAccount").lift()
        + page(detail, at)
        + flag(detail, at, "backupEvent").lift()
        + open_value(detail, at, "actionability", Actionability::parse).lift()
        + texts(detail, at, "personas");
    let hlist_pat![
        arn,
        service,
        type_code,
        category,
        scope,
        communication_id,
        start,
        end,
        last_updated,
        status,
        event_region,
        descriptions,
        metadata,
        entities,
        affected_account,
        page,
        backup,
        actionability,
        personas
    ] = validated.into_result().map_err(|errors| errors.into_iter().flatten().collect::<Vec<_>>())?;
    Ok(HealthEvent {
        id: None,
        detail_type: None,
        source: None,
        account: None,
        time: None,
        region: None,
        resources: Vec::new(),
        arn: EventArn::new(arn),
        service,
        type_code,
        category,
        scope,
        communication_id,
        start,
        end,
        last_updated,
        status,
        event_region,
        descriptions,
        metadata,
        entities,
        affected_account,
        page,
        backup: backup.unwrap_or(false),
        actionability,
        personas,
        extra: extra_fields(detail),
    })
}

fn extra_fields(detail: &Map<String, Value>) -> BTreeMap<String, String> {
    detail
        .iter()
        .filter(|(key, value)| !KNOWN_DETAIL_KEYS.contains(&key.as_str()) && !value.is_null())
        .map(|(key, value)| {
            let shown = value
                .as_str()
                .or_else(|| json_numbers::out_of_range(value))
                .map_or_else(|| value.to_string(), str::to_owned);
            (key.clone(), shown)
        })
        .collect()
}

/// True for the marker of a number out of range ([`json_numbers`]): an object to JSON, a wrong
/// value to every field.
fn is_marker(value: Option<&Value>) -> bool {
    value.is_some_and(|value| json_numbers::out_of_range(value).is_some())
}

/// A member that is present and not `null`.
fn present<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object.get(key).filter(|value| !value.is_null())
}

fn type_name(value: &Value) -> &'static str {
    if json_numbers::out_of_range(value).is_some() {
        return "a number out of range";
    }
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn wrong_type(path: JsonPath, expected: &'static str, found: &Value) -> FieldError {
    FieldError { path, kind: FieldErrorKind::WrongType { expected, found: type_name(found) } }
}

fn invalid(path: JsonPath, expected: &'static str, found: &str) -> FieldError {
    let found = found.chars().take(64).collect();
    FieldError { path, kind: FieldErrorKind::Invalid { expected, found } }
}

fn text(object: &Map<String, Value>, at: &PathRef<'_>, key: &str) -> Result<Option<String>, FieldError> {
    match present(object, key) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(wrong_type(at.key(key), "a string", other)),
    }
}

fn required_text(object: &Map<String, Value>, at: &PathRef<'_>, key: &str) -> Result<String, FieldError> {
    match text(object, at, key)? {
        None => Err(FieldError { path: at.key(key), kind: FieldErrorKind::Missing }),
        Some(text) if text.trim().is_empty() => Err(FieldError { path: at.key(key), kind: FieldErrorKind::Empty }),
        Some(text) => Ok(text),
    }
}

fn open_value<T>(
    object: &Map<String, Value>,
    at: &PathRef<'_>,
    key: &str,
    parse: fn(&str) -> T,
) -> Result<Option<T>, FieldError> {
    Ok(text(object, at, key)?.filter(|t| !t.is_empty()).map(|t| parse(&t)))
}

fn time(object: &Map<String, Value>, at: &PathRef<'_>, key: &str) -> Result<Option<EventTime>, FieldError> {
    Ok(text(object, at, key)?.filter(|t| !t.trim().is_empty()).map(|t| EventTime::parse(&t)))
}

fn account(object: &Map<String, Value>, at: &PathRef<'_>, key: &str) -> Result<Option<AccountId>, FieldError> {
    match text(object, at, key)? {
        None => Ok(None),
        Some(text) => {
            AccountId::parse(&text).map(Some).ok_or_else(|| invalid(at.key(key), "a 12-digit account id", &text))
        }
    }
}

fn flag(object: &Map<String, Value>, at: &PathRef<'_>, key: &str) -> Result<Option<bool>, FieldError> {
    match present(object, key) {
        None => Ok(None),
        Some(Value::Bool(flag)) => Ok(Some(*flag)),
        Some(Value::String(text)) if text.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(text)) if text.eq_ignore_ascii_case("false") || text.is_empty() => Ok(Some(false)),
        Some(Value::String(text)) => Err(invalid(at.key(key), "\"true\" or \"false\"", text)),
        Some(other) => Err(wrong_type(at.key(key), "\"true\" or \"false\"", other)),
    }
}

fn count(object: &Map<String, Value>, at: &PathRef<'_>, key: &str) -> Result<Option<u32>, FieldError> {
    match present(object, key) {
        None => Ok(None),
        Some(Value::String(text)) => text
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .map(Some)
            .ok_or_else(|| invalid(at.key(key), "a positive whole number", text)),
        Some(Value::Number(number)) => number
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0)
            .map(Some)
            .ok_or_else(|| invalid(at.key(key), "a positive whole number", &number.to_string())),
        Some(other) => Err(wrong_type(at.key(key), "a positive whole number", other)),
    }
}

fn page(detail: &Map<String, Value>, at: &PathRef<'_>) -> Checked<Option<Page>> {
    let pages = (count(detail, at, "page").lift().into_validated() + count(detail, at, "totalPages").lift())
        .into_result()
        .map_err(|errors| errors.into_iter().flatten().collect::<Vec<_>>())?;
    let hlist_pat![number, total] = pages;
    Ok(match (number, total) {
        (Some(number), Some(total)) => Some(Page { number, total: total.max(number) }),
        (Some(number), None) => Some(Page { number, total: number }),
        (None, _) => None,
    })
}

/// Validates each element of an optional array, collecting every element's errors.
fn each<T>(
    object: &Map<String, Value>,
    at: &PathRef<'_>,
    key: &str,
    element: impl Fn(&Value, PathRef<'_>) -> Checked<T>,
) -> Checked<Vec<T>> {
    let items = match present(object, key) {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => return Err(vec![wrong_type(at.key(key), "an array", other)]),
    };
    let mut values = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    let list = PathRef::Key(at, key);
    for (i, item) in items.iter().enumerate() {
        match element(item, PathRef::Index(&list, i)) {
            Ok(value) => values.push(value),
            Err(found) => errors.extend(found),
        }
    }
    if errors.is_empty() { Ok(values) } else { Err(errors) }
}

fn texts(object: &Map<String, Value>, at: &PathRef<'_>, key: &str) -> Checked<Vec<String>> {
    each(object, at, key, |item, path| match item {
        Value::String(text) => Ok(text.clone()),
        other => Err(vec![wrong_type(path.to_path(), "a string", other)]),
    })
}

fn text_map(object: &Map<String, Value>, at: &PathRef<'_>, key: &str) -> Checked<BTreeMap<String, String>> {
    let entries = match present(object, key) {
        None => return Ok(BTreeMap::new()),
        Some(Value::Object(entries)) if !is_marker(present(object, key)) => entries,
        Some(other) => return Err(vec![wrong_type(at.key(key), "an object of strings", other)]),
    };
    let errors: Vec<FieldError> = entries
        .iter()
        .filter(|(_, value)| !value.is_string() && !value.is_null())
        .map(|(name, value)| wrong_type(PathRef::Key(at, key).key(name), "a string", value))
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(entries.iter().filter_map(|(name, value)| value.as_str().map(|v| (name.clone(), v.to_owned()))).collect())
}

fn descriptions(detail: &Map<String, Value>, at: &PathRef<'_>) -> Checked<Vec<Description>> {
    each(detail, at, "eventDescription", |item, path| {
        let Value::Object(entry) = item else {
            return Err(vec![wrong_type(path.to_path(), "an object", item)]);
        };
        if is_marker(Some(item)) {
            return Err(vec![wrong_type(path.to_path(), "an object", item)]);
        }
        let (language, text) = (text(entry, &path, "language").lift().into_validated()
            + required_text(entry, &path, "latestDescription").lift())
        .into_result()
        .map_err(|errors| errors.into_iter().flatten().collect::<Vec<_>>())?
        .into_tuple2();
        Ok(Description { language: language.unwrap_or_default(), text })
    })
}

fn entities(detail: &Map<String, Value>, at: &PathRef<'_>) -> Checked<Vec<Entity>> {
    each(detail, at, "affectedEntities", |item, path| {
        let Value::Object(entry) = item else {
            return Err(vec![wrong_type(path.to_path(), "an object", item)]);
        };
        if is_marker(Some(item)) {
            return Err(vec![wrong_type(path.to_path(), "an object", item)]);
        }
        let status_key = if present(entry, "status").is_some() { "status" } else { "statusCode" };
        let updated_key =
            if present(entry, "lastUpdatedTime").is_some() { "lastUpdatedTime" } else { "lastupdatedTime" };
        let hlist_pat![value, status, last_updated, tags] =
            (required_text(entry, &path, "entityValue").lift().into_validated()
                + open_value(entry, &path, status_key, EntityStatus::parse).lift()
                + time(entry, &path, updated_key).lift()
                + text_map(entry, &path, "tags"))
            .into_result()
            .map_err(|errors| errors.into_iter().flatten().collect::<Vec<_>>())?;
        Ok(Entity { value, status, last_updated, tags })
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::validate;
    use crate::json_numbers;

    #[test]
    fn a_number_out_of_range_in_any_field_is_named_as_that_field() {
        let text = r#"{"account": 1e400, "detail": {"eventArn": "a", "eventTypeCode": "T", "page": 1e999,
            "affectedEntities": [{"entityValue": "i-1", "tags": {"k": 2e400}}, 3e400], "eventMetadata": 9e999}}"#;
        let errors = validate(&json_numbers::from_str(text).unwrap()).unwrap_err().to_string();
        for (path, expected) in [
            ("account", "a string"),
            ("detail.page", "a positive whole number"),
            ("detail.affectedEntities[0].tags.k", "a string"),
            ("detail.affectedEntities[1]", "an object"),
            ("detail.eventMetadata", "an object of strings"),
        ] {
            assert!(
                errors.contains(&format!("{path}: expected {expected}, found a number out of range")),
                "{path}: {errors}"
            );
        }
    }

    fn wrong_tags(count: usize) -> super::ValidationErrors {
        let tags: serde_json::Map<String, serde_json::Value> =
            (0..count).map(|i| (format!("k{i:05}"), json!(i))).collect();
        let event = json!({"detail": {"eventArn": "a", "eventTypeCode": "T", "eventMetadata": tags}});
        validate(&event).expect_err("every metadata value is a number")
    }

    #[test]
    fn a_summary_lists_the_first_errors_and_counts_the_rest() {
        let summary = wrong_tags(50_000).summary(2, 2_000);
        assert_eq!(
            summary,
            "50000 invalid fields: detail.eventMetadata.k00000: expected a string, found a number; \
             detail.eventMetadata.k00001: expected a string, found a number; +49998 more"
        );
    }

    #[test]
    fn a_summary_cuts_long_errors_and_says_how_many_it_did_not_show() {
        let summary = wrong_tags(3).summary(20, 90);
        assert_eq!(
            summary,
            "3 invalid fields: detail.eventMetadata.k00000: expected a string, found a number; \
             detail.eventMetadata.k00001:…; +1 more"
        );
    }

    #[test]
    fn a_short_summary_is_the_display() {
        let errors = wrong_tags(2);
        assert_eq!(errors.summary(20, 2_000), errors.to_string());
    }
}
