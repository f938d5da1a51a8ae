//! The Lambda handler: every record of an invocation through the five stages, concurrently, one
//! bad record never stopping the others, one JSON log line per record.
//!
//! What an `Err` means to Lambda: it retries the invocation (asynchronous invocations twice) and
//! then sends it to the dead-letter destination. So the handler returns `Err` when a record is not
//! an event at all or its card could not be delivered: nothing is dropped silently. An event that
//! fails validation is still posted, as a degraded card, and is not an error.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use either::Either;
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use tokio::time::Instant;

use crate::accounts::{StaticAliases, enrich};
use crate::card::{CardSettings, render, thread_key};
use crate::envelope::{self, EnvelopeError, Record, RecordError};
use crate::health::{self, ValidationErrors};
use crate::webhook::{Delivery, DeliveryError, RetryPolicy, WebhookUrl, deliver};

/// Time allowed when the invocation has no deadline (a `Context::default()` in tests and the CLI).
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(60);

/// What the handler needs, built once at start.
#[derive(Debug, Clone)]
pub struct Deps {
    /// The one HTTP client (connection pool) for the webhook.
    pub client: reqwest::Client,
    /// Where cards go.
    pub webhook: WebhookUrl,
    /// Account names.
    pub aliases: StaticAliases,
    /// How cards look.
    pub card: CardSettings,
    /// How hard delivery tries.
    pub retry: RetryPolicy,
}

/// What happened to one record.
#[derive(Debug)]
pub enum Outcome {
    /// The card was accepted by Chat; `problems` is set for a degraded card.
    Posted {
        /// The delivery.
        delivery: Delivery,
        /// What was wrong with the event, for a degraded card.
        problems: Option<ValidationErrors>,
    },
    /// The record holds no event.
    Unusable(RecordError),
    /// The card could not be delivered.
    Undelivered(DeliveryError),
}

impl Outcome {
    /// True when the record needs another try (or the dead-letter queue).
    pub fn is_failure(&self) -> bool {
        !matches!(self, Self::Posted { .. })
    }
}

/// The response of a successful invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Records found.
    pub records: usize,
    /// Cards posted.
    pub posted: usize,
    /// Of those, degraded cards for events that failed validation.
    pub degraded: usize,
}

/// Why an invocation failed. Lambda retries it, then moves it to the dead-letter destination.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The input holds no record at all.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// Some records were not events, or their cards were not delivered.
    #[error(
        "{failed} of {records} records failed ({unusable} not an event, {undelivered} not delivered); see the per-record log lines"
    )]
    Records {
        /// Records in the invocation.
        records: usize,
        /// Records that failed.
        failed: usize,
        /// Of those, records holding no event.
        unusable: usize,
        /// Of those, cards not delivered.
        undelivered: usize,
    },
}

impl From<HandlerError> for Diagnostic {
    /// Stable `errorType`s for alarms and metric filters.
    fn from(error: HandlerError) -> Self {
        let error_type = match &error {
            HandlerError::Envelope(_) => "delibird.NoEvent",
            HandlerError::Records { undelivered: 0, .. } => "delibird.NotAnEvent",
            HandlerError::Records { .. } => "delibird.DeliveryFailed",
        };
        Diagnostic { error_type: error_type.to_owned(), error_message: error.to_string() }
    }
}

/// Handles one invocation: any envelope delibird accepts, every record concurrently.
pub async fn handle(event: LambdaEvent<Value>, deps: &Deps) -> Result<Summary, HandlerError> {
    let deadline = deadline_of(&event.context);
    let records = envelope::parse_value(&event.payload).inspect_err(|error| {
        tracing::error!(request_id = %event.context.request_id, error = %error, "invocation holds no record");
    })?;
    let outcomes = futures::future::join_all(records.iter().map(|record| process(record, deps, deadline))).await;
    let count = |f: fn(&Outcome) -> bool| outcomes.iter().filter(|outcome| f(outcome)).count();
    let unusable = count(|o| matches!(o, Outcome::Unusable(_)));
    let undelivered = count(|o| matches!(o, Outcome::Undelivered(_)));
    let degraded = count(|o| matches!(o, Outcome::Posted { problems: Some(_), .. }));
    let records = outcomes.len();
    if unusable + undelivered > 0 {
        return Err(HandlerError::Records { records, failed: unusable + undelivered, unusable, undelivered });
    }
    Ok(Summary { records, posted: records, degraded })
}

/// One record through validate → enrich → render → deliver, logged as one line.
pub async fn process(record: &Record, deps: &Deps, deadline: Instant) -> Outcome {
    let location = record.location.to_string();
    let message_id = record.message_id.as_deref().unwrap_or("");
    let raw = match &record.event {
        Ok(raw) => raw,
        Err(error) => {
            tracing::error!(location, message_id, outcome = "not_an_event", error = %error, "record failed");
            return Outcome::Unusable(error.clone());
        }
    };
    let (event, problems) = match health::check(raw) {
        Either::Left(event) => (event, None),
        Either::Right(salvaged) => (salvaged.event, Some(salvaged.errors)),
    };
    let enriched = enrich(event, &deps.aliases).await;
    let message = render(&enriched, problems.as_ref(), &deps.card);
    let event = &enriched.event;
    let thread = thread_key(event);
    let errors = problems.as_ref().map(ToString::to_string);
    match deliver(&deps.client, &deps.webhook, &message, &deps.retry, deadline).await {
        Ok(delivery) => {
            tracing::info!(
                location,
                message_id,
                outcome = if problems.is_some() { "posted_degraded" } else { "posted" },
                event_arn = %event.arn,
                event_type = %event.type_code,
                thread_key = %thread,
                attempts = delivery.attempts,
                validation_errors = errors,
                "record posted"
            );
            Outcome::Posted { delivery, problems }
        }
        Err(error) => {
            tracing::error!(
                location,
                message_id,
                outcome = "undelivered",
                event_arn = %event.arn,
                event_type = %event.type_code,
                attempts = error.attempts(),
                error = %error,
                validation_errors = errors,
                "record failed"
            );
            Outcome::Undelivered(error)
        }
    }
}

/// The invocation's deadline as an `Instant`; [`DEFAULT_BUDGET`] from now when it has none.
pub fn deadline_of(context: &Context) -> Instant {
    let now = Instant::now();
    if context.deadline == 0 {
        return now + DEFAULT_BUDGET;
    }
    let epoch_ms =
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    now + Duration::from_millis(context.deadline.saturating_sub(epoch_ms))
}
