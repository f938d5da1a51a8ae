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

pub mod metrics;
mod outcome;
mod record;
mod thread;
mod tick;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse};
use futures::StreamExt;
use futures::stream::{FuturesOrdered, FuturesUnordered};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::time::Instant;

use crate::deps::Deps;
use crate::envelope::{self, EnvelopeError, Record, Transport};
use crate::json_numbers;
pub use metrics::Metrics;
pub use outcome::{Outcome, Posting, Sent};
use record::{Prepared, Routed, prepare};
use thread::Group;
pub use tick::{DIGEST_LATE, TickError, TickSummary, tick, tick_time};

/// Time allowed when the invocation has no deadline (a `Context::default()` in tests and the CLI).
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(60);

/// Threads posted to at once: each holds its lease and waits its space's turn, so this bounds the
/// store calls and the requests in flight (and the memory a 10,000-record batch takes).
const THREADS_IN_FLIGHT: usize = 16;

/// Records validated and routed at once.
const RECORDS_IN_FLIGHT: usize = 64;

/// No thread is started this close to the deadline's margin: one post (its lease, a slot, a
/// request, a commit) must fit in what is left; the rest are left for a retry.
const START_BEFORE_STOP: Duration = Duration::from_secs(5);

/// Time kept back for answering, per record: its log line and its place in the response. A
/// 10,000-record batch keeps back one second more than the deadline margin, which the debug build
/// needs about half of (`tests/integration/faults/batch.rs`).
const ANSWER_PER_RECORD: Duration = Duration::from_micros(100);

/// One invocation: who it is (the holder of the leases it takes) and when it must have answered.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The lease holder: the Lambda request id (a retry of an asynchronous invocation keeps it,
    /// and may take its own dead attempt's leases at once), or a random one when there is none.
    pub holder: String,
    /// The deadline delivery works to: the invocation's, less the time kept back to answer
    /// ([`Invocation::answering`]); its retries stop the deadline margin before it.
    pub deadline: Instant,
    /// The invocation's own deadline on the wall clock, for leases other containers read.
    pub deadline_at: SystemTime,
    /// When everything must have stopped, so that the invocation can still answer.
    pub stop: Instant,
    /// The last moment a thread is started.
    pub stop_starting: Instant,
}

impl Invocation {
    /// The invocation of `context`, stopping `margin` before its deadline (or
    /// [`DEFAULT_BUDGET`] from now when it has none).
    pub fn of(context: &Context, margin: Duration) -> Self {
        let deadline = deadline_of(context);
        let deadline_at = SystemTime::now() + deadline.saturating_duration_since(Instant::now());
        let stop = deadline.checked_sub(margin).unwrap_or(deadline);
        let stop_starting = stop.checked_sub(START_BEFORE_STOP).unwrap_or(stop);
        let holder = if context.request_id.is_empty() {
            format!("local-{:016x}", fastrand::u64(..))
        } else {
            context.request_id.clone()
        };
        Self { holder, deadline, deadline_at, stop, stop_starting }
    }

    /// The same invocation keeping back time to answer for `records` records.
    #[must_use]
    pub fn answering(self, records: usize) -> Self {
        let keep = ANSWER_PER_RECORD.saturating_mul(u32::try_from(records).unwrap_or(u32::MAX));
        let earlier = |at: Instant| at.checked_sub(keep).unwrap_or(at);
        let stop = earlier(self.stop);
        let stop_starting = stop.checked_sub(START_BEFORE_STOP).unwrap_or(stop);
        Self { deadline: earlier(self.deadline), stop, stop_starting, ..self }
    }
}

