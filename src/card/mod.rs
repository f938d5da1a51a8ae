//! Stage 4: what an event's card says, so that people understand it in two seconds — in words,
//! for any chat service. [`render`] works out the headline (severity mark and the event type in
//! words), the facts (severity, account, Region, service, times), the description, the affected
//! resources and the details, as a channel-neutral [`Card`]; a channel lays it out in its own
//! format within its own limits ([`crate::chat`] for Google Chat). No markup and no I/O here.

mod clock;
mod event;
mod links;
pub mod model;
mod names;
pub mod rollup;
mod rows;
mod severity;
pub mod text;
mod thread;

use crate::accounts::EnrichedEvent;
use crate::health::ValidationErrors;
pub use clock::{Clock, duration, relative};
pub use links::{event_link, link_section};
pub use model::{Card, Mention};
pub use names::{event_title, humanised, service_name};
pub use severity::{Severity, SeverityRules, assess, assess_as_open};
pub use thread::{MAX_THREAD_KEY_BYTES, rollup_key, thread_key};

/// The id of delibird's event card.
pub const CARD_ID: &str = "aws-health-event";

/// How cards look: settings that come from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardSettings {
    /// Keyword lists for severity.
    pub severity: SeverityRules,
    /// The description language to prefer (`en_US` and then the first one are the fallbacks).
    pub language: String,
    /// Where "now" comes from, for relative times ("starts in 3 days"): the system clock, or a
    /// fixed instant for reproducible cards.
    pub clock: Clock,
}

impl Default for CardSettings {
    fn default() -> Self {
        Self { severity: SeverityRules::default(), language: "en_US".to_owned(), clock: Clock::System }
    }
}

/// The card of an event — with the problems found in it, for a degraded card. Total: any event
/// has one.
pub fn render(event: &EnrichedEvent, problems: Option<&ValidationErrors>, settings: &CardSettings) -> Card {
    event::card(event, problems, settings)
}
