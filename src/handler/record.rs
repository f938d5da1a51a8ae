//! One record made ready for its spaces — the first half of the one path every record takes,
//! whether or not rules route: validate (or salvage, for a degraded card) → identify the
//! notification update → find its spaces (routing rules read the event's view; without rules, the
//! one space). The second half ([`super::thread`]) posts each thread's records together. And the
//! record's one log line, once both halves are done.

use serde_json::Value;
use tokio::sync::OnceCell;

use super::outcome::{Outcome, Posting};
use crate::accounts::{EnrichedEvent, enrich};
use crate::card::Mention;
use crate::dedup::{Identity, Notification, identify};
use crate::deps::Deps;
use crate::envelope::Record;
use crate::health::{self, Checked, HealthEvent, ValidationErrors};
use crate::logging::chain;
use crate::rules;
use crate::spaces::Space;

/// Validation errors a log line lists (with the count of the rest), and about how many characters
/// it gives them: the card and the dead-letter queue keep the event itself.
const LOGGED_ERRORS: usize = 20;
const LOGGED_ERRORS_CHARS: usize = 2_000;

/// A record on its way: done already, or routed to its spaces.
pub(crate) enum Prepared<'a> {
    /// Nothing to post: no event, a later page, or routed nowhere.
    Done(Outcome),
    /// To post in each of its spaces.
    Routed(Box<Routed<'a>>),
}

/// A record the rules (or the one default space) sent somewhere.
pub(crate) struct Routed<'a> {
    /// Where the record is, for its log line.
    pub location: String,
    /// The transport's message id, for its log line.
    pub message_id: String,
    /// The event as validated or salvaged.
    pub event: HealthEvent,
    /// The event with account names, looked up at most once (before routing when a rule reads
    /// them, else only when a card is rendered).
    pub enriched: OnceCell<EnrichedEvent>,
    /// What was wrong with the event, for a degraded card.
    pub problems: Option<ValidationErrors>,
    /// The rules it matched, when rules route.
    pub rules: Option<Vec<String>>,
    /// Whether no rule matched, when rules route.
    pub unmatched: Option<bool>,
    /// Which update of which notification it is.
    pub notification: Notification,
    /// The spaces it goes to, each once, in the order the rules named them.
    pub spaces: Vec<&'a Space>,
    /// Who a new thread about it calls on, per space name.
    pub mentions: Vec<(&'a str, &'a Mention)>,
    /// The spaces, by name, it goes to the daily digest of alone (`digest_only` rules). None when
    /// the digest is off: then those rules post cards, so that nothing is lost.
    pub digest_only: Vec<&'a str>,
}

impl Routed<'_> {
    /// The event with account names, looked up now if it was not yet.
    pub async fn enriched(&self, deps: &Deps) -> &EnrichedEvent {
        self.enriched
            .get_or_init(|| async {
                let directory = deps.directory();
                enrich(self.event.clone(), &directory).await
            })
            .await
    }
}

/// Validates, identifies and routes one record.
pub(crate) async fn prepare<'a>(record: &Record, deps: &'a Deps) -> Prepared<'a> {
    let location = record.location.to_string();
    let message_id = record.message_id.clone().unwrap_or_default();
    let raw = match &record.event {
        Ok(raw) => raw,
        Err(error) => {
            tracing::error!(location, message_id, outcome = "not_an_event", error = %error, "record failed");
            return Prepared::Done(Outcome::Unusable(error.clone()));
        }
    };
    let Checked { event, problems } = health::check(raw);
    let notification = match identify(&event, deps.folding) {
        Identity::Post(notification) => notification,
        Identity::FoldedPage => {
            let page = event.page.map(|p| p.number).unwrap_or_default();
            tracing::info!(location, message_id, outcome = "folded_page", event_arn = %event.arn, page, "record folded");
            return Prepared::Done(Outcome::Folded);
        }
    };
    // The account is looked up before routing only when a rule reads it; else only for a card
    // that is posted, so that duplicates cost no lookup.
    let enriched = OnceCell::new();
    if deps.spaces.reads_accounts() {
        let _ = enriched.set(enrich(event.clone(), &deps.directory()).await);
    }
    let route = deps.spaces.route(|| view(raw, &event, enriched.get(), problems.is_some(), deps));
    let rules = route.rules.as_ref().map(|names| names.iter().map(|name| (*name).to_owned()).collect::<Vec<_>>());
    let unmatched = rules.is_some().then_some(route.unmatched);
    if route.spaces.is_empty() {
        tracing::info!(
            location, message_id, outcome = "dropped", event_arn = %event.arn, event_type = %event.type_code,
            notification = %notification.id(), rules = rules.as_deref().map(|r| r.join(",")), unmatched,
            "record dropped"
        );
        return Prepared::Done(Outcome::Dropped { rules: rules.unwrap_or_default() });
    }
    Prepared::Routed(Box::new(Routed {
        location,
        message_id,
        event,
        enriched,
        problems,
        rules,
        unmatched,
        notification,
        spaces: route.spaces,
        mentions: route.mentions,
        digest_only: if deps.schedule.digest.is_some() { route.digest_only } else { Vec::new() },
    }))
}

