//! The Lambda handler, called directly with fixtures as the Lambda runtime would call it.

use std::time::Duration;

use delibird::deps::Deps;
use delibird::envelope::sns_event;
use delibird::handler::{HandlerError, Response, Summary, handle};
use delibird_tools::chat_emulator::{ChatEmulator, EMULATOR_TOKEN, Scripted};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde_json::{Value, json};

use crate::support::chat_schema::assert_accepted;
use crate::support::{fixture, logs, stack};

const TOPIC: &str = "arn:aws:sns:us-east-1:999988887777:delibird";

fn deps(url: &str) -> Deps {
    stack::to(url).attempts(3).aliases(&[("111122223333", "payments-prod")]).build()
}

fn invocation(payload: Value) -> LambdaEvent<Value> {
    LambdaEvent::new(payload, Context::default())
}

#[tokio::test]
async fn every_record_of_an_sns_event_is_posted() {
    let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap();
    let events = [
        fixture("health-events/seed-project-health102.json"),
        fixture("health-events/seed-project-health107.json"),
        fixture("health-events/awsdocs-backup-event-ec2-instance-store-drive-degraded.json"),
    ];

    let summary = handle(invocation(sns_event(&events, TOPIC)), &deps(&emulator.webhook_url("S"))).await.unwrap();

    assert_eq!(summary, Response::Summary(Summary { records: 3, posted: 3, ..Summary::default() }));
    let received = emulator.received();
    assert_eq!(received.len(), 3);
    for message in &received {
        assert_accepted(&message.body);
    }
    let names: Vec<&str> =
        received.iter().filter_map(|r| r.body["cardsV2"][0]["card"]["header"]["subtitle"].as_str()).collect();
    assert!(names.iter().any(|s| s.contains("payments-prod (111122223333)")), "{names:?}");
}

#[tokio::test]
async fn an_invalid_event_is_posted_as_a_degraded_card() {
    let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap();
    let mut event = fixture("health-events/seed-project-health101.json");
    event["detail"]["startTime"] = json!(17);

    let summary = handle(invocation(sns_event([&event], TOPIC)), &deps(&emulator.webhook_url("S"))).await.unwrap();

    assert_eq!(summary, Response::Summary(Summary { records: 1, posted: 1, degraded: 1, ..Summary::default() }));
    let body = &emulator.received()[0].body;
    assert_accepted(body);
    assert!(body.to_string().contains("detail.startTime: expected a string, found a number"), "{body}");
}

#[tokio::test]
async fn a_record_that_is_not_an_event_fails_the_invocation_but_not_the_others() {
    let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap();
    let mut envelope = sns_event([&fixture("health-events/seed-project-health101.json"), &json!({})], TOPIC);
    envelope["Records"][1]["Sns"]["Message"] = json!("Hello\r\nworld!");

    let error = handle(invocation(envelope), &deps(&emulator.webhook_url("S"))).await.unwrap_err();

    assert!(
        matches!(error, HandlerError::Records { records: 2, failed: 1, unusable: 1, undelivered: 0, rejected: 0 }),
        "{error:?}"
    );
    assert_eq!(emulator.received().len(), 1, "the good record was still posted");
    assert_eq!(Diagnostic::from(error).error_type, "delibird.NotAnEvent");
}

#[tokio::test]
async fn input_with_no_record_fails_the_invocation() {
    let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap();
    let error = handle(invocation(json!({"hello": "world"})), &deps(&emulator.webhook_url("S"))).await.unwrap_err();
    assert!(matches!(error, HandlerError::Envelope(_)), "{error:?}");
    assert_eq!(Diagnostic::from(error).error_type, "delibird.NoEvent");
}

#[tokio::test]
async fn an_undelivered_card_fails_the_invocation_so_lambda_retries_it() {
    let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap();
    emulator.script([Scripted::Status(503); 3]);
    let event = fixture("health-events/seed-project-health101.json");

    let error = handle(invocation(sns_event([&event], TOPIC)), &deps(&emulator.webhook_url("S"))).await.unwrap_err();

    assert!(matches!(error, HandlerError::Records { undelivered: 1, .. }), "{error:?}");
    assert_eq!(Diagnostic::from(error).error_type, "delibird.DeliveryFailed");
}

#[tokio::test]
async fn the_token_appears_in_no_log_line_or_error_on_any_path() {
    let (captured, _guard) = logs::capture();
    let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap();
    let event = fixture("health-events/seed-project-health101.json");
    let mut shown = Vec::new();
    // Delivered, delivered after retries, refused, exhausted, timed out.
    for script in [
        vec![],
        vec![Scripted::Status(429), Scripted::Status(500)],
        vec![Scripted::Status(400)],
        vec![Scripted::Status(503); 3],
        vec![Scripted::Delay(Duration::from_secs(2)); 3],
    ] {
        emulator.script(script);
        let result = handle(invocation(sns_event([&event], TOPIC)), &deps(&emulator.webhook_url("S"))).await;
        shown.push(format!("{result:?}"));
        if let Err(error) = result {
            shown.push(Diagnostic::from(error).error_message);
        }
    }
    // Connection refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let closed = format!("http://127.0.0.1:{port}/v1/spaces/S/messages?key=emulator-key&token={EMULATOR_TOKEN}");
    let result = handle(invocation(sns_event([&event], TOPIC)), &deps(&closed)).await;
    shown.push(format!("{result:?}"));
    shown.push(format!("{:?}", deps(&closed)));

    let logged = captured.text();
    assert!(logged.contains("record posted") && logged.contains("record failed"), "both outcomes were logged");
    assert!(!logged.contains(EMULATOR_TOKEN), "token in logs:\n{logged}");
    assert!(!logged.contains("emulator-key"), "API key in logs");
    for text in &shown {
        assert!(!text.contains(EMULATOR_TOKEN) && !text.contains("emulator-key"), "secret in {text}");
    }
}
