//! Alert storms: one account-specific event raised in many accounts (one `eventArn`) is one
//! thread per space, its first message a roll-up card naming every account; accounts that come
//! later are one reply naming only them; one account's real change is that account's own card;
//! repeats say nothing. Through the handler, into the Chat emulator.

use std::time::Duration;

use delibird::accounts::StaticAliases;
use delibird::card::{CardSettings, rollup};
use delibird::chat::{self, limits};
use delibird::deps::Deps;
use delibird::envelope::sns_event;
use delibird::handler::{Response, Summary, handle};
use delibird::health::{self, AccountId};
use delibird_tools::chat_emulator::{ChatEmulator, Received};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};

use crate::support::chat_schema::{assert_accepted, assert_message_accepted};
use crate::support::{fixture, stack};

const TOPIC: &str = "arn:aws:sns:us-east-1:999988887777:delibird";

fn account(n: usize) -> String {
    format!("{:012}", 200_000_000_000 + n)
}

/// The retirement event as AWS raises it in account `n` (the same `eventArn` in every account).
fn in_account(n: usize) -> Value {
    let mut event = fixture("health-events/awsdocs-ec2-instance-retirement-scheduled-metadata-actionability.json");
    event["account"] = json!(account(n));
    event["detail"]["affectedAccount"] = json!(account(n));
    event["detail"]["affectedEntities"][0]["entityValue"] = json!(format!("i-{n:017x}"));
    event
}

/// Every card to the emulator's space, accounts 0–9 named `team-N`.
fn deps(emulator: &ChatEmulator) -> Deps {
    let names: Vec<(String, String)> = (0..10).map(|n| (account(n), format!("team-{n}"))).collect();
    let names: Vec<(&str, &str)> = names.iter().map(|(id, name)| (id.as_str(), name.as_str())).collect();
    stack::to(&emulator.webhook_url("STORM")).aliases(&names).build()
}

