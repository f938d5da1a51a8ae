//! Nothing lost, nothing twice: bursts, duplicates and faults through the handler, against the
//! rate-limiting Chat emulator, with DynamoDB and SQS in moto. Time is scaled down tenfold: the
//! emulator allows one message per 100 ms per space and delibird paces at 110 ms, as it would at
//! 1 s and 1.1 s against Chat.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use delibird::dedup::{DedupStore, DynamoStore, Lease, Seen, Store, ThreadId, ThreadState};
use delibird::deps::Deps;
use delibird::envelope::sns_event;
use delibird::handler::{HandlerError, Response, Summary, handle};
use delibird::webhook::RetryPolicy;
use delibird_tools::chat_emulator::ChatEmulator;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};

use crate::support::aws_proxy::AwsProxy;
use crate::support::chat_schema::assert_accepted;
use crate::support::fixture;
use crate::support::moto::Moto;
use crate::support::stack::{self, Stack};

const TABLE: &str = "delibird-dedup";
const TOPIC: &str = "arn:aws:sns:us-east-1:999988887777:delibird";

/// How long the store tests' leases run.
const LEASE: Duration = Duration::from_secs(60);

/// A container's dependencies: the table, patient retries, pacing at a tenth of Chat's.
fn container(dynamo: &aws_config::SdkConfig, url: &str) -> Stack {
    let retry = RetryPolicy {
        max_attempts: NonZeroU32::new(10).unwrap(),
        base: Duration::from_millis(50),
        cap: Duration::from_millis(400),
        request_timeout: Duration::from_secs(2),
        deadline_margin: Duration::from_millis(100),
    };
    stack::to(url)
        .retry(retry)
        .dedup(Store::Dynamo(DynamoStore::new(dynamo, TABLE, Duration::from_secs(86_400))))
        .paced(Duration::from_millis(110))
        .connect_timeout(Duration::from_secs(1))
}

fn account(n: usize) -> String {
    format!("{:012}", 100_000_000_000 + n)
}

/// An SNS notification as SNS writes it into an SQS queue (raw delivery off).
fn notification(event: &Value) -> String {
    json!({"Type": "Notification", "MessageId": "m", "TopicArn": TOPIC, "Message": event.to_string(),
           "Timestamp": "2026-01-01T00:00:00.000Z", "SignatureVersion": "1", "Signature": "x",
           "SigningCertURL": "https://sns.us-east-1.amazonaws.com/x.pem", "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?x"})
    .to_string()
}

/// 300 copies of one public event (one per member account), 30 backup-Region copies, 20 plain
/// repeats, and 50 distinct account-specific events: 51 distinct notifications in 400 messages.
fn burst() -> Vec<String> {
    let public = fixture("health-events/awsdocs-public-ec2-operational-issue-af-south-1.json");
    let specific = fixture("health-events/awsdocs-ec2-instance-retirement-scheduled-metadata-actionability.json");
    let mut bodies = Vec::new();
    for n in 0..300 {
        let mut copy = public.clone();
        copy["account"] = json!(account(n));
        copy["detail"]["affectedAccount"] = json!(account(n));
        bodies.push(notification(&copy));
        if n % 10 == 0 {
            copy["region"] = json!("us-west-2");
            copy["detail"]["backupEvent"] = json!("true");
            bodies.push(notification(&copy));
        }
    }
    for n in 0..50 {
        let mut event = specific.clone();
        event["account"] = json!(account(n));
        event["detail"]["affectedAccount"] = json!(account(n));
        bodies.push(notification(&event));
        if n < 20 {
            bodies.push(notification(&event));
        }
    }
    bodies
}

async fn enqueue(moto: &Moto, queue: &str, bodies: &[String]) {
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config());
    for (chunk_number, chunk) in bodies.chunks(10).enumerate() {
        let entries = chunk.iter().enumerate().map(|(i, body)| {
            SendMessageBatchRequestEntry::builder()
                .id(format!("m{chunk_number}-{i}"))
                .message_body(body)
                .build()
                .unwrap()
        });
        sqs.send_message_batch().queue_url(queue).set_entries(Some(entries.collect())).send().await.unwrap();
    }
}

