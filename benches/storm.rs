//! A storm, end to end: one account-specific event raised in 300 accounts (one `eventArn`) and
//! 50 other events at the same time, into the local Chat emulator at Google's one message per
//! second per space. Measured, never asserted:
//! - **queue mode**: the Lambda handler invoked as the collector template's SQS event source
//!   mapping invokes it (batches of `QueueBatchSize` 100, at most `ReservedConcurrency` 2 at once,
//!   each with the function's 90 s timeout; the messages a batch reports failed go back to the
//!   queue), all 350 messages in the queue when the first batch is taken;
//! - **`delibird send`** with the 350 events in one file (one invocation), when the CLI is given
//!   (`DELIBIRD_CLI`, the path of the `delibird` binary; `scripts/bench` builds it);
//! - queue mode again with `DELIBIRD_ROLLUP=0`, for the contrast (one card per account). Failed
//!   messages are redelivered at once here; a real queue waits out the visibility timeout
//!   (840 s), so the real figure is far worse than this one.
//!
//! For each: time from the first batch (or the process's start) to the first card, time until
//! every one of the 300 accounts is named in the space, messages posted, and 429s. Prints a
//! table and writes `target/delibird-bench/storm.json` for `scripts/bench`.
//!
//! ```sh
//! cargo bench --bench storm
//! DELIBIRD_CLI=target/debug/delibird cargo bench --bench storm
//! ```

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use delibird::accounts::StaticAliases;
use delibird::chat;
use delibird::deps::Deps;
use delibird::handler::{Response, handle};
use delibird::health::AccountId;
use delibird::webhook::{RetryPolicy, http_client};
use delibird_tools::chat_emulator::{ChatEmulator, Received};
use futures::future::join_all;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};

/// Accounts the storm's event is raised in.
const ACCOUNTS: usize = 300;
/// Other events at the same time.
const OTHERS: usize = 50;
/// The collector template's `QueueBatchSize` (`DELIBIRD_BENCH_BATCH` measures another),
/// `ReservedConcurrency` and function `Timeout`.
const BATCH: usize = 100;
const CONCURRENCY: usize = 2;
const TIMEOUT: Duration = Duration::from_secs(90);
/// Batches taken at most, a bound on the loop (each takes at least one message).
const MAX_BATCHES: usize = 1_000;

const TOPIC: &str = "arn:aws:sns:us-east-1:999988887777:delibird";
const STORM_ARN: &str = "arn:aws:health:us-east-1::event/EC2/AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED/STORM";

fn account(n: usize) -> String {
    format!("{:012}", 400_000_000_000_u64 + n as u64)
}

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/health-events").join(name);
    serde_json::from_slice(&std::fs::read(&path).expect("the fixture")).expect("JSON")
}

/// The 350 events, the storm's copies interleaved with the others as they would arrive.
fn events() -> Vec<Value> {
    let retirement = fixture("awsdocs-ec2-instance-retirement-scheduled-metadata-actionability.json");
    let mut storm: Vec<Value> = (0..ACCOUNTS)
        .map(|n| {
            let mut copy = retirement.clone();
            copy["account"] = json!(account(n));
            copy["detail"]["affectedAccount"] = json!(account(n));
            copy["detail"]["eventArn"] = json!(STORM_ARN);
            copy["detail"]["affectedEntities"] = json!([
                {"entityValue": format!("arn:aws:ec2:us-east-1:{}:instance/i-{n:017x}", account(n)), "status": "PENDING"}
            ]);
            copy
        })
        .collect();
    let kinds = ["seed-project-health101.json", "seed-project-health102.json", "seed-project-health105.json"];
    let others: Vec<Value> = (0..OTHERS)
        .map(|n| {
            let mut event = fixture(kinds[n % kinds.len()]);
            let arn = event["detail"]["eventArn"].as_str().unwrap_or_default().to_owned();
            event["detail"]["eventArn"] = json!(format!("{arn}-other-{n}"));
            event
        })
        .collect();
    // One other event after every sixth copy: the storm is most of what arrives.
    let mut all = Vec::with_capacity(ACCOUNTS + OTHERS);
    let mut others = others.into_iter();
    for (n, copy) in storm.drain(..).enumerate() {
        all.push(copy);
        if n % 6 == 5
            && let Some(other) = others.next()
        {
            all.push(other);
        }
    }
    all.extend(others);
    all
}

