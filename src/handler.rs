//! The Lambda handler: every record of an invocation through the pipeline, concurrently, one bad
//! record never stopping the others, one JSON log line per record.
//!
//! Per record: validate (or salvage, for a degraded card) → identify the notification update →
//! claim it in the dedup store (a duplicate stops here) → enrich → render → deliver (paced to the
//! webhook's rate) → confirm the claim, or release it when delivery failed.
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
//! A record fails when it holds no event or its card could not be delivered. An event that fails
//! validation is posted as a degraded card and is not a failure.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse};
use either::Either;
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use tokio::time::Instant;

use crate::accounts::{Layered, Organizations, StaticAliases, enrich};
use crate::card::{CardSettings, render};
use crate::config::Config;
use crate::dedup::{
    CLAIM_LEASE, Claim, DedupStore, DynamoStore, Folding, Identity, MemoryStore, Notification, Store, identify,
};
use crate::envelope::{self, EnvelopeError, Record, RecordError, Transport};
use crate::health::{self, ValidationErrors};
use crate::logging::chain;
use crate::webhook::{CHAT_INTERVAL, Delivery, DeliveryError, Pacer, RetryPolicy, WebhookUrl, deliver, http_client};

/// Time allowed when the invocation has no deadline (a `Context::default()` in tests and the CLI).
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(60);

/// What the handler needs, built once at start and kept across warm invocations.
#[derive(Debug)]
pub struct Deps {
    /// The one HTTP client (connection pool) for the webhook.
    pub client: reqwest::Client,
    /// Where cards go.
    pub webhook: WebhookUrl,
    /// Spaces requests to the webhook at Chat's rate.
    pub pacer: Pacer,
    /// Account names from configuration: they win.
    pub aliases: StaticAliases,
    /// Account names from AWS Organizations, when configured.
    pub organizations: Option<Organizations>,
    /// How cards look.
    pub card: CardSettings,
    /// How hard delivery tries.
    pub retry: RetryPolicy,
    /// Where delivered updates are remembered.
    pub dedup: Store,
    /// Whether backup-Region copies and later pages fold into one notification.
    pub folding: Folding,
}

impl Deps {
    /// Defaults for everything but the client and the webhook: Chat's pacing, no aliases,
    /// default cards and retries, an in-memory dedup store, folding on.
    pub fn new(client: reqwest::Client, webhook: WebhookUrl) -> Self {
        Self {
            client,
            webhook,
            pacer: Pacer::new(CHAT_INTERVAL),
            aliases: StaticAliases::default(),
            organizations: None,
            card: CardSettings::default(),
            retry: RetryPolicy::default(),
            dedup: Store::Memory(MemoryStore::new()),
            folding: Folding::default(),
        }
    }
}

impl Deps {
    /// Everything from configuration: the DynamoDB dedup store when a table is named (the AWS
    /// SDK's standard settings apply), else memory.
    pub async fn from_config(config: Config, webhook: WebhookUrl) -> reqwest::Result<Self> {
        let sdk = match (&config.dedup_table, &config.organizations) {
            (None, None) => None,
            _ => Some(aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await),
        };
        let dedup = match (&config.dedup_table, &sdk) {
            (Some(table), Some(sdk)) => Store::Dynamo(DynamoStore::new(sdk, table, config.dedup_ttl)),
            _ => Store::Memory(MemoryStore::new()),
        };
        let organizations = match (&config.organizations, &sdk) {
            (Some(lookup), Some(sdk)) => {
                Some(Organizations::new(sdk, lookup.role_arn.as_deref(), lookup.settings.clone()).await)
            }
            _ => None,
        };
        Ok(Self {
            client: http_client(config.retry.request_timeout)?,
            webhook,
            pacer: Pacer::new(config.webhook_interval),
            aliases: config.aliases,
            organizations,
            card: config.card,
            retry: config.retry,
            dedup,
            folding: config.folding,
        })
    }
}

impl Deps {
    /// The account directory: configured names first, then Organizations.
    pub fn directory(&self) -> Layered<'_, StaticAliases, Organizations> {
        Layered { first: &self.aliases, then: self.organizations.as_ref() }
    }
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
    /// This update was posted already, or is being posted by another invocation.
    Duplicate,
    /// A later page of a paginated event, folded into page 1's notification.
    Folded,
    /// The record holds no event.
    Unusable(RecordError),
    /// The card could not be delivered.
    Undelivered(DeliveryError),
}

