//! What can still be read from an event that failed validation, so that a degraded card can be
//! posted instead of nothing: every wrong field is dropped (an entity or description with a wrong
//! field is dropped whole), and missing required fields get placeholders that say so.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::{HealthEvent, ValidationErrors, validate};
use crate::fingerprint::fnv1a;
use crate::json_path::{JsonPath, Segment};

/// `detail.eventTypeCode` of a salvaged event that had none.
pub const UNKNOWN_TYPE_CODE: &str = "UNKNOWN_EVENT_TYPE";

/// An event as the pipeline goes on with it: valid, or what could be read of it and what was
/// wrong (for a degraded card).
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// The event; for an invalid one, the readable remainder with placeholders for missing
    /// required fields.
    pub event: HealthEvent,
    /// Every problem validation found; `None` for a valid event.
    pub problems: Option<ValidationErrors>,
}

/// Validates `raw`; when that fails, salvages what it can. Never fails.
pub fn check(raw: &Value) -> Checked {
    match validate(raw) {
        Ok(event) => Checked { event, problems: None },
        Err(errors) => Checked { event: salvage(raw, &errors), problems: Some(errors) },
    }
}

/// The readable remainder of an event that failed validation with `errors`.
pub fn salvage(raw: &Value, errors: &ValidationErrors) -> HealthEvent {
    let mut value = if raw.is_object() { raw.clone() } else { json!({}) };
    // Each array element once, however many of its fields are wrong: removing one twice would
    // remove its valid neighbour. Elements are removed in one pass over their array, not one at a
    // time: each removal shifted the rest of the array, so salvaging was quadratic in the invalid
    // entities (300,000 entities, every other one invalid: 13 s, now 2 s).
    let mut members = BTreeSet::new();
    let mut elements: BTreeMap<&[Segment], BTreeSet<usize>> = BTreeMap::new();
    for error in errors.errors() {
        let doomed = doomed_part(&error.path);
        match doomed.split_last() {
            Some((Segment::Index(index), array)) => {
                elements.entry(array).or_default().insert(*index);
            }
            Some(_) => {
                members.insert(doomed);
            }
            None => {}
        }
    }
    for segments in members {
        drop_at(&mut value, segments);
    }
    for (array, indexes) in elements {
        if let Some(Value::Array(items)) = value_at(&mut value, array) {
            let mut index = 0;
            items.retain(|_| {
                index += 1;
                !indexes.contains(&(index - 1))
            });
        }
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

/// The value at `segments`, if there is one.
fn value_at<'a>(value: &'a mut Value, segments: &[Segment]) -> Option<&'a mut Value> {
    segments.iter().try_fold(value, |parent, segment| match segment {
        Segment::Key(key) => parent.get_mut(key.as_str()),
        Segment::Index(index) => parent.get_mut(*index),
    })
}

/// Removes the object member at `segments`.
fn drop_at(value: &mut Value, segments: &[Segment]) {
    let Some((Segment::Key(key), parents)) = segments.split_last() else {
        return;
    };
    if let Some(Value::Object(object)) = value_at(value, parents) {
        object.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn drops_exactly_the_invalid_elements_of_every_array_in_one_pass() {
        let raw = json!({"resources": ["r0", 1, "r2"], "detail": {
            "eventArn": "arn:aws:health:us-east-1::event/X", "eventTypeCode": "X",
            "affectedEntities": [{"entityValue": 0}, {"entityValue": "e1"}, {"entityValue": "e2", "status": []},
                                 {"entityValue": "e3"}, "e4"],
            "eventDescription": [{"latestDescription": 5}, {"latestDescription": "d1"}],
            "eventMetadata": {"bad": 1, "good": "yes"}
        }});
        let Checked { event, problems: Some(_) } = check(&raw) else { panic!("the event is invalid") };
        assert_eq!(event.resources, ["r0", "r2"]);
        assert_eq!(event.entities.iter().map(|e| e.value.as_str()).collect::<Vec<_>>(), ["e1", "e3"]);
        assert_eq!(event.descriptions.iter().map(|d| d.text.as_str()).collect::<Vec<_>>(), ["d1"]);
        assert_eq!(event.metadata.into_iter().collect::<Vec<_>>(), [("good".to_owned(), "yes".to_owned())]);
    }
}
