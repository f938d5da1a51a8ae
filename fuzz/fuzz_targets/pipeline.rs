//! The stages after the envelope, as the handler runs them (validate or salvage, enrich, render),
//! and the invariants every fuzz target holds their result to.

// Shared by several targets, each of which uses a part.
#![allow(dead_code)]

#[path = "../../tests/integration/support/card_safety.rs"]
mod card_safety;

use chrono::{TimeZone, Utc};
use delibird::accounts::{StaticAliases, enrich};
use delibird::card::{CardSettings, Clock};
use delibird::chat::{limits, message as render};
use delibird::health::{self, AccountId};
use serde_json::Value;

/// Settings with the clock pinned, so that a crash reproduces whenever it is replayed.
pub fn settings() -> CardSettings {
    CardSettings { clock: Clock::Fixed(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()), ..CardSettings::default() }
}

/// Account names as AWS Organizations may hold them: whoever creates an account names it.
pub fn hostile_aliases() -> StaticAliases {
    hostile_aliases_list().into_iter().collect()
}

/// [`hostile_aliases`] as a list, for targets that add names of their own.
pub fn hostile_aliases_list() -> Vec<(AccountId, String)> {
    [
        ("123456789012", "<a href=\"javascript:alert(1)\">prod</a>"),
        ("111122223333", "</b><font color=\"#00ff00\">&amp;<script>x</script>"),
        ("999988887777", "\u{202E}dorp\u{200B}\u{0000}"),
    ]
    .into_iter()
    .filter_map(|(id, name)| Some((AccountId::parse(id)?, name.to_owned())))
    .collect()
}

/// Validates `raw` (salvaging it when invalid), enriches it with `aliases` and renders it, then
/// checks the card: within Chat's limits, no markup or link that is not delibird's own.
pub fn check_and_render(raw: &Value, aliases: &StaticAliases) {
    let health::Checked { event, problems } = health::check(raw);
    if let Some(problems) = &problems {
        assert!(!problems.errors().is_empty(), "an invalid event with no error listed");
    }
    assert!(!event.arn.as_str().trim().is_empty(), "an event without an ARN got through");
    assert!(!event.type_code.trim().is_empty(), "an event without a type code got through");
    let enriched = futures::executor::block_on(enrich(event, aliases));
    let message = render(&enriched, problems.as_ref(), &settings());
    assert!(limits::within_limits(&message), "render returned a message beyond Chat's limits");
    let body = serde_json::to_value(&message).expect("a Message serializes");
    let found = card_safety::problems(&body);
    assert!(found.is_empty(), "unsafe card: {found:#?}\n{body}");
}
