//! CloudWatch metrics as log lines: one JSON object in the Embedded Metric Format (namespace
//! `delibird`, dimension `FunctionName`), written to stdout like any other line, so that metrics
//! and alarms cost no API call. The collector template's alarms watch `Failed` and
//! `StoreUnavailable`. What is counted is the caller's: an invocation's outcomes
//! ([`crate::handler::metrics`]), or a store found unavailable at start ([`crate::deps`]).

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

/// The metric namespace.
pub const NAMESPACE: &str = "delibird";

/// Every count delibird reports, in the order each line lists them.
pub const COUNTS: [&str; 6] = ["Posted", "Duplicate", "Degraded", "Failed", "RetriedAfter429", "StoreUnavailable"];

/// Most values of one metric in one line (the format's limit).
const MAX_VALUES: usize = 100;

/// A metrics line for `function`: each of [`COUNTS`] with its value from `counts` (in that
/// order), `DeliveryLatency` when there are latencies (at most the format's 100), and `message`
/// at `level`. Callers add what people read (a summary) to the object.
pub fn line(
    function: &str,
    counts: [u64; COUNTS.len()],
    latency_ms: &[u64],
    level: &str,
    message: &str,
) -> Map<String, Value> {
    let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let mut metrics: Vec<Value> = COUNTS.iter().map(|name| json!({"Name": name, "Unit": "Count"})).collect();
    let mut line = Map::new();
    for (name, value) in COUNTS.iter().zip(counts) {
        line.insert((*name).into(), json!(value));
    }
    if !latency_ms.is_empty() {
        metrics.push(json!({"Name": "DeliveryLatency", "Unit": "Milliseconds"}));
        let values: Vec<u64> = latency_ms.iter().copied().take(MAX_VALUES).collect();
        line.insert("DeliveryLatency".into(), json!(values));
    }
    line.insert(
        "_aws".into(),
        json!({"Timestamp": timestamp, "CloudWatchMetrics": [
            {"Namespace": NAMESPACE, "Dimensions": [["FunctionName"]], "Metrics": metrics}
        ]}),
    );
    line.insert("FunctionName".into(), json!(function));
    line.insert("level".into(), json!(level));
    line.insert("message".into(), json!(message));
    line
}

/// The line written at start when the dedup store is unavailable: `StoreUnavailable` 1, so that
/// the alarm fires before any invocation.
pub fn store_unavailable_at_start(function: &str) -> Value {
    let mut counts = [0; COUNTS.len()];
    counts[5] = 1;
    Value::Object(line(function, counts, &[], "ERROR", "dedup store unavailable at start"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_declares_every_count_it_holds_and_the_latencies_only_when_there_are_some() {
        let line = line("delibird", [1, 2, 3, 4, 5, 6], &[], "INFO", "done");
        let declared = &line["_aws"]["CloudWatchMetrics"][0]["Metrics"];
        assert_eq!(declared.as_array().unwrap().len(), 6);
        assert_eq!((line["Posted"].clone(), line["StoreUnavailable"].clone()), (json!(1), json!(6)));
        assert!(line.get("DeliveryLatency").is_none());
        let start = store_unavailable_at_start("fn");
        assert_eq!((start["StoreUnavailable"].clone(), start["Failed"].clone()), (json!(1), json!(0)));
        assert_eq!(start["level"], "ERROR");
    }
}
