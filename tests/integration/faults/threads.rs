//! What a thread is told, across containers and invocations: an event that closes and opens
//! again is three cards, a late copy of an older update none; an event holding a number no
//! `f64` can hold is still a card — a degraded one naming the field — posted once.

use std::time::Duration;

use delibird::envelope::sns_event;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Figures, PATIENCE, Rig, TOPIC, event, thread_of};
use crate::support::runtime_api::Reply;

const DEADLINE: Duration = Duration::from_secs(10);

/// `base` with another status and `lastUpdatedTime`.
fn update(base: &Value, status: &str, updated: &str) -> Value {
    let mut event = base.clone();
    event["detail"]["statusCode"] = json!(status);
    event["detail"]["lastUpdatedTime"] = json!(updated);
    event
}

fn posted(summary: &Reply) -> (u64, u64) {
    let Reply::Response(summary) = summary else { panic!("expected a response: {summary:?}") };
    (summary["posted"].as_u64().unwrap(), summary["duplicates"].as_u64().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_closed_open_is_three_cards_and_a_late_copy_of_an_older_update_is_none() {
    let rig = Rig::start(Duration::ZERO).await;
    let base = event(6);
    let open = update(&base, "open", "Thu, 26 Jan 2023 13:44:13 GMT");
    let closed = update(&base, "closed", "Thu, 26 Jan 2023 14:10:00 GMT");
    // Says what the first said: only what the thread last said counts, not every card it ever had.
    let reopened = update(&base, "open", "Thu, 26 Jan 2023 15:00:00 GMT");
    // Two containers, as a busy collector has them: each invocation may land in either.
    let (one, two) = (rig.container(&[]).await, rig.container(&[]).await);
    let started = Instant::now();

    let mut answers = Vec::new();
    for (n, update) in [&open, &closed, &reopened, &closed, &open].into_iter().enumerate() {
        let id = format!("request-{n}");
        rig.api.invoke_text(&id, sns_event([update], TOPIC).to_string(), DEADLINE);
        answers.push(posted(&rig.reply(&id, PATIENCE).await));
    }
    let time = started.elapsed();
    let printed = format!("{}{}", one.finish(), two.finish());

    assert_eq!(answers, [(1, 0), (1, 0), (1, 0), (0, 1), (0, 1)], "{printed}");
    let resolved: Vec<bool> = rig
        .emulator
        .received()
        .iter()
        .map(|message| {
            message.body["cardsV2"][0]["card"]["header"]["title"].as_str().unwrap().starts_with("✅ Resolved")
        })
        .collect();
    assert_eq!(resolved, [false, true, false], "open, resolved, open again, in that order");
    let expected = [(thread_of(&base), 3)].into();
    let figures = Figures::count(&rig, &expected, 0);
    figures.print("open → closed → open, then late copies of older updates", time);
    assert_eq!((figures.sent, figures.posted, figures.duplicated, figures.lost), (3, 3, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_out_of_range_is_a_degraded_card_naming_the_field_posted_once_with_the_table() {
    let rig = Rig::start(Duration::ZERO).await;
    let container = rig.container(&[]).await;
    // An EventBridge event as the payload itself, as `invoke_text` hands it over: JSON that
    // `serde_json` cannot read into a `Value`, and the Lambda runtime's own reader would refuse.
    let events = [event(7)];
    let mut marked = events[0].clone();
    marked["detail"]["statusCode"] = json!("OUT-OF-RANGE");
    let text = marked.to_string().replace("\"OUT-OF-RANGE\"", "1e400");
    let started = Instant::now();

    rig.api.invoke_text("request-1", text.clone(), DEADLINE);
    let first = rig.reply("request-1", PATIENCE).await;
    rig.api.invoke_text("request-2", text, DEADLINE);
    let second = rig.reply("request-2", PATIENCE).await;
    let time = started.elapsed();
    let printed = container.finish();

    let Reply::Response(summary) = &first else { panic!("expected a response: {first:?}\n{printed}") };
    assert_eq!((&summary["posted"], &summary["degraded"]), (&json!(1), &json!(1)), "{summary}");
    assert_eq!(posted(&second), (0, 1), "the degraded card is deduplicated too");
    let body = rig.emulator.received()[0].body.to_string();
    assert!(body.contains("detail.statusCode") && body.contains("a number out of range"), "{body}");
    let figures = Figures::count(&rig, &super::once_each(&events), 0);
    figures.print("number out of range (1e400)", time);
    assert_eq!((figures.posted, figures.duplicated, figures.lost), (1, 0, 0));
}