impl Outcome {
    /// True when the record needs another try (or the dead-letter queue).
    pub fn is_failure(&self) -> bool {
        matches!(self, Self::Unusable(_) | Self::Undelivered(_))
    }
}

/// Counts of what an invocation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Records found.
    pub records: usize,
    /// Cards posted.
    pub posted: usize,
    /// Of those, degraded cards for events that failed validation.
    pub degraded: usize,
    /// Records recognised as updates already posted.
    pub duplicates: usize,
    /// Later pages folded into page 1.
    pub folded: usize,
    /// Records that failed (reported for redelivery).
    pub failed: usize,
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
            undelivered: count(|o| matches!(o, Outcome::Undelivered(_))),
        });
    }
    Ok(Response::Summary(summary))
}

/// Counts the outcomes of one invocation.
pub fn summarise(outcomes: &[Outcome]) -> Summary {
    outcomes.iter().fold(Summary { records: outcomes.len(), ..Summary::default() }, |mut summary, outcome| {
        match outcome {
            Outcome::Posted { problems, .. } => {
                summary.posted += 1;
                summary.degraded += usize::from(problems.is_some());
            }
            Outcome::Duplicate => summary.duplicates += 1,
            Outcome::Folded => summary.folded += 1,
            Outcome::Unusable(_) | Outcome::Undelivered(_) => summary.failed += 1,
        }
        summary
    })
}

/// One record through the pipeline, logged as one line.
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
    let errors = problems.as_ref().map(ToString::to_string);
    let notification = match identify(&event, deps.folding) {
        Identity::Post(notification) => notification,
        Identity::FoldedPage => {
            let page = event.page.map(|p| p.number).unwrap_or_default();
            tracing::info!(location, message_id, outcome = "folded_page", event_arn = %event.arn, page, "record folded");
            return Outcome::Folded;
        }
    };
    let claimed = match deps.dedup.claim(&notification, SystemTime::now(), CLAIM_LEASE).await {
        Ok(Claim::Claimed) => true,
        Ok(claim @ (Claim::Delivered | Claim::InFlight)) => {
            let state = if claim == Claim::Delivered { "delivered" } else { "in_flight" };
            tracing::info!(
                location, message_id, outcome = "duplicate", event_arn = %event.arn,
                notification = %notification.id(), already = state, "record skipped"
            );
            return Outcome::Duplicate;
        }
        Err(error) => {
            // Availability over deduplication: a store outage may cost a duplicate, never a card.
            tracing::warn!(location, message_id, error = chain(&error), "dedup store unavailable; posting without it");
            false
        }
    };
    let enriched = enrich(event, &deps.directory()).await;
    let message = render(&enriched, problems.as_ref(), &deps.card);
    let event = &enriched.event;
    match deliver(&deps.client, &deps.webhook, &message, &deps.retry, &deps.pacer, deadline).await {
        Ok(delivery) => {
            if claimed {
                settle(&deps.dedup, &notification, true).await;
            }
            tracing::info!(
                location,
                message_id,
                outcome = if problems.is_some() { "posted_degraded" } else { "posted" },
                event_arn = %event.arn,
                event_type = %event.type_code,
                notification = %notification.id(),
                attempts = delivery.attempts,
                validation_errors = errors,
                "record posted"
            );
            Outcome::Posted { delivery, problems }
        }
        Err(error) => {
            if claimed {
                settle(&deps.dedup, &notification, false).await;
            }
            tracing::error!(
                location,
                message_id,
                outcome = "undelivered",
                event_arn = %event.arn,
                event_type = %event.type_code,
                notification = %notification.id(),
                attempts = error.attempts(),
                error = chain(&error),
                validation_errors = errors,
                "record failed"
            );
            Outcome::Undelivered(error)
        }
    }
}

/// Confirms a delivered claim or releases a failed one; a store error here is logged, not fatal:
/// at worst a later copy posts the update again.
async fn settle(store: &Store, notification: &Notification, delivered: bool) {
    let result = if delivered {
        store.confirm(notification, SystemTime::now()).await
    } else {
        store.release(notification).await
    };
    if let Err(error) = result {
        tracing::warn!(notification = %notification.id(), error = chain(&error), "dedup store could not record the outcome");
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
