//! Replaying what sits in a dead-letter queue once the webhook works again.
//!
//! Each message's body is read as any envelope delibird accepts — the SNS event of a failed
//! asynchronous invocation, a Lambda on-failure destination record, or the SNS notification or
//! event of an SQS-mode message — and its records go through the same pipeline as in the Lambda,
//! deduplication included, so an update that did get posted before is not posted again. A message
//! is deleted only when every record in it was posted, recognised as a duplicate or folded;
//! otherwise it stays in the queue (visible again after its visibility timeout).

use aws_sdk_sqs::Client;

use crate::deps::Deps;
use crate::envelope;
use crate::handler::{Invocation, Outcome, run, summarise};

/// What a redrive did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Redriven {
    /// Messages read from the queue.
    pub messages: usize,
    /// Messages deleted: every record handled.
    pub deleted: usize,
    /// Messages left in the queue: some record failed again.
    pub left: usize,
    /// Cards posted.
    pub posted: usize,
    /// Records recognised as already posted.
    pub duplicates: usize,
}

/// A queue operation failed.
#[derive(Debug, thiserror::Error)]
#[error("SQS {operation} failed")]
pub struct QueueError {
    /// The operation.
    pub operation: &'static str,
    /// The cause.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// Reads `queue_url` until it is empty (or `max_messages` were read), replaying every message.
pub async fn redrive(
    client: &Client,
    queue_url: &str,
    deps: &Deps,
    max_messages: usize,
) -> Result<Redriven, QueueError> {
    let mut done = Redriven::default();
    while done.messages < max_messages {
        let batch = client
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(i32::try_from((max_messages - done.messages).min(10)).unwrap_or(10))
            .wait_time_seconds(1)
            .send()
            .await
            .map_err(|error| QueueError {
                operation: "ReceiveMessage",
                source: Box::new(error.into_service_error()),
            })?;
        let messages = batch.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        for message in messages {
            done.messages += 1;
            let body = message.body.unwrap_or_default();
            let outcomes = match envelope::parse(body.as_bytes()) {
                Ok(records) => {
                    let invocation = Invocation::of(&lambda_runtime::Context::default(), deps.retry.deadline_margin);
                    run(&records, deps, &invocation).await.0
                }
                Err(error) => {
                    tracing::error!(message_id = message.message_id.as_deref().unwrap_or(""), error = %error, "message holds no event; left in the queue");
                    vec![]
                }
            };
            let summary = summarise(&outcomes);
            done.posted += summary.posted;
            done.duplicates += summary.duplicates;
            let handled = !outcomes.is_empty() && !outcomes.iter().any(Outcome::is_failure);
            if handled {
                if let Some(handle) = message.receipt_handle {
                    client.delete_message().queue_url(queue_url).receipt_handle(handle).send().await.map_err(
                        |error| QueueError { operation: "DeleteMessage", source: Box::new(error.into_service_error()) },
                    )?;
                }
                done.deleted += 1;
            } else {
                done.left += 1;
            }
        }
    }
    Ok(done)
}
