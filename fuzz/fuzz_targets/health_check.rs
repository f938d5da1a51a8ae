//! Stage 2 on any JSON: `health::validate` never panics and lists at least one error when it
//! refuses; `health::check` always salvages an event with an ARN and a type code. The JSON is read
//! as an envelope first (as the handler does) and, when it is none, as an event itself.
#![no_main]

use delibird::health;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn check(raw: &Value) {
    if let Err(errors) = health::validate(raw) {
        assert!(!errors.errors().is_empty(), "validation failed without an error");
        let _ = errors.to_string();
    }
    let checked = health::check(raw);
    assert!(!checked.event.arn.as_str().trim().is_empty());
    if checked.problems.is_some() {
        assert!(!checked.event.type_code.trim().is_empty());
    }
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(bytes) else { return };
    match delibird::envelope::parse_value(&value) {
        Ok(records) => records.iter().filter_map(|record| record.event.as_ref().ok()).for_each(check),
        Err(_) => check(&value),
    }
});