/// Every record of an invocation through the pipeline: validated and routed, then each thread's
/// copies posted together. One outcome per record, in order, each logged as one line, and what
/// the invocation's metrics count.
pub async fn run(records: &[Record], deps: &Deps, invocation: &Invocation) -> (Vec<Outcome>, Metrics) {
    // Each future is made only when there is room for it among those in flight: a future holds
    // its whole state from the start (in the debug build 8.5 KB a record, 14 KB a thread), and
    // made all at once they doubled a 10,000-record batch's peak memory (130 to 260 MiB).
    // A loop rather than a stream's `map`: a stream of a closure's futures is not `Send` for every
    // lifetime (rust-lang/rust#102211), and the Lambda runtime needs it to be.
    let mut waiting = records.iter();
    let mut preparing = FuturesOrdered::new();
    let mut prepared: Vec<Prepared<'_>> = Vec::with_capacity(records.len());
    loop {
        while preparing.len() < RECORDS_IN_FLIGHT
            && let Some(record) = waiting.next()
        {
            preparing.push_back(prepare(record, deps));
        }
        match preparing.next().await {
            Some(record) => prepared.push(record),
            None => break,
        }
    }
    let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(prepared.len());
    let mut routed: Vec<Option<Routed<'_>>> = Vec::with_capacity(prepared.len());
    for prepared in prepared {
        let (outcome, record) = match prepared {
            Prepared::Done(outcome) => (Some(outcome), None),
            Prepared::Routed(record) => (None, Some(*record)),
        };
        outcomes.push(outcome);
        routed.push(record);
    }

    // One group per thread of each space, in the order the spaces were first named.
    let mut groups: Vec<Group<'_>> = Vec::new();
    let mut index_of: BTreeMap<(crate::dedup::ThreadId, bool), usize> = BTreeMap::new();
    for (index, record) in routed.iter().enumerate() {
        let Some(record) = record else { continue };
        for space in &record.spaces {
            let thread = space.thread(&record.notification.thread);
            // Copies kept for the digest are a group of their own: they post nothing.
            let quiet = record.digest_only.contains(&space.name.as_str());
            let at = *index_of.entry((thread.clone(), quiet)).or_insert_with(|| {
                groups.push(Group { space, thread, copies: Vec::new(), quiet });
                groups.len() - 1
            });
            groups[at].copies.push(index);
        }
    }
    // The threads of several copies first (a storm's roll-up, most copies first), all of them
    // posted before any other thread starts: a thread's later messages (a roll-up of more than
    // 250 accounts, a join reply) must not queue for the space behind the other events' send
    // slots. When this invocation posted one, the others wait one lease poll more: an invocation
    // running beside it with more copies of that storm is waiting for the thread, and takes the
    // next send slot before this one's other events do (benches/storm.rs measures both).
    groups.sort_by_key(|group| std::cmp::Reverse(group.copies.len()));
    let (storms, rest): (Vec<Group<'_>>, Vec<Group<'_>>) = groups.into_iter().partition(|g| g.copies.len() > 1);
    let mut posted = post_all(storms, &routed, deps, invocation).await;
    let announced = posted.iter().any(|thread| thread.postings.iter().any(|(_, p)| matches!(p, Posting::Posted(_))));
    if announced && !rest.is_empty() {
        tokio::time::sleep_until((Instant::now() + thread::HELD_POLL * 2).min(invocation.stop_starting)).await;
    }
    posted.extend(post_all(rest, &routed, deps, invocation).await);

    let mut metrics = Metrics::default();
    let mut postings: Vec<Vec<Sent>> = routed.iter().map(|_| Vec::new()).collect();
    for thread in posted {
        metrics.store_unavailable += thread.store_errors;
        metrics.latency_ms.extend(thread.latencies);
        for (index, posting) in thread.postings {
            postings[index].push(Sent { space: thread.space.clone(), posting });
        }
    }
    let outcomes: Vec<Outcome> = outcomes
        .into_iter()
        .zip(routed)
        .zip(postings)
        .map(|((done, record), mut sent)| match (done, record) {
            (Some(outcome), _) => outcome,
            (None, Some(record)) => {
                // In the order the rules named the spaces.
                sent.sort_by_key(|s| record.spaces.iter().position(|space| space.name == s.space));
                let outcome = Outcome::Sent { rules: record.rules.clone(), problems: record.problems.clone(), sent };
                record::log(&record, &outcome);
                outcome
            }
            (None, None) => Outcome::Sent { rules: None, problems: None, sent },
        })
        .collect();
    metrics.count(&outcomes);
    (outcomes, metrics)
}

/// Posts every group, at most [`THREADS_IN_FLIGHT`] threads at once.
async fn post_all<'a>(
    groups: Vec<Group<'a>>,
    routed: &[Option<Routed<'a>>],
    deps: &Deps,
    invocation: &Invocation,
) -> Vec<thread::Posted> {
    let mut posted = Vec::with_capacity(groups.len());
    let (mut waiting, mut posting) = (groups.into_iter(), FuturesUnordered::new());
    loop {
        while posting.len() < THREADS_IN_FLIGHT
            && let Some(group) = waiting.next()
        {
            posting.push(thread::post(group, routed, deps, invocation));
        }
        match posting.next().await {
            Some(thread) => posted.push(thread),
            None => break,
        }
    }
    posted
}

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
    /// Cards (one per record and space) announced in a message another record carries: an
    /// account of a roll-up or a join reply (absent when none).
    #[serde(skip_serializing_if = "is_zero")]
    pub rolled_up: usize,
    /// Cards (one per record and space) a `digest_only` rule kept for the space's daily digest
    /// instead of posting (absent when none).
    #[serde(skip_serializing_if = "is_zero")]
    pub kept_for_digest: usize,
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
    /// For a scheduled tick: the reminders and digests posted.
    Tick(TickSummary),
}

