//! Stage 5 against a real local HTTP server speaking Google Chat's webhook behaviour.

use std::num::NonZeroU32;
use std::time::Duration;

use delibird::accounts::EnrichedEvent;
use delibird::card::{self, CardSettings};
use delibird::chat::{self, GoogleChat};
use delibird::health::validate;
use delibird::kept::WebhookUrl;
use delibird::webhook::{Delivery, DeliveryError, Pacer, Post, RetryPolicy, deliver, http_client};
use delibird_tools::chat_emulator::{ChatEmulator, EMULATOR_TOKEN, Scripted};
use tokio::time::Instant;

use crate::support::fixture;

/// A card's webhook body.
fn card() -> Vec<u8> {
    let event = validate(&fixture("health-events/awsdocs-account-specific-elb-api-issue.json")).unwrap();
    chat::render_body(&card::render(&EnrichedEvent::bare(event), None, &CardSettings::default())).body
}

/// [`deliver`] of [`card`] to `url`, with a request id of its own.
async fn send(
    client: &reqwest::Client,
    url: &WebhookUrl,
    policy: &RetryPolicy,
    pacer: &Pacer,
    deadline: Instant,
) -> Result<Delivery, DeliveryError> {
    let body = card();
    let request_id = format!("test-{:016x}", fastrand::u64(..));
    deliver(client, &GoogleChat, &Post { url, body: &body, request_id: &request_id }, policy, pacer, deadline).await
}

fn quick(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts: NonZeroU32::new(max_attempts).unwrap(),
        base: Duration::from_millis(10),
        cap: Duration::from_millis(40),
        request_timeout: Duration::from_millis(300),
        deadline_margin: Duration::from_millis(50),
    }
}

async fn emulator() -> (ChatEmulator, WebhookUrl) {
    let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap();
    let url = chat::webhook(&emulator.webhook_url("SPACE"), true).unwrap();
    (emulator, url)
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(20)
}

#[tokio::test]
async fn rate_limits_and_unavailability_are_retried_until_delivered() {
    let (emulator, url) = emulator().await;
    emulator.script([Scripted::Status(429), Scripted::Status(503)]);
    let client = http_client(Duration::from_secs(1)).unwrap();

    let delivery = send(&client, &url, &quick(5), &Pacer::unpaced(), soon()).await.unwrap();

    assert_eq!(delivery.attempts, 3);
    assert_eq!(emulator.requests(), 3);
    assert_eq!(emulator.received().len(), 1);
    assert_eq!(delivery.thread_name.as_deref(), Some(emulator.received()[0].thread_name.as_str()));
}

#[tokio::test]
async fn a_bad_request_is_given_up_after_one_call() {
    let (emulator, url) = emulator().await;
    emulator.script([Scripted::Status(400)]);
    let client = http_client(Duration::from_secs(1)).unwrap();

    let error = send(&client, &url, &quick(5), &Pacer::unpaced(), soon()).await.unwrap_err();

    assert!(matches!(error, DeliveryError::Refused { attempts: 1, .. }), "{error:?}");
    assert_eq!(emulator.requests(), 1);
    assert!(error.to_string().contains("HTTP 400"), "{error}");
}

#[tokio::test]
async fn revoked_and_deleted_webhooks_are_not_retried() {
    for status in [401, 403, 404] {
        let (emulator, url) = emulator().await;
        emulator.script([Scripted::Status(status)]);
        let client = http_client(Duration::from_secs(1)).unwrap();
        let error = send(&client, &url, &quick(5), &Pacer::unpaced(), soon()).await.unwrap_err();
        assert!(matches!(error, DeliveryError::Refused { attempts: 1, .. }), "{status}: {error:?}");
    }
}

#[tokio::test]
async fn a_timed_out_request_is_retried() {
    let (emulator, url) = emulator().await;
    emulator.script([Scripted::Delay(Duration::from_secs(2))]);
    let client = http_client(Duration::from_secs(1)).unwrap();

    let delivery = send(&client, &url, &quick(3), &Pacer::unpaced(), soon()).await.unwrap();

    assert_eq!(delivery.attempts, 2);
}

#[tokio::test]
async fn retries_stop_at_the_attempt_limit() {
    let (emulator, url) = emulator().await;
    emulator.script([Scripted::Status(500); 10]);
    let client = http_client(Duration::from_secs(1)).unwrap();

    let error = send(&client, &url, &quick(4), &Pacer::unpaced(), soon()).await.unwrap_err();

    assert!(matches!(error, DeliveryError::Exhausted { attempts: 4, .. }), "{error:?}");
    assert_eq!(emulator.requests(), 4);
}

#[tokio::test]
async fn retries_stop_before_the_deadline() {
    let (emulator, url) = emulator().await;
    emulator.set_outage(Some(503));
    let client = http_client(Duration::from_secs(1)).unwrap();
    let policy = quick(100_000);
    let deadline = Instant::now() + Duration::from_millis(400);

    let error = send(&client, &url, &policy, &Pacer::unpaced(), deadline).await.unwrap_err();

    assert!(matches!(error, DeliveryError::Deadline { .. }), "{error:?}");
    assert!(Instant::now() <= deadline, "delivery ran past its deadline");
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_reported_without_the_url() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let text = format!("http://127.0.0.1:{port}/v1/spaces/S/messages?key=k&token={EMULATOR_TOKEN}");
    let url = chat::webhook(&text, true).unwrap();
    let client = http_client(Duration::from_millis(200)).unwrap();

    let error = send(&client, &url, &quick(3), &Pacer::unpaced(), soon()).await.unwrap_err();

    assert!(matches!(error, DeliveryError::Exhausted { attempts: 3, .. }), "{error:?}");
    let shown = format!("{error} {error:?} {:?}", std::error::Error::source(&error));
    assert!(shown.contains("could not connect"), "{shown}");
    assert!(!shown.contains(EMULATOR_TOKEN), "{shown}");
}

#[tokio::test]
async fn retry_after_from_the_server_wins_over_the_backoff() {
    use axum::http::{HeaderMap, StatusCode};
    let app = axum::Router::new().route(
        "/v1/spaces/S/messages",
        axum::routing::post(|| async {
            let mut headers = HeaderMap::new();
            headers.insert("retry-after", "30".parse().unwrap());
            (StatusCode::TOO_MANY_REQUESTS, headers, "{}")
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let url = chat::webhook(&format!("http://{address}/v1/spaces/S/messages?key=k&token=t0k3n"), true).unwrap();
    let client = http_client(Duration::from_secs(1)).unwrap();

    // The backoff alone would retry within 40 ms; Retry-After: 30 s cannot fit before the deadline.
    let error =
        send(&client, &url, &quick(5), &Pacer::unpaced(), Instant::now() + Duration::from_secs(5)).await.unwrap_err();

    assert!(matches!(error, DeliveryError::Deadline { attempts: 1, .. }), "{error:?}");
}

#[tokio::test]
async fn threads_are_requested_in_the_url_and_the_body() {
    let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap();
    let url = chat::webhook(&emulator.webhook_url("SPACE"), true).unwrap();
    let client = http_client(Duration::from_secs(1)).unwrap();
    let first = send(&client, &url, &quick(1), &Pacer::unpaced(), soon()).await.unwrap();
    let second = send(&client, &url, &quick(1), &Pacer::unpaced(), soon()).await.unwrap();
    assert_eq!(first.thread_name, second.thread_name, "one event's updates share a thread");
}
