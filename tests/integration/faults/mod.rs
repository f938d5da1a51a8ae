//! Never lose a card (issue 15): the `bootstrap` binary, run as Lambda runs it, under the faults
//! a deployment meets — a container killed mid-delivery, a lease that cannot be given back, a
//! DynamoDB that hangs or has no table, Chat answering after the timeout, eight containers on one
//! space, updates out of order, a 10,000-record batch. Each test prints its figures (`figures |
//! fault | sent | posted | duplicated | lost | time`, visible with `--nocapture`); docs/delivery.md
//! collects them.
//!
//! Every test starts its own moto (the dedup table, behind the serialized [`AwsProxy`], which
//! also injects the store's faults), Chat emulator and Runtime API, on 127.0.0.1, and ends every
//! process it starts. Only [`eight_containers`] runs at Chat's real rate (1 message per second,
//! delibird pacing at 1.1 s); the others post unpaced.

mod batch;
mod chat;
mod eight_containers;
mod killed;
mod store;
mod threads;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use aws_sdk_dynamodb::types::AttributeValue;
use delibird_tools::chat_emulator::ChatEmulator;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::support::aws_proxy::AwsProxy;
use crate::support::chat_schema::assert_accepted;
use crate::support::fixture;
use crate::support::moto::Moto;
use crate::support::runtime_api::{Bootstrap, Reply, RuntimeApi, spawn_bootstrap};

/// The dedup table every test creates.
const TABLE: &str = "delibird-dedup";

/// The topic SNS events come from.
const TOPIC: &str = "arn:aws:sns:us-east-1:999988887777:delibird";

/// The space every card goes to.
const SPACE: &str = "SPACE";

/// The longest any one wait in this suite may take before the test fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(60);

/// Everything a test runs `bootstrap` against: moto with the dedup table behind a serialized,
/// fault-injecting proxy, the Chat emulator, a Runtime API.
struct Rig {
    moto: Moto,
    proxy: AwsProxy,
    emulator: ChatEmulator,
    api: RuntimeApi,
}

impl Rig {
    /// The rig with the dedup table, Chat taking one message per `chat_interval` per space.
    async fn start(chat_interval: Duration) -> Self {
        let rig = Self::without_table(chat_interval).await;
        rig.moto.create_dedup_table(TABLE).await;
        rig
    }

    /// The rig with no table created.
    async fn without_table(chat_interval: Duration) -> Self {
        let moto = Moto::start();
        let proxy = AwsProxy::serialized(&moto.endpoint).await;
        let emulator = ChatEmulator::with_min_interval(chat_interval).await.unwrap();
        let api = RuntimeApi::start().await;
        Self { moto, proxy, emulator, api }
    }

    /// A container's environment: the emulator's space, the table through the proxy, unpaced,
    /// then `extra` (which wins).
    fn env(&self, extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
        let mut env: BTreeMap<&'static str, String> = self.moto.env().into_iter().collect();
        env.insert("AWS_ENDPOINT_URL", self.proxy.endpoint.clone());
        env.insert("DELIBIRD_WEBHOOK_URL", self.emulator.webhook_url(SPACE));
        env.insert("DELIBIRD_ALLOW_LOOPBACK_WEBHOOK", "1".into());
        env.insert("DELIBIRD_DEDUP_TABLE", TABLE.into());
        env.insert("DELIBIRD_WEBHOOK_INTERVAL_MS", "0".into());
        env.extend(extra.iter().map(|(name, value)| (*name, (*value).to_owned())));
        env.into_iter().collect()
    }