/// What Lambda's SQS event source mapping does: receive up to 10 messages, invoke, delete the
/// ones not reported as failures. Returns the summed summaries and the failures reported.
async fn event_source_mapping(moto: Arc<Moto>, queue: String, deps: Arc<Deps>) -> (Summary, usize) {
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config());
    let mut total = Summary::default();
    let mut reported = 0;
    // Like the real mapping, keep polling while any message is still in the queue, visible or
    // not: a failed record comes back only after its visibility timeout. A generous bound stops
    // a broken run instead of hanging it.
    let give_up = tokio::time::Instant::now() + Duration::from_secs(180);
    while tokio::time::Instant::now() < give_up {
        let received = sqs.receive_message().queue_url(&queue).max_number_of_messages(10).send().await.unwrap();
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            if moto.queue_depth(&queue).await == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            continue;
        }
        let records: Vec<Value> = messages
            .iter()
            .map(|m| {
                json!({"messageId": m.message_id, "receiptHandle": m.receipt_handle, "body": m.body,
                            "attributes": {}, "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:health", "awsRegion": "us-east-1"})
            })
            .collect();
        let response = handle(LambdaEvent::new(json!({"Records": records}), Context::default()), &deps).await.unwrap();
        let Response::Batch(batch) = response else { panic!("an SQS event is answered with batch item failures") };
        let failed: Vec<String> = batch.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
        reported += failed.len();
        for message in &messages {
            let receipt = message.receipt_handle.clone().unwrap();
            if failed.contains(message.message_id.as_ref().unwrap()) {
                // Lambda leaves a failed message to reappear after the visibility timeout; the
                // test shortens that wait to keep the run fast.
                sqs.change_message_visibility()
                    .queue_url(&queue)
                    .receipt_handle(receipt)
                    .visibility_timeout(0)
                    .send()
                    .await
                    .unwrap();
                continue;
            }
            sqs.delete_message().queue_url(&queue).receipt_handle(receipt).send().await.unwrap();
        }
        total.records += messages.len();
    }
    (total, reported)
}

fn posts_per_thread(emulator: &ChatEmulator) -> BTreeMap<String, usize> {
    let mut threads = BTreeMap::new();
    for message in emulator.received() {
        assert_accepted(&message.body);
        let key = message.body["thread"]["threadKey"].as_str().unwrap().to_owned();
        *threads.entry(key).or_default() += 1;
    }
    threads
}

/// The burst in a queue, four concurrent Lambda containers (each with its own pacer, sharing the
/// dedup table, as `configure` sets them up) draining it into a Chat emulator paced at 10 messages
/// a second: each container's summary and failures reported back, and what the emulator saw.
struct Burst {
    moto: Arc<Moto>,
    queue: String,
    dlq: String,
    emulator: ChatEmulator,
    messages: usize,
    handled: usize,
    reported_failures: usize,
}

