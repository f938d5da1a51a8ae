//! A container killed mid-delivery (as a timeout, an out-of-memory kill or a crash would): its
//! leases hold until its deadline plus the margin, so a redelivery meanwhile is reported back,
//! never taken for a success, and a redelivery after them posts each card exactly once.

use std::time::{Duration, SystemTime};

use delibird::dedup::LEASE_MARGIN;
use delibird::envelope::sns_event;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{PATIENCE, Rig, TOPIC, batch_item_failures, event, once_each, sleep_until_wall, within};
use crate::support::runtime_api::{Bootstrap, Reply};

/// Each invocation's deadline: short, so that a dead one's leases run out soon.
const DEADLINE: Duration = Duration::from_secs(8);

/// When the first container is killed, from its invocation's start.
const KILLED_AFTER: Duration = Duration::from_secs(3);

/// Retrying a 503 until killed rather than giving up first: many attempts, and backoffs of at most
/// a second (a longer one that would end past the deadline's margin is not waited: delivery
/// stops there, the lease is given back, and nothing would be left to kill).
const PATIENT: [(&str, &str); 2] = [("DELIBIRD_RETRY_MAX_ATTEMPTS", "20"), ("DELIBIRD_RETRY_CAP_MS", "1000")];

/// Starts a container, hands it `payload` as `request-1` while Chat answers 503, and kills it
/// [`KILLED_AFTER`] in, while it still retries. Returns when its leases run out.
async fn kill_mid_delivery(rig: &Rig, payload: &str, events: &[Value]) -> SystemTime {
    rig.emulator.set_outage(Some(503));
    let mut first: Bootstrap = rig.container(&PATIENT).await;
    let started = Instant::now();
    rig.api.invoke_text("request-1", payload.to_owned(), DEADLINE);
    let deadline = rig.api.handed_out("request-1", PATIENCE).await.expect("request-1 is handed out");
    assert!(within(KILLED_AFTER, || rig.emulator.requests() >= events.len()).await, "delivery started");
    tokio::time::sleep_until(started + KILLED_AFTER).await;
    for event in events {
        let holder = rig.holder(event).await;
        assert_eq!(holder.as_deref(), Some("request-1"), "its lease is held at the kill:\n{}", first.printed());
    }
    first.kill();
    assert!(rig.api.reply("request-1", Duration::ZERO).await.is_none(), "it died without answering");
    rig.emulator.set_outage(None);
    deadline + LEASE_MARGIN
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_killed_mid_delivery_of_an_sns_event_leaves_the_card_to_a_redelivery_after_its_lease() {
    let rig = Rig::start(Duration::ZERO).await;
    let events = [event(1)];
    let payload = sns_event(&events, TOPIC).to_string();
    let started = Instant::now();
    let lease_ends = kill_mid_delivery(&rig, &payload, &events).await;

    // SNS delivers at least once: a second invocation (another request id) while the dead
    // one's lease holds is a failure Lambda retries, not a success that would drop the card.
    let second = rig.container(&PATIENT).await;
    rig.api.invoke_text("request-2", payload.clone(), DEADLINE);
    let held = rig.reply("request-2", PATIENCE).await;
    let Reply::Error(error) = &held else { panic!("a held thread fails the invocation: {held:?}") };
    assert_eq!(error["errorType"], "delibird.DeliveryFailed", "{error}");
    assert_eq!(rig.emulator.received().len(), 0);

    sleep_until_wall(lease_ends + Duration::from_millis(500)).await;
    rig.api.invoke_text("request-3", payload.clone(), DEADLINE);
    let after = rig.reply("request-3", PATIENCE).await;
    rig.api.invoke_text("request-4", payload, DEADLINE);
    let again = rig.reply("request-4", PATIENCE).await;
    let time = started.elapsed();
    let printed = second.finish();

    let summary = |posted: u32, duplicates: u32| json!({"records": 1, "posted": posted, "degraded": 0, "duplicates": duplicates, "folded": 0, "failed": 0});
    assert_eq!(after, Reply::Response(summary(1, 0)), "{printed}");
    assert_eq!(again, Reply::Response(summary(0, 1)), "{printed}");
    let figures = super::Figures::count(&rig, &once_each(&events), 0);
    figures.print("bootstrap killed mid-delivery (SNS)", time);
    assert_eq!((figures.posted, figures.duplicated, figures.lost), (1, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_killed_mid_delivery_of_an_sqs_batch_leaves_its_cards_to_a_redelivery_after_its_leases() {
    let rig = Rig::start(Duration::ZERO).await;
    let events: Vec<Value> = (1..=3).map(event).collect();
    let messages: Vec<(String, String)> =
        events.iter().enumerate().map(|(n, event)| (format!("message-{n}"), event.to_string())).collect();
    let payload = super::sqs_event(&messages).to_string();
    let ids: Vec<String> = messages.iter().map(|(id, _)| id.clone()).collect();
    let started = Instant::now();
    let lease_ends = kill_mid_delivery(&rig, &payload, &events).await;

    // The queue redelivers (a receive after the visibility timeout, another request id): while
    // the dead one's leases hold, every message is reported back, none acknowledged.
    let second = rig.container(&PATIENT).await;
    rig.api.invoke_text("request-2", payload.clone(), DEADLINE);
    let held = rig.reply("request-2", PATIENCE).await;
    assert_eq!(batch_item_failures(&held), ids, "{held:?}");
    assert_eq!(rig.emulator.received().len(), 0);

    sleep_until_wall(lease_ends + Duration::from_millis(500)).await;
    rig.api.invoke_text("request-3", payload.clone(), DEADLINE);
    let after = rig.reply("request-3", PATIENCE).await;
    rig.api.invoke_text("request-4", payload, DEADLINE);
    let again = rig.reply("request-4", PATIENCE).await;
    let time = started.elapsed();
    let printed = second.finish();

    assert_eq!(batch_item_failures(&after), Vec::<String>::new(), "{printed}");
    assert_eq!(batch_item_failures(&again), Vec::<String>::new(), "{printed}");
    let metrics = super::metrics_of(&printed, "request-4");
    assert_eq!((&metrics["Posted"], &metrics["Duplicate"]), (&json!(0), &json!(3)), "{metrics}");
    let figures = super::Figures::count(&rig, &once_each(&events), 0);
    figures.print("bootstrap killed mid-delivery (SQS batch of 3)", time);
    assert_eq!((figures.posted, figures.duplicated, figures.lost), (3, 0, 0));
    assert!(rig.posts_per_thread().values().all(|&posts| posts == 1));
}
