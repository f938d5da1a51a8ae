//! Chat accepting a card but answering after delibird's HTTP timeout: the retry carries the
//! same request id, Chat returns the message it made, and the space has one card.

use std::time::Duration;

use delibird::envelope::sns_event;
use delibird_tools::chat_emulator::Scripted;
use serde_json::json;
use tokio::time::Instant;

use super::{Figures, PATIENCE, Rig, TOPIC, event, once_each};
use crate::support::runtime_api::Reply;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_answering_an_accepted_card_after_the_timeout_makes_one_message() {
    let rig = Rig::start(Duration::ZERO).await;
    let container = rig.container(&[("DELIBIRD_HTTP_TIMEOUT_MS", "1000")]).await;
    rig.emulator.script([Scripted::AcceptSlowly(Duration::from_millis(2500))]);
    let events = [event(5)];
    let started = Instant::now();

    rig.api.invoke_text("request-1", sns_event(&events, TOPIC).to_string(), Duration::from_secs(10));
    let reply = rig.reply("request-1", PATIENCE).await;
    let time = started.elapsed();
    let printed = container.finish();

    assert_eq!(
        reply,
        Reply::Response(json!({"records": 1, "posted": 1, "degraded": 0, "duplicates": 0, "folded": 0, "failed": 0})),
        "{printed}"
    );
    assert_eq!(rig.emulator.requests(), 2, "the first attempt timed out and was retried");
    assert_eq!(rig.emulator.repeats(), 1, "the retry repeated the first's request id");
    let attempts =
        super::lines(&printed).into_iter().find(|line| line["outcome"] == "posted").unwrap()["attempts"].clone();
    assert_eq!(attempts, json!(2), "{printed}");
    let figures = Figures::count(&rig, &once_each(&events), 0);
    figures.print("Chat answers after the HTTP timeout", time);
    assert_eq!((figures.posted, figures.duplicated, figures.lost), (1, 0, 0));
}