impl Burst {
    async fn run(configure: impl Fn(Stack) -> Stack) -> Self {
        // Warnings (a dedup store error, say) are printed with the test's output when it fails.
        let _ = tracing_subscriber::fmt().with_max_level(tracing::Level::WARN).with_test_writer().try_init();
        let moto = Arc::new(Moto::start());
        moto.create_dedup_table(TABLE).await;
        let dynamo_proxy = AwsProxy::serialized(&moto.endpoint).await;
        let dynamo = moto.sdk_config().to_builder().endpoint_url(&dynamo_proxy.endpoint).build();
        // As in the collector template, the visibility timeout is far longer than an invocation: a
        // message must not reappear while it is still being handled.
        let (queue, dlq) = moto.create_queue_with_dlq("health", 5, 60).await;
        let emulator = ChatEmulator::with_min_interval(Duration::from_millis(100)).await.unwrap();
        let bodies = burst();
        enqueue(&moto, &queue, &bodies).await;
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let deps = Arc::new(configure(container(&dynamo, &emulator.webhook_url("SPACE"))).build());
                tokio::spawn(event_source_mapping(moto.clone(), queue.clone(), deps))
            })
            .collect();
        let (mut handled, mut reported_failures) = (0, 0);
        for worker in workers {
            let (summary, reported) = worker.await.unwrap();
            handled += summary.records;
            reported_failures += reported;
        }
        Self { moto, queue, dlq, emulator, messages: bodies.len(), handled, reported_failures }
    }

    /// Every message acknowledged, none dead-lettered.
    async fn assert_drained(&self) {
        assert_eq!(self.moto.queue_depth(&self.queue).await, 0, "every message acknowledged");
        assert_eq!(self.moto.queue_depth(&self.dlq).await, 0, "nothing in the dead-letter queue");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_posts_every_distinct_notification_exactly_once_with_a_thread_per_account() {
    // One thread per account (DELIBIRD_ROLLUP=0), so that each notification is one card.
    let burst = Burst::run(Stack::without_rollups).await;

    let threads = posts_per_thread(&burst.emulator);
    let posted = burst.emulator.received().len();
    println!(
        "burst: {} messages, {} handled (redeliveries included), {posted} posted, {} duplicate-skipped, \
         {} failed and redelivered, {} answers 429 and retried",
        burst.messages,
        burst.handled,
        burst.handled - posted - burst.reported_failures,
        burst.reported_failures,
        burst.emulator.rate_limited()
    );
    assert_eq!(threads.len(), 51, "one thread per distinct notification");
    assert!(threads.values().all(|&posts| posts == 1), "every notification exactly once: {threads:?}");
    burst.assert_drained().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_with_roll_ups_names_every_account_once_in_the_events_one_thread() {
    let burst = Burst::run(|stack| stack).await;

    // Two threads: the public event's, and the account-specific event's roll-up, in which each of
    // its 50 accounts is named exactly once (a roll-up card, then replies for those that came later).
    let threads = posts_per_thread(&burst.emulator);
    assert_eq!(threads.len(), 2, "{threads:?}");
    let received = burst.emulator.received();
    let rollup: Vec<String> = received
        .iter()
        .filter(|m| m.body["thread"]["threadKey"].as_str().unwrap().contains("RETIREMENT"))
        .map(|m| m.body.to_string())
        .collect();
    println!("burst with roll-ups: {} messages, {} in the roll-up thread", received.len(), rollup.len());
    for n in 0..50 {
        let named = rollup.iter().map(|body| body.matches(&account(n)).count()).sum::<usize>();
        assert_eq!(named, 1, "account {} is named {named} times in the roll-up thread", account(n));
    }
    assert!(rollup.len() < 10, "50 accounts in a few messages, not one each: {}", rollup.len());
    burst.assert_drained().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_sqs_mode_an_outage_reports_the_records_back_and_they_are_posted_after_recovery() {
    let moto = Arc::new(Moto::start());
    moto.create_dedup_table(TABLE).await;
    let dynamo_proxy = AwsProxy::serialized(&moto.endpoint).await;
    let dynamo = moto.sdk_config().to_builder().endpoint_url(&dynamo_proxy.endpoint).build();
    let (queue, dlq) = moto.create_queue_with_dlq("health", 20, 60).await;
    let emulator = ChatEmulator::with_min_interval(Duration::from_millis(100)).await.unwrap();
    let events: Vec<String> = (0..5)
        .map(|n| {
            let mut event = fixture("health-events/seed-project-health101.json");
            event["detail"]["eventArn"] = json!(format!("arn:aws:health:ap-southeast-2::event/EXAMPLE_{n}"));
            notification(&event)
        })
        .collect();
    enqueue(&moto, &queue, &events).await;
    let two_attempts = RetryPolicy {
        max_attempts: NonZeroU32::new(2).unwrap(),
        ..container(&dynamo, "http://127.0.0.1:9/x?key=k&token=t").build().retry
    };
    let deps = Arc::new(container(&dynamo, &emulator.webhook_url("SPACE")).retry(two_attempts).build());

    emulator.set_outage(Some(500));
    let outage = tokio::spawn(event_source_mapping(moto.clone(), queue.clone(), deps.clone()));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(emulator.received().len(), 0);
    emulator.set_outage(None);
    let (_, reported) = outage.await.unwrap();

    assert!(reported >= 5, "the failed records were reported back for redelivery ({reported})");
    let threads = posts_per_thread(&emulator);
    assert_eq!(threads.len(), 5);
    assert!(threads.values().all(|&posts| posts == 1), "{threads:?}");
    assert_eq!(moto.queue_depth(&queue).await + moto.queue_depth(&dlq).await, 0);
}

#[tokio::test]
async fn in_direct_mode_an_outage_fails_the_invocation_and_the_retry_posts_once() {
    let moto = Moto::start();
    moto.create_dedup_table(TABLE).await;
    let dynamo_proxy = AwsProxy::serialized(&moto.endpoint).await;
    let dynamo = moto.sdk_config().to_builder().endpoint_url(&dynamo_proxy.endpoint).build();
    let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap();
    let deps = container(&dynamo, &emulator.webhook_url("SPACE")).paced(Duration::ZERO).build();
    let event = fixture("health-events/seed-project-health104.json");
    let invoke = || handle(LambdaEvent::new(sns_event([&event], TOPIC), Context::default()), &deps);

    emulator.set_outage(Some(503));
    let during = invoke().await;
    assert!(matches!(during, Err(HandlerError::Records { undelivered: 1, .. })), "{during:?}");

    // Connection refused is an outage too: a container whose webhook cannot be reached.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let unreachable = container(&dynamo, &format!("http://127.0.0.1:{port}/v1/spaces/S/messages?key=k&token=t"))
        .paced(Duration::ZERO)
        .build();
    let refused = handle(LambdaEvent::new(sns_event([&event], TOPIC), Context::default()), &unreachable).await;
    assert!(matches!(refused, Err(HandlerError::Records { undelivered: 1, .. })), "{refused:?}");

    emulator.set_outage(None);
    let retried = invoke().await.unwrap();
    let repeated = invoke().await.unwrap();

    assert_eq!(retried, Response::Summary(Summary { records: 1, posted: 1, ..Summary::default() }));
    assert_eq!(repeated, Response::Summary(Summary { records: 1, duplicates: 1, ..Summary::default() }));
    assert_eq!(emulator.received().len(), 1, "posted once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_leases_on_one_thread_are_won_exactly_once() {
    let moto = Moto::start();
    moto.create_dedup_table(TABLE).await;
    let dynamo_proxy = AwsProxy::serialized(&moto.endpoint).await;
    let dynamo = moto.sdk_config().to_builder().endpoint_url(&dynamo_proxy.endpoint).build();
    let store = Arc::new(DynamoStore::new(&dynamo, TABLE, Duration::from_secs(3600)));

    for round in 0..5 {
        let thread =
            ThreadId { space: "default".into(), key: format!("health/arn:aws:health:us-east-1::event/X{round}") };
        let leases = (0..16).map(|holder| {
            let (store, thread) = (store.clone(), thread.clone());
            tokio::spawn(async move {
                let now = SystemTime::now();
                store.lease(&thread, &format!("invocation-{holder}"), now + LEASE, now).await.unwrap()
            })
        });
        let leases: Vec<Lease> = futures::future::join_all(leases).await.into_iter().map(Result::unwrap).collect();
        let held = leases.iter().filter(|lease| matches!(lease, Lease::Held(_))).count();
        assert_eq!(held, 1, "round {round}: {leases:?}");
    }
}

#[tokio::test]
async fn a_released_lease_can_be_taken_again_and_a_committed_state_is_what_the_next_holder_reads() {
    let moto = Moto::start();
    moto.create_dedup_table(TABLE).await;
    let dynamo_proxy = AwsProxy::serialized(&moto.endpoint).await;
    let dynamo = moto.sdk_config().to_builder().endpoint_url(&dynamo_proxy.endpoint).build();
    let store = DynamoStore::new(&dynamo, TABLE, Duration::from_secs(3600));
    let thread = ThreadId { space: "default".into(), key: "k".into() };
    let now = SystemTime::now();

    assert_eq!(store.lease(&thread, "a", now + LEASE, now).await.unwrap(), Lease::Held(ThreadState::default()));
    assert_eq!(store.lease(&thread, "b", now + LEASE, now).await.unwrap(), Lease::Busy);
    store.release(&thread, "a").await.unwrap();
    assert_eq!(store.lease(&thread, "b", now + LEASE, now).await.unwrap(), Lease::Held(ThreadState::default()));
    let said = ThreadState {
        posted: 1,
        members: [("*".to_owned(), Seen { fingerprint: "f".into(), updated: Some(1_674_799_371) })].into(),
        tracked: None,
    };
    store.commit(&thread, "b", &said, now).await.unwrap();
    assert_eq!(store.lease(&thread, "c", now + LEASE, now).await.unwrap(), Lease::Held(said.clone()));
    // A lease whose holder died is taken over once it has run out, and the dead holder can no
    // longer write.
    assert_eq!(store.lease(&thread, "d", now + LEASE, now).await.unwrap(), Lease::Busy);
    assert_eq!(
        store.lease(&thread, "d", now + LEASE, now + LEASE + Duration::from_secs(1)).await.unwrap(),
        Lease::Held(said)
    );
    assert!(store.commit(&thread, "c", &ThreadState::default(), now).await.is_err(), "the lease was taken over");
}

/// Regression: a slot refused as too late was taken all the same; a 10,000-record batch pushed
/// the space's next slot hours ahead, and every container's posts then failed with "no send slot
/// before the deadline" until it passed.
#[tokio::test]
async fn a_send_slot_past_the_callers_stop_is_refused_without_pushing_the_next_one_later() {
    let moto = Moto::start();
    moto.create_dedup_table(TABLE).await;
    let dynamo_proxy = AwsProxy::serialized(&moto.endpoint).await;
    let dynamo = moto.sdk_config().to_builder().endpoint_url(&dynamo_proxy.endpoint).build();
    let store = DynamoStore::new(&dynamo, TABLE, Duration::from_secs(3600));
    let (now, step) = (SystemTime::now(), Duration::from_secs(1));
    let far = now + Duration::from_secs(3600);

    let first = store.slot("space", step, now, far).await.unwrap().expect("a slot");
    for _ in 0..20 {
        assert_eq!(store.slot("space", step, now, first + step / 2).await.unwrap(), None, "too late");
    }
    let next = store.slot("space", step, now, far).await.unwrap().expect("a slot");

    assert_eq!(next.duration_since(first).unwrap(), step, "the refusals took nothing");
}

#[tokio::test]
async fn redrive_replays_a_dead_letter_queue_and_skips_what_was_posted() {
    let moto = Moto::start();
    moto.create_dedup_table(TABLE).await;
    let dynamo_proxy = AwsProxy::serialized(&moto.endpoint).await;
    let dynamo = moto.sdk_config().to_builder().endpoint_url(&dynamo_proxy.endpoint).build();
    let (_, dlq) = moto.create_queue_with_dlq("health", 3, 30).await;
    let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap();
    let deps = container(&dynamo, &emulator.webhook_url("SPACE")).paced(Duration::ZERO).build();
    let first = fixture("health-events/seed-project-health101.json");
    let second = fixture("health-events/seed-project-health107.json");
    let third = fixture("health-events/awsdocs-account-specific-elb-api-issue.json");
    // The third was posted before its message reached the queue.
    handle(LambdaEvent::new(sns_event([&third], TOPIC), Context::default()), &deps).await.unwrap();
    let messages = [
        // A Lambda on-failure destination record of a failed asynchronous SNS invocation.
        json!({"version": "1.0", "timestamp": "2026-01-01T00:00:00.000Z",
               "requestContext": {"requestId": "r", "functionArn": "arn:aws:lambda:us-east-1:1:function:delibird",
                                  "condition": "RetriesExhausted", "approximateInvokeCount": 3},
               "requestPayload": sns_event([&first], TOPIC), "responseContext": {"statusCode": 200},
               "responsePayload": {"errorType": "delibird.DeliveryFailed"}})
        .to_string(),
        // An SQS-mode message that ran out of receives: the SNS notification itself.
        notification(&second),
        notification(&third),
    ];
    enqueue(&moto, &dlq, &messages).await;

    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config());
    let done = delibird::redrive::redrive(&sqs, &dlq, &deps, 100).await.unwrap();

    assert_eq!((done.messages, done.deleted, done.left, done.posted, done.duplicates), (3, 3, 0, 2, 1), "{done:?}");
    assert_eq!(emulator.received().len(), 3, "one before, two by the redrive");
    assert_eq!(moto.queue_depth(&dlq).await, 0);
}
