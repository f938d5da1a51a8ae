//! What an invocation did, as CloudWatch metrics: one JSON line in the Embedded Metric Format
//! (namespace `delibird`, dimension `FunctionName`), written to the log like any other line, so
//! that metrics and alarms cost no API call. The collector template's alarms watch `Failed` and
//! `StoreUnavailable`.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use super::Summary;
use super::outcome::{Outcome, Posting};

/// The metric namespace.
pub const NAMESPACE: &str = "delibird";

/// Most values of one metric in one line (the format's limit).
const MAX_VALUES: usize = 100;

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
                    Posting::Included | Posting::Held | Posting::Postponed => {}
                }
            }
        }
    }

    /// The line: the metrics for `function`, and the invocation's summary for people.
    pub fn line(&self, function: &str, request_id: &str, summary: &Summary) -> Value {
        let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let counts = [
            ("Posted", self.posted as u64),
            ("Duplicate", self.duplicate as u64),
            ("Degraded", self.degraded as u64),
            ("Failed", self.failed as u64),
            ("RetriedAfter429", u64::from(self.retried_after_429)),
            ("StoreUnavailable", self.store_unavailable as u64),
        ];
        let mut metrics: Vec<Value> = counts.iter().map(|(name, _)| json!({"Name": name, "Unit": "Count"})).collect();
        let mut line = Map::new();
        for (name, value) in counts {
            line.insert(name.into(), json!(value));
        }
        if !self.latency_ms.is_empty() {
            metrics.push(json!({"Name": "DeliveryLatency", "Unit": "Milliseconds"}));
            let values: Vec<u64> = self.latency_ms.iter().copied().take(MAX_VALUES).collect();
            line.insert("DeliveryLatency".into(), json!(values));
        }
        line.insert(
            "_aws".into(),
            json!({"Timestamp": timestamp, "CloudWatchMetrics": [
                {"Namespace": NAMESPACE, "Dimensions": [["FunctionName"]], "Metrics": metrics}
            ]}),
        );
        line.insert("FunctionName".into(), json!(function));
        line.insert("level".into(), json!("INFO"));
        line.insert("message".into(), json!("invocation done"));
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

/// A metric line of its own, outside an invocation: at start, when the store is unavailable.
pub fn store_unavailable_at_start(function: &str) -> Value {
    let metrics = Metrics { store_unavailable: 1, ..Metrics::default() };
    let mut line = metrics.line(function, "", &Summary::default());
    if let Value::Object(members) = &mut line {
        members.insert("message".into(), json!("dedup store unavailable at start"));
        members.insert("level".into(), json!("ERROR"));
    }
    line
}
