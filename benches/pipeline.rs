//! Criterion benchmarks of each pipeline stage and of the whole pipeline, as the Lambda runs it
//! (SNS event bytes → envelope → validate → enrich → render, which writes the webhook body while
//! checking its size; `severity`, the part of render that searches the description for keywords,
//! and `serialize`, the writing alone, are shown for reference), on four
//! events from small to large, next to the floor: `serde_json` reading the same bytes into a
//! `Value` (both JSON layers: the SNS envelope and the event it carries as a string) and writing
//! the same card body. `floor-outer` parses the envelope only, as a reference. `scripts/bench`
//! runs this and reports each median as a ratio of the floor.
//!
//! Criterion measures the floor and the pipeline minutes apart, so a host whose speed drifts in
//! between moves the ratio of their medians (on 28 Nov 2026 a busy host turned one 2.9× into 3.6×
//! and then 5.4×). With `DELIBIRD_BENCH_PAIRED=<file>` set, as `scripts/bench` sets it, the run
//! also measures the ratio paired: a batch of floor runs, then a batch of pipeline runs, back to
//! back, 201 times, and writes each event's median and quartiles of those per-pair ratios to
//! `<file>` as JSON. Drift slower than a pair (a few milliseconds) cancels out of each ratio.
//!
//! Measured, never asserted: a slow machine must not fail anything.
//!
//! ```sh
//! cargo bench --bench pipeline                 # everything, ~3 minutes
//! cargo bench --bench pipeline -- --quick ecs  # one fixture, a quick look
//! ```

mod support;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, criterion_group};
use delibird::accounts::{self, EnrichedEvent, StaticAliases};
use delibird::card::{self, CardSettings};
use delibird::chat::{self, wire::Message};
use delibird::envelope;
use delibird::health::{self, HealthEvent, ValidationErrors};
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
            chat::render_body(&card::render(&enriched, problems.as_ref(), settings)).body
        })
        .collect()
}

/// What the handler does: the event, with its problems when it had to be salvaged.
fn checked(raw: &Value) -> (HealthEvent, Option<ValidationErrors>) {
    let health::Checked { event, problems } = health::check(raw);
    (event, problems)
}

/// The event inside an SNS envelope: SNS carries it as a JSON string, so reading the event at
/// all means parsing JSON twice; the floor does that much and nothing more.
fn sns_message(envelope: &Value) -> &str {
    envelope.pointer("/Records/0/Sns/Message").and_then(Value::as_str).expect("an SNS record with a Message")
}

/// One fixture as each stage takes it: the SNS bytes, the raw event, the checked event, the
/// enriched one and its card.
struct Inputs {
    bytes: Vec<u8>,
    raw: Value,
    event: HealthEvent,
    enriched: EnrichedEvent,
    message: Message,
}

impl Inputs {
    fn of(fixture: &support::Fixture, aliases: &StaticAliases, settings: &CardSettings) -> Self {
        let bytes = fixture.sns_bytes();
        let records = envelope::parse(&bytes).expect("the fixture is an SNS event");
        let raw = records[0].event.clone().expect("the record holds an event");
        let (event, problems) = checked(&raw);
        assert!(problems.is_none(), "{}: the benchmarked events are valid", fixture.name);
        let enriched = block_on(accounts::enrich(event.clone(), aliases));
        let message = chat::message(&enriched, None, settings);
        Self { bytes, raw, event, enriched, message }
    }
}

fn stages(c: &mut Criterion) {
    let aliases = StaticAliases::from_json(support::ALIASES).expect("valid aliases");
    let settings = CardSettings::default();
    for fixture in support::fixtures() {
        let Inputs { bytes, raw, event, enriched, message } = Inputs::of(&fixture, &aliases, &settings);

        let mut group = c.benchmark_group(fixture.name);
        group.bench_function("floor", |b| b.iter(|| floor(black_box(&bytes), black_box(&message))));
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
        group.bench_function("render", |b| {
            b.iter(|| chat::render_body(&card::render(black_box(&enriched), None, &settings)))
        });
        let description = enriched.event.description(&settings.language).map(|d| d.text.as_str());
        group.bench_function("severity", |b| {
            b.iter(|| card::assess(black_box(&enriched.event), black_box(description), &settings.severity));
        });
        group.bench_function("serialize", |b| b.iter(|| serde_json::to_vec(black_box(&message))));
        group.finish();
    }
}

/// The floor: `serde_json` reading both JSON layers into `Value`s and writing the card body.
fn floor(bytes: &[u8], message: &Message) -> (Value, Value, Vec<u8>) {
    let envelope: Value = serde_json::from_slice(bytes).expect("JSON");
    let event: Value = serde_json::from_str(sns_message(&envelope)).expect("JSON");
    let body = serde_json::to_vec(message).expect("a message serializes");
    (envelope, event, body)
}

/// How long `batch` runs of `run` take.
fn time_batch<T>(batch: u32, mut run: impl FnMut() -> T) -> Duration {
    let start = Instant::now();
    for _ in 0..batch {
        black_box(run());
    }
    start.elapsed()
}

/// Pipeline ÷ floor, paired: 201 rounds of a batch of each back to back (which goes first
/// alternates), each batch about a millisecond of floor runs. Median and quartiles of the ratios.
fn paired_ratio(bytes: &[u8], message: &Message, aliases: &StaticAliases, settings: &CardSettings) -> [f64; 3] {
    let floor_once = || floor(black_box(bytes), black_box(message));
    let pipeline_once = || pipeline(black_box(bytes), aliases, settings);
    time_batch(100, floor_once);
    time_batch(100, pipeline_once);
    let per_floor = time_batch(100, floor_once) / 100;
    let batch = u32::try_from(Duration::from_millis(1).as_nanos() / per_floor.as_nanos().max(1)).unwrap_or(1).max(1);
    let mut ratios: Vec<f64> = (0..201)
        .map(|round| {
            let (floor_time, pipeline_time) = if round % 2 == 0 {
                let f = time_batch(batch, floor_once);
                (f, time_batch(batch, pipeline_once))
            } else {
                let p = time_batch(batch, pipeline_once);
                (time_batch(batch, floor_once), p)
            };
            pipeline_time.as_secs_f64() / floor_time.as_secs_f64()
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    [ratios[100], ratios[50], ratios[150]]
}

/// The paired ratios of every event, to the file `DELIBIRD_BENCH_PAIRED` names (nothing when it
/// is not set): `{"small-issue": {"median": 2.8, "p25": 2.7, "p75": 2.9}, …}`.
fn paired() {
    let Some(path) = std::env::var_os("DELIBIRD_BENCH_PAIRED") else { return };
    let aliases = StaticAliases::from_json(support::ALIASES).expect("valid aliases");
    let settings = CardSettings::default();
    let mut report = serde_json::Map::new();
    for fixture in support::fixtures() {
        let Inputs { bytes, message, .. } = Inputs::of(&fixture, &aliases, &settings);
        let [median, p25, p75] = paired_ratio(&bytes, &message, &aliases, &settings);
        println!("{}/paired pipeline ÷ floor: {median:.2}× ({p25:.2}× – {p75:.2}×)", fixture.name);
        report.insert(fixture.name.to_owned(), serde_json::json!({"median": median, "p25": p25, "p75": p75}));
    }
    std::fs::write(&path, Value::Object(report).to_string()).expect("the paired report is written");
}

fn config() -> Criterion {
    Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = stages
}
/// Criterion's benchmarks, then the paired ratios (`criterion_main!` would end with the former).
fn main() {
    benches();
    paired();
    Criterion::default().configure_from_args().final_summary();
}
