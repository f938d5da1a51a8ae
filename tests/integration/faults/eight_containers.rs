//! Eight containers at once on one space, at Chat's real rate (one message per second; delibird
//! paces at 1.1 s): the space's send slots, shared through the table, keep them in step, so every
//! card is posted once on the first pass and 429s stay rare. The suite's one slow test (~40 s).

use std::time::Duration;

use delibird::envelope::sns_event;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Figures, PATIENCE, Rig, TOPIC, event, once_each};
use crate::support::runtime_api::Reply;

const CONTAINERS: usize = 8;
const CARDS: usize = 36;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_containers_post_36_cards_to_one_space_each_once_on_the_first_pass_at_chats_rate() {
    let _alone = crate::support::TIMING.lock().await;
    let rig = Rig::start(Duration::from_secs(1)).await;
    let paced = [("DELIBIRD_WEBHOOK_INTERVAL_MS", "1100")];
    let containers = futures::future::join_all((0..CONTAINERS).map(|_| rig.container(&paced))).await;
    let events: Vec<Value> = (100..100 + CARDS).map(event).collect();
    let started = Instant::now();

    // Each card an SNS invocation of its own, taken by whichever container is free: all eight
    // post to the one space at once.
    for (n, event) in events.iter().enumerate() {
        rig.api.invoke_text(&format!("request-{n}"), sns_event([event], TOPIC).to_string(), Duration::from_secs(30));
    }
    let mut replies = Vec::new();
    for n in 0..CARDS {
        replies.push(rig.reply(&format!("request-{n}"), PATIENCE).await);
    }
    let time = started.elapsed();
    let printed: String = containers.into_iter().map(|container| container.finish()).collect();

    let once = json!({"records": 1, "posted": 1, "degraded": 0, "duplicates": 0, "folded": 0, "failed": 0});
    let failed: Vec<&Reply> = replies.iter().filter(|reply| **reply != Reply::Response(once.clone())).collect();
    assert!(failed.is_empty(), "every invocation posted its card: {failed:?}\n{printed}");
    let (requests, rate_limited) = (rig.emulator.requests(), rig.emulator.rate_limited());
    println!(
        "eight containers: {CARDS} cards in {:.1} s, {requests} requests, {rate_limited} answered 429 ({:.1}%)",
        time.as_secs_f64(),
        100.0 * rate_limited as f64 / requests as f64
    );
    assert!(rate_limited * 10 <= requests, "429s at most 10% of requests: {rate_limited} of {requests}");
    let figures = Figures::count(&rig, &once_each(&events), 0);
    figures.print(&format!("{CONTAINERS} containers, {CARDS} cards, one space at 1 msg/s"), time);
    assert_eq!((figures.sent, figures.posted, figures.duplicated, figures.lost), (CARDS, CARDS, 0, 0));
}