/// Why an invocation failed. Lambda retries it, then moves it to the dead-letter destination.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The input holds no record at all.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// A tick whose time cannot be read.
    #[error(transparent)]
    Tick(#[from] TickError),
    /// Some of a tick's due items could not be posted or recorded; the next tick tries them again.
    #[error(
        "{failed} reminders or digests due were not posted or not recorded; the next tick tries them again; see the log lines before this one"
    )]
    TickItems {
        /// Items that failed.
        failed: usize,
    },
    /// Some records were not events, or their cards were not delivered.
    #[error(
        "{failed} of {records} records failed ({unusable} not an event, {undelivered} not delivered{}); see the per-record log lines",
        if *rejected > 0 { format!(", {rejected} refused by a webhook that was deleted or revoked") } else { String::new() }
    )]
    Records {
        /// Records in the invocation.
        records: usize,
        /// Records that failed.
        failed: usize,
        /// Of those, records holding no event.
        unusable: usize,
        /// Of those, cards not delivered (or left for a retry).
        undelivered: usize,
        /// Of those, cards a webhook refused as deleted or revoked (401, 403, 404).
        rejected: usize,
    },
}

impl From<HandlerError> for Diagnostic {
    /// Stable `errorType`s for alarms and metric filters: `delibird.NoEvent` (the input holds no
    /// record), `delibird.NotAnEvent` (records that hold no event), `delibird.WebhookRejected` (a
    /// webhook deleted or revoked: replace it), `delibird.DeliveryFailed` (anything a retry may
    /// fix), `delibird.BadTick` and `delibird.TickFailed` (a scheduled tick).
    fn from(error: HandlerError) -> Self {
        let error_type = match &error {
            HandlerError::Envelope(_) => "delibird.NoEvent",
            HandlerError::Tick(_) => "delibird.BadTick",
            HandlerError::TickItems { .. } => "delibird.TickFailed",
            HandlerError::Records { undelivered: 0, .. } => "delibird.NotAnEvent",
            HandlerError::Records { rejected: 1.., .. } => "delibird.WebhookRejected",
            HandlerError::Records { .. } => "delibird.DeliveryFailed",
        };
        Diagnostic { error_type: error_type.to_owned(), error_message: error.to_string() }
    }
}

/// [`handle`] for the payload as the Lambda runtime hands it over, as text: a payload holding a
/// number `serde_json` cannot hold (`1e400`, valid JSON) is read ([`crate::json_numbers`]) and its
/// field named on a degraded card, where the runtime would have refused the whole invocation with
/// an error of its own.
pub async fn handle_raw(event: LambdaEvent<Box<RawValue>>, deps: &Deps) -> Result<Response, HandlerError> {
    let LambdaEvent { payload, context } = event;
    let payload = json_numbers::from_str(payload.get()).map_err(EnvelopeError::NotJson).inspect_err(|error| {
        tracing::error!(request_id = %context.request_id, error = %error, "invocation holds no record");
    })?;
    handle(LambdaEvent::new(payload, context), deps).await
}

/// Handles one invocation: a scheduled tick ([`tick`]), or any envelope delibird accepts, every
/// record through [`run`].
pub async fn handle(event: LambdaEvent<Value>, deps: &Deps) -> Result<Response, HandlerError> {
    let invocation = Invocation::of(&event.context, deps.retry.deadline_margin);
    let request_id = &event.context.request_id;
    if let Some(time) = tick_time(&event.payload) {
        let now = time.inspect_err(|error| tracing::error!(request_id = %request_id, error = %error, "bad tick"))?;
        let summary = tick(now, deps, &invocation).await;
        tracing::info!(
            request_id = %request_id,
            tick = %now.to_rfc3339(),
            tracked = summary.tracked,
            reminders = summary.reminders,
            digests = summary.digests,
            held = summary.held,
            failed = summary.failed,
            "tick done"
        );
        if summary.failed > 0 {
            return Err(HandlerError::TickItems { failed: summary.failed });
        }
        return Ok(Response::Tick(summary));
    }
    let records = envelope::parse_value(&event.payload).inspect_err(|error| {
        tracing::error!(request_id = %request_id, error = %error, "invocation holds no record");
    })?;
    let invocation = invocation.answering(records.len());
    let (outcomes, metrics) = run(&records, deps, &invocation).await;
    let summary = summarise(&outcomes);
    match &deps.metrics {
        // One JSON line on stdout that CloudWatch reads as metrics (Embedded Metric Format) and
        // people read as the invocation's summary.
        Some(function) => metrics.emit(function, request_id, &summary),
        None => tracing::info!(
            request_id = %request_id,
            records = summary.records,
            posted = summary.posted,
            degraded = summary.degraded,
            duplicates = summary.duplicates,
            folded = summary.folded,
            failed = summary.failed,
            dropped = summary.dropped,
            "invocation done"
        ),
    }
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
            rejected: count(|o| {
                o.postings().iter().any(|s| matches!(&s.posting, Posting::Undelivered(e) if e.is_rejected_webhook()))
            }),
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
                        Posting::Included => summary.rolled_up += 1,
                        Posting::Digest => summary.kept_for_digest += 1,
                        Posting::Duplicate => summary.duplicates += 1,
                        Posting::Undelivered(_) | Posting::Held | Posting::Postponed => {}
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
