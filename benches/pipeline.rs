//! Criterion benchmarks of each pipeline stage and of the whole pipeline, as the Lambda runs it
//! (SNS event bytes → envelope → validate → enrich → render, which writes the webhook body while
//! checking its size; `serialize` is that writing alone, for reference), on four
//! events from small to large, next to the floor: `serde_json` reading the same bytes into a
//! `Value` (both JSON layers: the SNS envelope and the event it carries as a string) and writing
//! the same card body. `floor-outer` parses the envelope only, as a reference. `scripts/bench`
//! runs this and reports each median as a ratio of the floor.
//!
//! Measured, never asserted: a slow machine must not fail anything.
//!
//! ```sh
//! cargo bench --bench pipeline                 # everything, ~3 minutes
//! cargo bench --bench pipeline -- --quick ecs  # one fixture, a quick look
//! ```

mod support;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use delibird::accounts::{self, StaticAliases};
use delibird::card::{self, CardSettings, wire::Message};
use delibird::envelope;
use delibird::health::{self, HealthEvent, ValidationErrors};
use either::Either;
use futures::executor::block_on;
use serde_json::Value;

/// The whole pipeline for one invocation: every record's webhook body. Enrichment against the
/// configured aliases never waits, so `block_on` runs it to completion in its first poll.
fn pipeline(bytes: &[u8], aliases: &StaticAliases, settings: &CardSettings) -> Vec<Vec<u8>> {
    let records = envelope::parse(bytes).expect("the fixture is an SNS event");
    records
        .iter()
        .map(|record| {
            let raw = record.event.as_ref().expect("the record holds an event");
            let (event, problems) = checked(raw);
            let enriched = block_on(accounts::enrich(event, aliases));
            card::render_body(&enriched, problems.as_ref(), settings).body
        })
        .collect()
}

/// What the handler does: the event, with its problems when it had to be salvaged.
fn checked(raw: &Value) -> (HealthEvent, Option<ValidationErrors>) {
    match health::check(raw) {
        Either::Left(event) => (event, None),
        Either::Right(salvaged) => (salvaged.event, Some(salvaged.errors)),
    }
}

/// The event inside an SNS envelope: SNS carries it as a JSON string, so reading the event at
/// all means parsing JSON twice; the floor does that much and nothing more.
fn sns_message(envelope: &Value) -> &str {
    envelope.pointer("/Records/0/Sns/Message").and_then(Value::as_str).expect("an SNS record with a Message")
}

fn stages(c: &mut Criterion) {
    let aliases = StaticAliases::from_json(support::ALIASES).expect("valid aliases");
    let settings = CardSettings::default();
    for fixture in support::fixtures() {
        let bytes = fixture.sns_bytes();
        let records = envelope::parse(&bytes).expect("the fixture is an SNS event");
        let raw = records[0].event.clone().expect("the record holds an event");
        let (event, problems) = checked(&raw);
        assert!(problems.is_none(), "{}: the benchmarked events are valid", fixture.name);
        let enriched = block_on(accounts::enrich(event.clone(), &aliases));
        let message: Message = card::render(&enriched, None, &settings);

        let mut group = c.benchmark_group(fixture.name);
        group.bench_function("floor", |b| {
            b.iter(|| {
                let envelope: Value = serde_json::from_slice(black_box(&bytes)).expect("JSON");
                let event: Value = serde_json::from_str(sns_message(&envelope)).expect("JSON");
                let body = serde_json::to_vec(black_box(&message)).expect("a message serializes");
                (envelope, event, body)
            });
        });
        group.bench_function("floor-outer", |b| {
            b.iter(|| {
                let envelope: Value = serde_json::from_slice(black_box(&bytes)).expect("JSON");
                let body = serde_json::to_vec(black_box(&message)).expect("a message serializes");
                (envelope, body)
            });
        });
        group.bench_function("pipeline", |b| b.iter(|| pipeline(black_box(&bytes), &aliases, &settings)));
        group.bench_function("envelope", |b| b.iter(|| envelope::parse(black_box(&bytes))));
        group.bench_function("validate", |b| b.iter(|| checked(black_box(&raw))));
        group.bench_function("enrich", |b| {
            b.iter_batched(
                || event.clone(),
                |event| block_on(accounts::enrich(event, &aliases)),
                BatchSize::SmallInput,
            );
        });
        group.bench_function("render", |b| b.iter(|| card::render_body(black_box(&enriched), None, &settings)));
        group.bench_function("serialize", |b| b.iter(|| serde_json::to_vec(black_box(&message))));
        group.finish();
    }
}

fn config() -> Criterion {
    Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = stages
}
criterion_main!(benches);
