//! The whole pure pipeline on any bytes, as the handler runs it: envelope → validate (or salvage)
//! → enrich (with hostile account names) → render. Every card must be within Google Chat's limits
//! and hold no markup or link that is not delibird's own (`tests/integration/support/card_safety.rs`).
#![no_main]

mod pipeline;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(records) = delibird::envelope::parse(bytes) else { return };
    let aliases = pipeline::hostile_aliases();
    for raw in records.iter().filter_map(|record| record.event.as_ref().ok()) {
        pipeline::check_and_render(raw, &aliases);
    }
});
