//! The Lambda handler: every record of an invocation through the pipeline ([`process`]),
//! concurrently, one bad record never stopping the others, and the invocation's answer.
//!
//! What failure means depends on how the records came:
//! - **SQS** (`ReportBatchItemFailures`): the response lists the message ids of the records that
//!   failed; only those are redelivered, and after the queue's receive limit they move to its
//!   dead-letter queue. A message is acknowledged only once its card was accepted or recognised as
//!   a duplicate.
//! - **SNS and anything else**: the invocation returns `Err` when any record failed, so Lambda
//!   retries it (twice for asynchronous invocations) and then sends it to the on-failure
//!   destination. Records already posted are recognised as duplicates on the retry.
//!
//! A record fails when it holds no event or its card could not be delivered to one of its
//! spaces. An event that fails validation is posted as a degraded card and is not a failure; an
//! event the rules route nowhere is dropped, logged, and not a failure.

mod outcome;
mod record;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use tokio::time::Instant;

use crate::deps::Deps;
use crate::envelope::{self, EnvelopeError, Transport};
pub use outcome::{Outcome, Posting, Sent};
pub use record::process;

/// Time allowed when the invocation has no deadline (a `Context::default()` in tests and the CLI).
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(60);

/// Counts of what an invocation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Records found.
    pub records: usize,
    /// Cards posted (a record routed to several spaces counts once per space).
    pub posted: usize,
    /// Of those, degraded cards for events that failed validation.
    pub degraded: usize,
    /// Cards (one per record and space) recognised as updates already posted.
    pub duplicates: usize,
    /// Later pages folded into page 1.
    pub folded: usize,
    /// Records that failed (reported for redelivery).
    pub failed: usize,
    /// Records routed nowhere by the rules (absent when none).
    #[serde(skip_serializing_if = "is_zero")]
    pub dropped: usize,
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

/// A successful invocation's response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Response {
    /// For SQS: the messages to redeliver (`ReportBatchItemFailures`).
    Batch(SqsBatchResponse),
    /// For everything else: what was done.
    Summary(Summary),
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
pub async fn handle(event: LambdaEvent<Value>, deps: &Deps) -> Result<Response, HandlerError> {
    let deadline = deadline_of(&event.context);
    let records = envelope::parse_value(&event.payload).inspect_err(|error| {
        tracing::error!(request_id = %event.context.request_id, error = %error, "invocation holds no record");
    })?;
    let outcomes = futures::future::join_all(records.iter().map(|record| process(record, deps, deadline))).await;
    let summary = summarise(&outcomes);
    tracing::info!(
        request_id = %event.context.request_id,
        records = summary.records,
        posted = summary.posted,
        degraded = summary.degraded,
        duplicates = summary.duplicates,
        folded = summary.folded,
        failed = summary.failed,
        dropped = summary.dropped,
        "invocation done"
    );
    if records.iter().all(|record| record.transport == Transport::Sqs) {
        let mut failed_ids: Vec<String> = records
            .iter()
            .zip(&outcomes)
            .filter(|(_, outcome)| outcome.is_failure())
            .map(|(record, _)| record.message_id.clone().unwrap_or_default())
            .collect();
        failed_ids.dedup();
        let mut response = SqsBatchResponse::default();
        response.batch_item_failures = failed_ids
            .into_iter()
            .map(|item_identifier| {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = item_identifier;
                failure
            })
            .collect();
        return Ok(Response::Batch(response));
    }
    if summary.failed > 0 {
        let count = |f: fn(&Outcome) -> bool| outcomes.iter().filter(|outcome| f(outcome)).count();
        return Err(HandlerError::Records {
            records: summary.records,
            failed: summary.failed,
            unusable: count(|o| matches!(o, Outcome::Unusable(_))),
            undelivered: count(Outcome::is_undelivered),
        });
    }
    Ok(Response::Summary(summary))
}

/// Counts the outcomes of one invocation.
pub fn summarise(outcomes: &[Outcome]) -> Summary {
    outcomes.iter().fold(Summary { records: outcomes.len(), ..Summary::default() }, |mut summary, outcome| {
        match outcome {
            Outcome::Unusable(_) => {}
            Outcome::Folded => summary.folded += 1,
            Outcome::Dropped { .. } => summary.dropped += 1,
            Outcome::Sent { problems, sent, .. } => {
                for sent in sent {
                    match sent.posting {
                        Posting::Posted(_) => {
                            summary.posted += 1;
                            summary.degraded += usize::from(problems.is_some());
                        }
                        Posting::Duplicate => summary.duplicates += 1,
                        Posting::Undelivered(_) => {}
                    }
                }
            }
        }
        summary.failed += usize::from(outcome.is_failure());
        summary
    })
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
