//! Stage 1 on any bytes: `envelope::parse` never panics, and every record it finds either holds an
//! EventBridge-shaped event (an object with `detail`) or says, with a location, why it does not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(records) = delibird::envelope::parse(bytes) else { return };
    assert!(!records.is_empty(), "parse succeeded with no record");
    for record in &records {
        let _ = record.location.to_string();
        match &record.event {
            Ok(event) => assert!(event.get("detail").is_some(), "an event without `detail` at {}", record.location),
            Err(error) => assert!(!error.to_string().is_empty()),
        }
    }
});
