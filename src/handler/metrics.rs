//! What an invocation did, as CloudWatch metrics: its counts in one [`crate::metrics`] line with
//! the invocation's summary.

use serde_json::{Value, json};

use super::Summary;
use super::outcome::{Outcome, Posting};

/// Counts of one invocation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Cards posted.
    pub posted: usize,
    /// Cards the threads had already (per record and space).
    pub duplicate: usize,
    /// Of the cards posted, degraded ones (events that failed validation).
    pub degraded: usize,
    /// Records that failed (reported for redelivery).
    pub failed: usize,
    /// Answers 429 (the space's rate) waited out and retried.
    pub retried_after_429: u32,
    /// Store calls that failed or did not answer.
    pub store_unavailable: usize,
    /// From each posted event's `time` to its accepted post, in milliseconds.
    pub latency_ms: Vec<u64>,
}

impl Metrics {
    /// Adds what the outcomes say.
    pub fn count(&mut self, outcomes: &[Outcome]) {
        for outcome in outcomes {
            self.failed += usize::from(outcome.is_failure());
            let degraded = matches!(outcome, Outcome::Sent { problems: Some(_), .. });
            for sent in outcome.postings() {
                match &sent.posting {
                    Posting::Posted(delivery) => {
                        self.posted += 1;
                        self.degraded += usize::from(degraded);
                        self.retried_after_429 += delivery.rate_limited;
                    }
                    Posting::Duplicate => self.duplicate += 1,
                    Posting::Undelivered(error) => self.retried_after_429 += error.rate_limited(),
                    Posting::Included | Posting::Digest | Posting::Held | Posting::Postponed => {}
                }
            }
        }
    }

    /// The line: the metrics for `function`, and the invocation's summary for people.
    pub fn line(&self, function: &str, request_id: &str, summary: &Summary) -> Value {
        let counts = [
            self.posted as u64,
            self.duplicate as u64,
            self.degraded as u64,
            self.failed as u64,
            u64::from(self.retried_after_429),
            self.store_unavailable as u64,
        ];
        let mut line = crate::metrics::line(function, counts, &self.latency_ms, "INFO", "invocation done");
        line.insert("request_id".into(), json!(request_id));
        if let Ok(Value::Object(summary)) = serde_json::to_value(summary) {
            line.extend(summary);
        }
        Value::Object(line)
    }

    /// Writes [`Metrics::line`] to stdout, where Lambda's log (and CloudWatch's metric
    /// extraction) reads it.
    pub fn emit(&self, function: &str, request_id: &str, summary: &Summary) {
        println!("{}", self.line(function, request_id, summary));
    }
}