    /// A `bootstrap` container started with [`Rig::env`] and ready: it has printed
    /// `delibird started` (its table checked) and polls for invocations.
    async fn container(&self, extra: &[(&'static str, &str)]) -> Bootstrap {
        let child = spawn_bootstrap(&self.api, "info", &self.env(extra));
        let ready = within(PATIENCE, || child.printed().contains("delibird started")).await;
        assert!(ready, "bootstrap did not start:\n{}", child.printed());
        child
    }

    /// The reply to `id`, which must come within `within`.
    async fn reply(&self, id: &str, within: Duration) -> Reply {
        self.api.reply(id, within).await.unwrap_or_else(|| panic!("no reply to {id} within {within:?}"))
    }

    /// Who holds the lease on the thread of `event` now, read from the table.
    async fn holder(&self, event: &Value) -> Option<String> {
        let arn = event["detail"]["eventArn"].as_str().unwrap();
        let item = aws_sdk_dynamodb::Client::new(&self.moto.sdk_config())
            .get_item()
            .table_name(TABLE)
            .key("id", AttributeValue::S(format!("thread#default#health/{arn}")))
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item?;
        item.get("holder")?.as_s().ok().cloned()
    }

    /// Messages Chat accepted, per thread key (every body checked against Chat's schema).
    fn posts_per_thread(&self) -> BTreeMap<String, usize> {
        let mut threads = BTreeMap::new();
        for message in self.emulator.received() {
            assert_accepted(&message.body);
            let key = message.body["thread"]["threadKey"].as_str().unwrap().to_owned();
            *threads.entry(key).or_default() += 1;
        }
        threads
    }
}

/// Waits (polling every 50 ms) until `done` holds, for at most `patience`; whether it held.
async fn within(patience: Duration, done: impl Fn() -> bool) -> bool {
    let give_up = Instant::now() + patience;
    while !done() {
        if Instant::now() >= give_up {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    true
}

/// Sleeps until `at` on the wall clock (the one leases are written in).
async fn sleep_until_wall(at: SystemTime) {
    if let Ok(wait) = at.duration_since(SystemTime::now()) {
        tokio::time::sleep(wait).await;
    }
}

/// A public event of its own (its own thread, `health/<eventArn>`), number `n`.
fn event(n: usize) -> Value {
    let mut event = fixture("health-events/seed-project-health101.json");
    event["detail"]["eventArn"] = json!(format!("arn:aws:health:ap-southeast-2::event/AWS_ELB_FAULT_{n:05}"));
    event
}

/// The thread key of an event's cards.
fn thread_of(event: &Value) -> String {
    format!("health/{}", event["detail"]["eventArn"].as_str().unwrap())
}

/// A Lambda SQS event with these `(messageId, body)` records.
fn sqs_event(messages: &[(String, String)]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|(id, body)| {
            json!({"messageId": id, "receiptHandle": format!("receipt-{id}"), "body": body, "attributes": {},
                   "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                   "eventSourceARN": "arn:aws:sqs:us-east-1:999988887777:delibird-health", "awsRegion": "us-east-1"})
        })
        .collect();
    json!({"Records": records})
}

/// The message ids an SQS reply reports for redelivery.
fn batch_item_failures(reply: &Reply) -> Vec<String> {
    let Reply::Response(response) = reply else { panic!("an SQS invocation is answered with a response: {reply:?}") };
    response["batchItemFailures"]
        .as_array()
        .unwrap_or_else(|| panic!("no batchItemFailures: {response}"))
        .iter()
        .map(|failure| failure["itemIdentifier"].as_str().unwrap().to_owned())
        .collect()
}

/// The JSON lines a container printed.
fn lines(printed: &str) -> Vec<Value> {
    printed.lines().filter_map(|line| serde_json::from_str(line).ok()).collect()
}

/// The EMF line of the invocation `request_id`.
fn metrics_of(printed: &str, request_id: &str) -> Value {
    lines(printed)
        .into_iter()
        .find(|line| line["message"] == "invocation done" && line["request_id"] == request_id)
        .unwrap_or_else(|| panic!("no metrics line for {request_id}:\n{printed}"))
}

/// What one fault cost: the figures each test prints and docs/delivery.md collects.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Figures {
    /// Cards that should reach Chat (one per distinct update).
    sent: usize,
    /// Messages Chat made.
    posted: usize,
    /// Messages beyond the one each update should make.
    duplicated: usize,
    /// Cards neither posted nor reported back for redelivery.
    lost: usize,
    /// Cards still reported back for redelivery when the test ended (not lost: a retry has them).
    reported: usize,
}

impl Figures {
    /// What Chat got in `rig` against `expected` posts per thread, `reported` cards still waiting
    /// for a redelivery.
    fn count(rig: &Rig, expected: &BTreeMap<String, usize>, reported: usize) -> Self {
        let got = rig.posts_per_thread();
        let posts = |thread: &String| got.get(thread).copied().unwrap_or(0);
        let missing: usize = expected.iter().map(|(thread, want)| want.saturating_sub(posts(thread))).sum();
        let extra: usize =
            got.iter().map(|(thread, n)| n.saturating_sub(expected.get(thread).copied().unwrap_or(0))).sum();
        Self {
            sent: expected.values().sum(),
            posted: got.values().sum(),
            duplicated: extra,
            lost: missing.saturating_sub(reported),
            reported,
        }
    }

    /// Prints the figures as one row of docs/delivery.md's table.
    fn print(&self, fault: &str, time: Duration) {
        let reported =
            if self.reported > 0 { format!(" ({} reported for redelivery)", self.reported) } else { String::new() };
        println!(
            "figures | {fault} | {} | {}{reported} | {} | {} | {:.1} s |",
            self.sent,
            self.posted,
            self.duplicated,
            self.lost,
            time.as_secs_f64()
        );
    }
}

/// One post expected in each of `events`' threads.
fn once_each<'a>(events: impl IntoIterator<Item = &'a Value>) -> BTreeMap<String, usize> {
    events.into_iter().map(|event| (thread_of(event), 1)).collect()
}
