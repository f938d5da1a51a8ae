//! What can still be read from an event that failed validation, so that a degraded card can be
//! posted instead of nothing: every wrong field is dropped (an entity or description with a wrong
//! field is dropped whole), and missing required fields get placeholders that say so.

use either::Either;
use serde_json::{Map, Value, json};

use super::{HealthEvent, ValidationErrors, validate};
use crate::fingerprint::fnv1a;
use crate::json_path::{JsonPath, Segment};

/// `detail.eventTypeCode` of a salvaged event that had none.
pub const UNKNOWN_TYPE_CODE: &str = "UNKNOWN_EVENT_TYPE";

/// An event that failed validation: what could be read, and what was wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Salvaged {
    /// The readable remainder, with placeholders for missing required fields.
    pub event: HealthEvent,
    /// Every problem validation found.
    pub errors: ValidationErrors,
}

/// Validates `raw`; when that fails, salvages what it can. Never fails.
pub fn check(raw: &Value) -> Either<HealthEvent, Salvaged> {
    match validate(raw) {
        Ok(event) => Either::Left(event),
        Err(errors) => Either::Right(Salvaged { event: salvage(raw, &errors), errors }),
    }
}

/// The readable remainder of an event that failed validation with `errors`.
pub fn salvage(raw: &Value, errors: &ValidationErrors) -> HealthEvent {
    let mut value = if raw.is_object() { raw.clone() } else { json!({}) };
    // Each array element once, however many of its fields are wrong: removing one twice would
    // remove its valid neighbour. Highest indexes first, so removing one array element never
    // shifts another still to remove.
    let mut doomed: Vec<&[Segment]> = errors.errors().iter().map(|error| doomed_part(&error.path)).collect();
    doomed.sort();
    doomed.dedup();
    for segments in doomed.into_iter().rev() {
        drop_at(&mut value, segments);
    }
    let fallback_id = || {
        let id = raw.get("id").and_then(Value::as_str).filter(|id| !id.is_empty());
        id.map_or_else(|| format!("{:016x}", fnv1a(raw.to_string().as_bytes())), |id| id.chars().take(64).collect())
    };
    if let Some(top) = value.as_object_mut() {
        let detail = top.entry("detail").or_insert_with(|| json!({}));
        if !detail.is_object() {
            *detail = json!({});
        }
        if let Some(detail) = detail.as_object_mut() {
            fill(detail, "eventArn", || format!("unknown-event/{}", fallback_id()));
            fill(detail, "eventTypeCode", || UNKNOWN_TYPE_CODE.to_owned());
        }
    }
    validate(&value).unwrap_or_else(|_| {
        let minimal = json!({"detail": {"eventArn": format!("unknown-event/{}", fallback_id()), "eventTypeCode": UNKNOWN_TYPE_CODE}});
        validate(&minimal).expect("a minimal event with both required fields always validates")
    })
}

fn fill(detail: &mut Map<String, Value>, key: &str, placeholder: impl FnOnce() -> String) {
    let usable = detail.get(key).and_then(Value::as_str).is_some_and(|text| !text.trim().is_empty());
    if !usable {
        detail.insert(key.to_owned(), Value::String(placeholder()));
    }
}

/// What a wrong field at `path` costs: the whole array element when the path runs through an
/// array, else the object member.
fn doomed_part(path: &JsonPath) -> &[Segment] {
    let segments = path.segments();
    let cut =
        segments.iter().rposition(|segment| matches!(segment, Segment::Index(_))).map_or(segments.len(), |i| i + 1);
    &segments[..cut]
}

/// Removes the array element or object member at `segments`.
fn drop_at(value: &mut Value, segments: &[Segment]) {
    let Some((last, parents)) = segments.split_last() else {
        return;
    };
    let mut parent = value;
    for segment in parents {
        let child = match segment {
            Segment::Key(key) => parent.get_mut(key.as_str()),
            Segment::Index(index) => parent.get_mut(*index),
        };
        match child {
            Some(child) => parent = child,
            None => return,
        }
    }
    match (last, parent) {
        (Segment::Key(key), Value::Object(object)) => {
            object.remove(key);
        }
        (Segment::Index(index), Value::Array(items)) if *index < items.len() => {
            items.remove(*index);
        }
        _ => {}
    }
}