/// The event's view for the rules: enriched when a rule reads accounts (it was looked up then).
fn view(raw: &Value, event: &HealthEvent, enriched: Option<&EnrichedEvent>, degraded: bool, deps: &Deps) -> Value {
    match enriched {
        Some(enriched) => rules::view(raw, enriched, degraded, &deps.card),
        None => rules::view(raw, &EnrichedEvent::bare(event.clone()), degraded, &deps.card),
    }
}

/// The one log line of a record sent to its spaces: posted (`record posted`), all duplicates
/// (`record skipped`) or some space not delivered (`record failed`, an error).
pub(crate) fn log(routed: &Routed<'_>, outcome: &Outcome) {
    let Outcome::Sent { rules, problems, sent } = outcome else { return };
    let names = |wanted: fn(&Posting) -> bool| {
        let names: Vec<&str> = sent.iter().filter(|s| wanted(&s.posting)).map(|s| s.space.as_str()).collect();
        (!names.is_empty()).then(|| names.join(","))
    };
    let posted = names(|p| matches!(p, Posting::Posted(_) | Posting::Included));
    let duplicate = names(|p| matches!(p, Posting::Duplicate));
    let digest = names(|p| matches!(p, Posting::Digest));
    let failed = names(Posting::is_failure);
    let attempts: u32 = sent.iter().map(|s| s.posting.attempts()).sum();
    let errors: Vec<String> = sent
        .iter()
        .filter_map(|s| {
            let error = s.posting.error()?;
            Some(if sent.len() == 1 { error } else { format!("{}: {error}", s.space) })
        })
        .collect();
    let (outcome, message) = match (&failed, &posted) {
        (Some(_), _) => ("undelivered", "record failed"),
        (None, Some(_)) if problems.is_some() => ("posted_degraded", "record posted"),
        (None, Some(_)) => ("posted", "record posted"),
        (None, None) if digest.is_some() => ("kept_for_digest", "record kept for the digest"),
        (None, None) => ("duplicate", "record skipped"),
    };
    let webhooks = sent.iter().map(|s| s.space.as_str()).collect::<Vec<_>>().join(",");
    let validation_errors = problems.as_ref().map(|p| p.summary(LOGGED_ERRORS, LOGGED_ERRORS_CHARS));
    let rules = rules.as_ref().map(|rules| rules.join(","));
    let error = (!errors.is_empty()).then(|| errors.join("; "));
    let (event, notification) = (&routed.event, routed.notification.id());
    macro_rules! line {
        ($level:ident) => {
            tracing::$level!(
                location = routed.location,
                message_id = routed.message_id,
                outcome,
                event_arn = %event.arn,
                event_type = %event.type_code,
                notification,
                rules,
                unmatched = routed.unmatched,
                webhooks,
                posted,
                duplicate,
                digest,
                failed,
                attempts,
                error,
                validation_errors,
                "{message}"
            )
        };
    }
    if failed.is_some() {
        line!(error);
    } else {
        line!(info);
    }
}

impl Posting {
    /// Attempts made at the webhook.
    pub fn attempts(&self) -> u32 {
        match self {
            Self::Posted(delivery) => delivery.attempts,
            Self::Undelivered(error) => error.attempts(),
            Self::Included | Self::Duplicate | Self::Digest | Self::Held | Self::Postponed => 0,
        }
    }

    /// Why it failed, for a log line.
    fn error(&self) -> Option<String> {
        match self {
            Self::Undelivered(error) => Some(chain(error)),
            Self::Held => Some("another invocation that is still running holds this thread; left for a retry".into()),
            Self::Postponed => Some("not started: the invocation's deadline is near; left for a retry".into()),
            Self::Posted(_) | Self::Included | Self::Duplicate | Self::Digest => None,
        }
    }
}