/// An SQS batch of `events`, as the queue-mode event source mapping delivers it.
fn batch(events: &[Value]) -> Value {
    let records: Vec<Value> = events
        .iter()
        .enumerate()
        .map(|(i, event)| {
            let notification = json!({"Type": "Notification", "MessageId": format!("n{i}"), "TopicArn": TOPIC,
                "Message": event.to_string(), "Timestamp": "2026-01-27T13:44:13.000Z", "SignatureVersion": "1",
                "Signature": "x", "SigningCertURL": "https://sns.us-east-1.amazonaws.com/x.pem",
                "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"});
            json!({"messageId": format!("m{i}-{}", fastrand::u64(..)), "receiptHandle": "r", "body": notification.to_string(),
                   "attributes": {}, "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                   "eventSourceARN": "arn:aws:sqs:us-east-1:999988887777:deliveries", "awsRegion": "us-east-1"})
        })
        .collect();
    json!({"Records": records})
}

async fn invoke(deps: &Deps, payload: Value) -> Response {
    handle(LambdaEvent::new(payload, Context::default()), deps).await.expect("the invocation answers")
}

fn text(message: &Received) -> String {
    message.body.to_string()
}

fn named(message: &Received, n: usize) -> bool {
    text(message).contains(&account(n))
}

#[tokio::test]
async fn one_event_in_many_accounts_is_one_thread_and_one_roll_up_card_naming_every_account() {
    let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap();
    let deps = deps(&emulator);
    let events: Vec<Value> = (0..25).map(in_account).collect();

    let response = invoke(&deps, batch(&events)).await;

    let Response::Batch(batch) = response else { panic!("an SQS batch is answered with its failures") };
    assert!(batch.batch_item_failures.is_empty(), "{batch:?}");
    let received = emulator.received();
    assert_eq!(received.len(), 1, "one message for 25 accounts");
    assert_accepted(&received[0].body);
    let body = text(&received[0]);
    assert!((0..25).all(|n| named(&received[0], n)), "every account named: {body}");
    assert!(body.contains("<b>team-3</b> (200000000003)"), "by name when known: {body}");
    assert!(body.contains("Affected accounts (25)"), "{body}");
    assert!(body.contains("25 accounts · us-east-1"), "{body}");
    let thread = received[0].body["thread"]["threadKey"].as_str().unwrap();
    assert_eq!(thread, format!("health/{}", events[0]["detail"]["eventArn"].as_str().unwrap()));
}

#[tokio::test]
async fn accounts_that_come_later_are_one_reply_naming_only_them_and_repeats_say_nothing() {
    let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap();
    let deps = deps(&emulator);
    invoke(&deps, batch(&(0..10).map(in_account).collect::<Vec<_>>())).await;

    // A later batch: twelve new accounts, and repeats of three the thread has named.
    let later: Vec<Value> = (10..22).chain(0..3).map(in_account).collect();
    invoke(&deps, batch(&later)).await;

    let received = emulator.received();
    assert_eq!(received.len(), 2, "the roll-up, then one reply");
    let reply = &received[1];
    assert_accepted(&reply.body);
    assert!(text(reply).contains("➕ 12 more accounts"), "{}", text(reply));
    assert!((10..22).all(|n| named(reply, n)), "the new accounts are named");
    assert!((0..10).all(|n| !named(reply, n)), "the ones named before are not: {}", text(reply));
    assert_eq!(reply.thread_name, received[0].thread_name, "in the roll-up's thread");

    // Repeats of everything: nothing more.
    let response = invoke(&deps, batch(&(0..22).map(in_account).collect::<Vec<_>>())).await;
    assert!(matches!(response, Response::Batch(ref b) if b.batch_item_failures.is_empty()), "{response:?}");
    assert_eq!(emulator.received().len(), 2, "repeats post nothing");
}

#[tokio::test]
async fn every_message_of_a_storm_is_posted_before_the_invocations_other_events() {
    // 260 accounts: a roll-up naming 250, then a reply naming 10, in one invocation with eight
    // other events; at a real pace, the storm's second message must not wait behind them.
    let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap();
    let names: Vec<(String, String)> = (0..10).map(|n| (account(n), format!("team-{n}"))).collect();
    let names: Vec<(&str, &str)> = names.iter().map(|(id, name)| (id.as_str(), name.as_str())).collect();
    let deps = stack::to(&emulator.webhook_url("STORM")).aliases(&names).paced(Duration::from_millis(40)).build();
    let mut events: Vec<Value> = (0..260).map(in_account).collect();
    for n in 0..8 {
        let mut other = fixture("health-events/seed-project-health101.json");
        other["detail"]["eventArn"] = json!(format!("arn:aws:health:us-east-1::event/ELB/OTHER/{n}"));
        events.insert(n * 30, other);
    }
    invoke(&deps, batch(&events)).await;

    let received = emulator.received();
    assert_eq!(received.len(), 10, "two storm messages and eight cards");
    let storm = &received[0].thread_name;
    assert_eq!(&received[1].thread_name, storm, "the storm's reply is the second message, not the tenth");
    assert!(received[2..].iter().all(|m| &m.thread_name != storm));
    assert!((0..260).all(|n| named(&received[0], n) || named(&received[1], n)), "every account named");
}

#[tokio::test]
async fn a_real_change_in_one_account_is_one_reply_naming_that_account() {
    let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap();
    let deps = deps(&emulator);
    invoke(&deps, batch(&(0..5).map(in_account).collect::<Vec<_>>())).await;

    let mut changed = in_account(3);
    changed["detail"]["affectedEntities"][0]["status"] = json!("RESOLVED");
    changed["detail"]["lastUpdatedTime"] = json!("Tue, 27 Jan 2026 15:00:00 GMT");
    let mut unchanged: Vec<Value> = (0..5).filter(|n| *n != 3).map(in_account).collect();
    unchanged.push(changed);
    invoke(&deps, batch(&unchanged)).await;

    let received = emulator.received();
    assert_eq!(received.len(), 2);
    let reply = &received[1];
    assert_accepted(&reply.body);
    assert_eq!(reply.body["cardsV2"][0]["card"]["header"]["subtitle"], "team-3 (200000000003) · us-east-1");
    assert!((0..5).filter(|n| *n != 3).all(|n| !named(reply, n)), "only the account that changed");
    assert_eq!(reply.thread_name, received[0].thread_name);
}

#[tokio::test]
async fn in_direct_mode_each_account_is_a_short_reply_in_the_one_thread() {
    let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap();
    let deps = deps(&emulator);
    for n in 0..3 {
        let response = invoke(&deps, sns_event([&in_account(n)], TOPIC)).await;
        assert!(matches!(response, Response::Summary(Summary { failed: 0, .. })), "{response:?}");
    }
    let received = emulator.received();
    assert_eq!(received.len(), 3);
    assert!(received.iter().all(|m| m.thread_name == received[0].thread_name), "one thread");
    assert_eq!(received[0].body["cardsV2"][0]["card"]["header"]["subtitle"], "team-0 (200000000000) · us-east-1");
    for (reply, n) in received[1..].iter().zip(1..) {
        assert!(text(reply).contains("➕ 1 more account"), "{}", text(reply));
        assert!(named(reply, n) && !named(reply, 0));
    }
}

#[tokio::test]
async fn without_roll_ups_each_account_has_its_own_thread() {
    let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap();
    let deps = Deps { folding: delibird::dedup::Folding { accounts: false, ..Default::default() }, ..deps(&emulator) };
    invoke(&deps, batch(&(0..4).map(in_account).collect::<Vec<_>>())).await;
    let received = emulator.received();
    assert_eq!(received.len(), 4);
    let threads: std::collections::BTreeSet<&String> = received.iter().map(|m| &m.thread_name).collect();
    assert_eq!(threads.len(), 4);
}

/// A roll-up of `count` accounts, each named `name(n)` when given, as Chat would receive it.
fn rollup_of(count: usize, name: impl Fn(usize) -> Option<String>) -> (Value, usize) {
    let aliases: StaticAliases =
        (0..count).filter_map(|n| Some((AccountId::parse(&account(n)).unwrap(), name(n)?))).collect();
    let events: Vec<delibird::accounts::EnrichedEvent> = (0..count)
        .map(|n| {
            let event = health::validate(&in_account(n)).unwrap();
            futures::executor::block_on(delibird::accounts::enrich(event, &aliases))
        })
        .collect();
    let members: Vec<rollup::Member<'_>> =
        events.iter().map(|event| rollup::Member { event, problems: None }).collect();
    let message = chat::render(&rollup::rollup(&members, &CardSettings::default(), "health/x"));
    assert!(limits::within_limits(&message), "{} bytes", limits::message_bytes(&message));
    let body = assert_message_accepted(&message);
    let shown = body.to_string();
    let listed = (0..count).filter(|n| shown.contains(&account(*n))).count();
    println!("a roll-up of {count} accounts names {listed} of them in {} bytes", limits::message_bytes(&message));
    assert!(shown.contains(&format!("Affected accounts ({count})")));
    (body, listed)
}

#[test]
fn a_roll_up_of_a_thousand_accounts_stays_within_googles_limits_and_names_every_one() {
    let (_, listed) = rollup_of(1_000, |_| None);
    assert_eq!(listed, 1_000);
}

#[test]
fn a_roll_up_too_long_for_one_message_names_as_many_as_fit_and_counts_the_rest() {
    let (body, listed) = rollup_of(1_000, |n| Some(format!("a-rather-long-account-name-for-team-number-{n:04}-prod")));
    assert!((300..1_000).contains(&listed), "{listed}");
    assert!(body.to_string().contains(&format!("+{} more accounts", 1_000 - listed)), "the rest are counted");
}
