//! The events both benchmarks run: three real fixtures of different sizes and a synthetic page of
//! 1,000 entities, each wrapped in the Lambda SNS event the `bootstrap` receives.

// Each benchmark uses part of it.
#![allow(dead_code)]

use serde_json::{Value, json};

/// The SNS topic of the envelopes.
pub const TOPIC: &str = "arn:aws:sns:ap-northeast-2:999988887777:delibird";

/// `DELIBIRD_ACCOUNT_ALIASES` for the accounts the fixtures mention, so enrichment finds names.
pub const ALIASES: &str = r#"{"111122223333": "payments-prod", "222233334444": "platform-prod"}"#;

/// Entities of the synthetic page.
pub const SYNTHETIC_ENTITIES: usize = 1_000;

/// One benchmarked event.
pub struct Fixture {
    /// Short name used in benchmark ids and the report: `small-issue`, `ecs-58`, …
    pub name: &'static str,
    /// The EventBridge event.
    pub event: Value,
}

impl Fixture {
    /// The Lambda SNS event carrying this event, as bytes: what the Runtime API hands the Lambda.
    pub fn sns_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.sns_event()).expect("a Value serializes")
    }

    /// The Lambda SNS event carrying this event.
    pub fn sns_event(&self) -> Value {
        delibird::envelope::sns_event([&self.event], TOPIC)
    }
}

/// Small to large: a public issue with a one-line description and no entities, a Korean and
/// English notification (3.8 KB of description), the 58-entity ECS scheduled change, and a
/// synthetic page of 1,000 entities.
pub fn fixtures() -> Vec<Fixture> {
    vec![
        Fixture { name: "small-issue", event: fixture("seed-project-health101.json") },
        Fixture { name: "bilingual", event: fixture("seed-project-health104.json") },
        Fixture { name: "ecs-58", event: fixture("seed-project-health107.json") },
        Fixture { name: "synthetic-1000", event: synthetic_page(SYNTHETIC_ENTITIES) },
    ]
}

/// A fixture from `tests/fixtures/health-events/`.
pub fn fixture(file: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/health-events").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The 58-entity ECS scheduled change grown to `entities` task ARNs (page 1 of 3), with statuses,
/// update times and, on every fifth, tags: the largest event delibird plausibly receives.
pub fn synthetic_page(entities: usize) -> Value {
    let mut event = fixture("seed-project-health107.json");
    let statuses = ["IMPAIRED", "PENDING", "RESOLVED", "UNKNOWN"];
    let values: Vec<String> = (0..entities)
        .map(|i| format!("arn:aws:ecs:ap-northeast-2:222233334444:task/MYECS-CLUSTER/{:032x}", i * 7_919 + 1))
        .collect();
    let list: Vec<Value> = values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let mut entity = json!({
                "entityValue": value,
                "status": statuses[i % statuses.len()],
                "lastUpdatedTime": "Sat, 13 Jul 2024 15:33:57 GMT",
            });
            if i % 5 == 0 {
                entity["tags"] = json!({"Name": format!("service-{i:04}"), "team": "platform", "env": "prod"});
            }
            entity
        })
        .collect();
    event["resources"] = json!(values);
    event["detail"]["affectedEntities"] = Value::Array(list);
    event["detail"]["page"] = json!("1");
    event["detail"]["totalPages"] = json!("3");
    event
}