/// One SQS record per event, each with its own message id.
fn sqs_record(index: usize, event: &Value) -> Value {
    let notification = json!({"Type": "Notification", "MessageId": format!("n-{index}"), "TopicArn": TOPIC,
        "Message": event.to_string(), "Timestamp": "2026-12-01T00:00:00.000Z", "SignatureVersion": "1",
        "Signature": "x", "SigningCertURL": "https://sns.us-east-1.amazonaws.com/x.pem",
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"});
    json!({"messageId": format!("m-{index}"), "receiptHandle": format!("r-{index}"), "body": notification.to_string(),
           "attributes": {}, "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
           "eventSourceARN": "arn:aws:sqs:us-east-1:999988887777:delibird-deliveries", "awsRegion": "us-east-1"})
}

fn deps(emulator: &ChatEmulator, rollup: bool) -> Deps {
    let webhook = chat::webhook(&emulator.webhook_url("STORM"), true).expect("the emulator's URL");
    let aliases: StaticAliases =
        (0..ACCOUNTS).filter_map(|n| Some((AccountId::parse(&account(n))?, format!("team-{n:03}")))).collect();
    let mut deps =
        Deps { aliases, ..Deps::new(http_client(RetryPolicy::default().request_timeout).expect("a client"), webhook) };
    deps.folding.accounts = rollup;
    deps
}

/// A Lambda context with the function's timeout from now.
fn context(request: usize) -> Context {
    let mut context = Context::default();
    context.request_id = format!("storm-{request}");
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    context.deadline = now_ms + TIMEOUT.as_millis() as u64;
    context
}

/// What one way of delivering the storm measured.
struct Measured {
    name: String,
    first_card: Option<Duration>,
    every_account: Option<Duration>,
    messages: usize,
    rate_limited: usize,
    invocations: usize,
}

/// Messages per batch: the template's, or `DELIBIRD_BENCH_BATCH`.
fn batch_size() -> usize {
    std::env::var("DELIBIRD_BENCH_BATCH").ok().and_then(|n| n.parse().ok()).filter(|n| *n > 0).unwrap_or(BATCH)
}

fn measure(name: &str, started: Instant, emulator: &ChatEmulator, invocations: usize) -> Measured {
    let received: Vec<Received> = emulator.received();
    let first_card = received.iter().map(|r| r.at).min().map(|at| at.saturating_duration_since(started));
    let texts: Vec<(Instant, String)> = received.iter().map(|r| (r.at, r.body.to_string())).collect();
    let mut every_account = Some(Duration::ZERO);
    for n in 0..ACCOUNTS {
        let id = account(n);
        let named = texts.iter().filter(|(_, text)| text.contains(&id)).map(|(at, _)| *at).min();
        every_account = match (every_account, named) {
            (Some(so_far), Some(at)) => Some(so_far.max(at.saturating_duration_since(started))),
            _ => None,
        };
    }
    Measured {
        name: name.to_owned(),
        first_card,
        every_account,
        messages: received.len(),
        rate_limited: emulator.rate_limited(),
        invocations,
    }
}

/// The storm through the handler as the event source mapping delivers it.
async fn queue_mode(rollup: bool) -> Measured {
    let emulator = ChatEmulator::with_min_interval(Duration::from_secs(1)).await.expect("the emulator");
    let deps = deps(&emulator, rollup);
    let mut queue: VecDeque<Value> = events().iter().enumerate().map(|(i, event)| sqs_record(i, event)).collect();
    let started = Instant::now();
    let mut invocations = 0;
    for _ in 0..MAX_BATCHES {
        if queue.is_empty() {
            break;
        }
        // Up to CONCURRENCY batches at once, each of up to BATCH messages.
        let mut batches = Vec::new();
        while batches.len() < CONCURRENCY && !queue.is_empty() {
            let take = queue.len().min(batch_size());
            batches.push(queue.drain(..take).collect::<Vec<Value>>());
        }
        let answers = join_all(batches.iter().map(|records| {
            invocations += 1;
            let event = LambdaEvent::new(json!({"Records": records}), context(invocations));
            handle(event, &deps)
        }))
        .await;
        for (records, answer) in batches.into_iter().zip(answers) {
            let failed: Vec<String> = match answer {
                Ok(Response::Batch(response)) => {
                    response.batch_item_failures.into_iter().map(|f| f.item_identifier).collect()
                }
                Ok(other) => panic!("an SQS batch is answered with its failures, not {other:?}"),
                Err(error) => panic!("the batch failed as a whole: {error}"),
            };
            queue.extend(records.into_iter().filter(|r| failed.iter().any(|id| r["messageId"] == id.as_str())));
        }
    }
    let name = match (rollup, batch_size()) {
        (true, BATCH) => "queue mode (roll-up on)".to_owned(),
        (true, size) => format!("queue mode (roll-up on), batches of {size}"),
        (false, _) => "queue mode, DELIBIRD_ROLLUP=0".to_owned(),
    };
    measure(&name, started, &emulator, invocations)
}

/// The storm through `delibird send`, all 350 events in one file.
async fn send(cli: &std::path::Path) -> Measured {
    let emulator = ChatEmulator::with_min_interval(Duration::from_secs(1)).await.expect("the emulator");
    let dir = results_dir();
    std::fs::create_dir_all(&dir).expect("the results directory");
    let file = dir.join("storm-events.json");
    std::fs::write(&file, Value::Array(events()).to_string()).expect("the events file");
    let names: serde_json::Map<String, Value> =
        (0..ACCOUNTS).map(|n| (account(n), json!(format!("team-{n:03}")))).collect();
    let started = Instant::now();
    let mut child = std::process::Command::new(cli)
        .arg("send")
        .arg(&file)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DELIBIRD_WEBHOOK_URL", emulator.webhook_url("STORM"))
        .env("DELIBIRD_ALLOW_LOOPBACK_WEBHOOK", "1")
        .env("DELIBIRD_ACCOUNT_ALIASES", Value::Object(names).to_string())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("delibird send runs");
    // Waited for without blocking the runtime the emulator answers on; bounded.
    let mut status = None;
    for _ in 0..60_000 {
        if let Some(exited) = child.try_wait().expect("the child can be waited for") {
            status = Some(exited);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let Some(status) = status else {
        let _ = child.kill();
        panic!("delibird send did not finish within 10 minutes");
    };
    let mut measured = measure("delibird send (one invocation)", started, &emulator, 1);
    if !status.success() {
        measured.name.push_str(&format!(" (exit {})", status.code().unwrap_or(-1)));
    }
    measured
}

fn results_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    target.join("delibird-bench")
}

fn seconds(duration: Option<Duration>) -> String {
    duration.map_or_else(|| "never".to_owned(), |d| format!("{:.1} s", d.as_secs_f64()))
}

fn main() {
    // `cargo bench` passes `--bench`; there is nothing to filter.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let mut results = vec![runtime.block_on(queue_mode(true))];
    if let Some(cli) = std::env::var_os("DELIBIRD_CLI") {
        results.push(runtime.block_on(send(std::path::Path::new(&cli))));
    }
    if std::env::var_os("DELIBIRD_BENCH_NO_CONTRAST").is_none() {
        results.push(runtime.block_on(queue_mode(false)));
    }
    println!("storm: one event in {ACCOUNTS} accounts + {OTHERS} other events, Chat at 1 message/s");
    println!("| path | first card | every account named | messages | 429s | invocations |");
    println!("|---|---|---|---|---|---|");
    for m in &results {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            m.name,
            seconds(m.first_card),
            seconds(m.every_account),
            m.messages,
            m.rate_limited,
            m.invocations
        );
    }
    let json: Vec<Value> = results
        .iter()
        .map(|m| {
            json!({"path": m.name, "first_card_s": m.first_card.map(|d| d.as_secs_f64()),
                   "every_account_s": m.every_account.map(|d| d.as_secs_f64()), "messages": m.messages,
                   "rate_limited": m.rate_limited, "invocations": m.invocations})
        })
        .collect();
    let dir = results_dir();
    std::fs::create_dir_all(&dir).expect("the results directory");
    std::fs::write(dir.join("storm.json"), Value::Array(json).to_string()).expect("storm.json");
}
