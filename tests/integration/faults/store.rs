//! The dedup store failing: a lease that cannot be given back, a DynamoDB that hangs, a table
//! that is not there. Availability over deduplication: the card is posted without the store (its
//! request id guarding against a repeat), or left to a redelivery that posts it once the lease has
//! run out — never dropped.

use std::time::Duration;

use delibird::dedup::LEASE_MARGIN;
use delibird::envelope::sns_event;
use delibird_tools::chat_emulator::EMULATOR_TOKEN;
use serde_json::json;
use tokio::time::Instant;

use super::{Figures, PATIENCE, Rig, TABLE, TOPIC, event, lines, metrics_of, once_each, sleep_until_wall};
use crate::support::aws_faults::{Fault, Rule};
use crate::support::runtime_api::Reply;

/// Each invocation's deadline.
const DEADLINE: Duration = Duration::from_secs(8);

/// The release of a lease: the one UpdateItem that only removes the holder (a commit also sets
/// what was posted), as the SDK writes its JSON.
const RELEASE: &str = "\"UpdateExpression\":\"REMOVE holder";

fn summary(posted: u32, duplicates: u32) -> Reply {
    Reply::Response(
        json!({"records": 1, "posted": posted, "degraded": 0, "duplicates": duplicates, "folded": 0, "failed": 0}),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_that_cannot_be_given_back_runs_out_and_a_later_redelivery_posts_the_card() {
    let rig = Rig::start(Duration::ZERO).await;
    rig.proxy.inject(Rule::on("UpdateItem").body_contains(RELEASE), Fault::fail(500, "InternalServerError"));
    let events = [event(2)];
    let payload = sns_event(&events, TOPIC).to_string();
    let container = rig.container(&[("DELIBIRD_RETRY_MAX_ATTEMPTS", "2")]).await;
    let started = Instant::now();

    rig.emulator.set_outage(Some(503));
    rig.api.invoke_text("request-1", payload.clone(), DEADLINE);
    let deadline = rig.api.handed_out("request-1", PATIENCE).await.unwrap();
    let failed = rig.reply("request-1", PATIENCE).await;
    rig.emulator.set_outage(None);
    let Reply::Error(error) = &failed else { panic!("an undelivered card fails the invocation: {failed:?}") };
    assert_eq!(error["errorType"], "delibird.DeliveryFailed", "{error}");
    assert!(rig.proxy.faulted("UpdateItem") >= 1, "the release was refused");
    assert_eq!(rig.holder(&events[0]).await.as_deref(), Some("request-1"), "so the lease stayed");

    // Before the lease runs out, a redelivery finds the thread held: a failure, retried later.
    rig.api.invoke_text("request-2", payload.clone(), DEADLINE);
    let held = rig.reply("request-2", PATIENCE).await;
    assert!(matches!(&held, Reply::Error(e) if e["errorType"] == "delibird.DeliveryFailed"), "{held:?}");
    sleep_until_wall(deadline + LEASE_MARGIN + Duration::from_millis(500)).await;
    rig.api.invoke_text("request-3", payload, DEADLINE);
    let after = rig.reply("request-3", PATIENCE).await;
    let time = started.elapsed();
    let printed = container.finish();

    assert_eq!(after, summary(1, 0), "{printed}");
    let release_failed = lines(&printed).into_iter().any(|line| {
        line["level"] == "ERROR" && line["message"].as_str().unwrap_or("").contains("could not give the lease back")
    });
    assert!(release_failed, "the failed release is logged:\n{printed}");
    assert_eq!(metrics_of(&printed, "request-1")["StoreUnavailable"], json!(1));
    let figures = Figures::count(&rig, &once_each(&events), 0);
    figures.print("webhook failure + lease release failing", time);
    assert_eq!((figures.posted, figures.duplicated, figures.lost), (1, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_dynamodb_is_given_up_in_time_and_the_card_posted_without_it_once() {
    // Paced, so that the shared send slots (in the table too) are waited for and given up.
    let rig = Rig::start(Duration::from_secs(1)).await;
    let container = rig.container(&[("DELIBIRD_WEBHOOK_INTERVAL_MS", "1100")]).await;
    for operation in ["UpdateItem", "GetItem", "PutItem"] {
        rig.proxy.inject(Rule::on(operation), Fault::Hang(Duration::from_secs(30)));
    }
    let events = [event(3)];
    let payload = sns_event(&events, TOPIC).to_string();
    let deadline = Duration::from_secs(10);
    let started = Instant::now();

    rig.api.invoke_text("request-1", payload.clone(), deadline);
    let first = rig.reply("request-1", deadline).await;
    let answered = started.elapsed();
    // A redelivery while the store still hangs posts again without it, with the same request id:
    // Chat returns the message it made.
    rig.api.invoke_text("request-2", payload, deadline);
    let second = rig.reply("request-2", deadline).await;
    let time = started.elapsed();
    let printed = container.finish();

    assert_eq!(first, summary(1, 0), "{printed}");
    assert_eq!(second, summary(1, 0), "{printed}");
    assert!(answered < deadline - Duration::from_secs(1), "answered {answered:?} into a {deadline:?} deadline");
    let unavailable: Vec<_> = lines(&printed)
        .into_iter()
        .filter(|line| line["level"] == "ERROR" && line["message"] == "dedup store unavailable: posting without it")
        .collect();
    assert_eq!(unavailable.len(), 2, "one ERROR line per invocation:\n{printed}");
    assert!(unavailable[0]["error"].as_str().unwrap().contains("no answer within"), "{}", unavailable[0]);
    // One bounded call per thread: a store that did not answer the look is asked for no lease and
    // no send slot.
    // (The SDK makes a second attempt at each call once its 2 s attempt timeout passes.)
    assert!((2..=4).contains(&rig.proxy.faulted("GetItem")), "{printed}");
    assert_eq!(rig.proxy.faulted("UpdateItem"), 0, "{printed}");
    assert_eq!(metrics_of(&printed, "request-1")["StoreUnavailable"], json!(1));
    assert_eq!((rig.emulator.received().len(), rig.emulator.repeats()), (1, 1), "one message, one repeat");
    let figures = Figures::count(&rig, &once_each(&events), 0);
    figures.print("DynamoDB hung (2 deliveries)", time);
    assert_eq!((figures.posted, figures.duplicated, figures.lost), (1, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_slots_that_hang_are_given_up_and_the_container_paces_alone() {
    let rig = Rig::start(Duration::from_secs(1)).await;
    let container = rig.container(&[("DELIBIRD_WEBHOOK_INTERVAL_MS", "1100")]).await;
    // Only the space's send slot (`pace#…`) hangs; the thread's lease and commit answer.
    rig.proxy.inject(Rule::on("UpdateItem").body_contains("pace#"), Fault::Hang(Duration::from_secs(30)));
    let events = [event(5)];
    let deadline = Duration::from_secs(10);
    rig.api.invoke_text("request-1", sns_event(&events, TOPIC).to_string(), deadline);
    let reply = rig.reply("request-1", deadline).await;
    let printed = container.finish();

    assert_eq!(reply, summary(1, 0), "{printed}");
    let paced_alone = lines(&printed)
        .into_iter()
        .filter(|line| {
            line["level"] == "WARN" && line["message"] == "shared pacing did not answer; pacing this container alone"
        })
        .count();
    assert_eq!(paced_alone, 1, "{printed}");
    assert!(rig.proxy.faulted("UpdateItem") >= 1, "the slot was asked for");
    assert_eq!(rig.holder(&events[0]).await, None, "the commit gave the lease back");
    assert_eq!(rig.emulator.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_table_is_an_error_naming_it_and_the_aws_error_and_the_store_unavailable_metric() {
    let rig = Rig::without_table(Duration::ZERO).await;
    let started = Instant::now();
    let container = rig.container(&[]).await;
    let events = [event(4)];
    rig.api.invoke_text("request-1", sns_event(&events, TOPIC).to_string(), DEADLINE);
    let reply = rig.reply("request-1", PATIENCE).await;
    let time = started.elapsed();
    let printed = container.finish();

    assert_eq!(reply, summary(1, 0), "posted without the store:\n{printed}");
    let lines = lines(&printed);
    let error = lines
        .iter()
        .find(|line| line["level"] == "ERROR" && line["table"] == TABLE)
        .unwrap_or_else(|| panic!("no ERROR line naming the table:\n{printed}"));
    let cause = error["error"].as_str().unwrap();
    assert!(cause.contains("DescribeTable") && cause.contains("ResourceNotFoundException"), "{error}");
    let at_start = lines
        .iter()
        .find(|line| line["message"] == "dedup store unavailable at start")
        .unwrap_or_else(|| panic!("no metric line at start:\n{printed}"));
    assert_eq!((&at_start["StoreUnavailable"], &at_start["level"]), (&json!(1), &json!("ERROR")), "{at_start}");
    let names = at_start["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().unwrap();
    assert!(names.iter().any(|metric| metric["Name"] == "StoreUnavailable"), "{at_start}");
    assert_eq!(metrics_of(&printed, "request-1")["StoreUnavailable"], json!(1), "each invocation counts it too");
    assert!(!printed.contains(EMULATOR_TOKEN));
    let figures = Figures::count(&rig, &once_each(&events), 0);
    figures.print("missing table (from the container's start)", time);
    assert_eq!((figures.posted, figures.duplicated, figures.lost), (1, 0, 0));
}
