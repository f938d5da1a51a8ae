//! A 10,000-record SQS batch of distinct small events to one space, at Chat's rate: far more
//! than one invocation can post, so most records are reported back. The invocation answers
//! before its deadline, in bounded memory, and every record is either posted once or reported in
//! `batchItemFailures` — none lost, none twice — and the space still takes the redelivered ones.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Figures, PATIENCE, Rig, batch_item_failures, once_each, sqs_event, thread_of};

const RECORDS: usize = 10_000;
const DEADLINE: Duration = Duration::from_secs(30);

/// Peak resident memory allowed, in KiB: the Lambda's 256 MB.
const MEMORY_KIB: u64 = 256 * 1024;

/// A small public event of its own: what validation needs, a one-line description.
fn small_event(n: usize) -> Value {
    json!({
        "version": "0", "id": format!("e-{n}"), "detail-type": "AWS Health Event", "source": "aws.health",
        "account": "111122223333", "time": "2023-01-26T01:43:21Z", "region": "ap-southeast-2", "resources": [],
        "detail": {
            "eventArn": format!("arn:aws:health:ap-southeast-2::event/AWS_EC2_BATCH_{n:05}"),
            "service": "EC2", "eventTypeCode": "AWS_EC2_OPERATIONAL_ISSUE", "eventTypeCategory": "issue",
            "eventScopeCode": "PUBLIC", "startTime": "Thu, 26 Jan 2023 13:19:03 GMT",
            "lastUpdatedTime": "Thu, 26 Jan 2023 13:44:13 GMT", "statusCode": "open", "eventRegion": "ap-southeast-2",
            "eventDescription": [{"language": "en_US", "latestDescription": format!("Batch event {n}.")}]
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_10000_record_batch_answers_in_time_in_bounded_memory_and_every_record_is_posted_once_or_reported() {
    // Both cores for most of a minute: not beside a test that measures rates.
    let _alone = crate::support::TIMING.lock().await;
    let rig = Rig::start(Duration::from_secs(1)).await;
    let container = rig.container(&[("DELIBIRD_WEBHOOK_INTERVAL_MS", "1100")]).await;
    let events: Vec<Value> = (0..RECORDS).map(small_event).collect();
    let messages: Vec<(String, String)> =
        events.iter().enumerate().map(|(n, event)| (format!("message-{n:05}"), event.to_string())).collect();
    let thread_of_message: BTreeMap<&str, String> =
        messages.iter().zip(&events).map(|((id, _), event)| (id.as_str(), thread_of(event))).collect();
    let payload = sqs_event(&messages).to_string();
    let payload_bytes = payload.len();
    let started = Instant::now();

    rig.api.invoke_text("request-1", payload, DEADLINE);
    let reply = rig.reply("request-1", DEADLINE).await;
    let answered = started.elapsed();
    let peak_kib = container.peak_rss_kib().expect("the container still runs");
    let reported = batch_item_failures(&reply);

    // What was reported comes back (SQS redelivers it): the space takes it at its rate.
    let again: Vec<(String, String)> =
        messages.iter().filter(|(id, _)| reported.contains(id)).take(4).cloned().collect();
    rig.api.invoke_text("request-2", sqs_event(&again).to_string(), Duration::from_secs(10));
    let redelivered = rig.reply("request-2", PATIENCE).await;
    let printed = container.finish();

    let posted = rig.posts_per_thread();
    let reported_threads: BTreeSet<&String> = reported.iter().map(|id| &thread_of_message[id.as_str()]).collect();
    println!(
        "batch: {RECORDS} records ({:.1} MB of payload) answered in {:.1} s of a {DEADLINE:?} deadline, peak RSS \
         {:.0} MiB (debug build), {} posted, {} reported back",
        payload_bytes as f64 / 1e6,
        answered.as_secs_f64(),
        peak_kib as f64 / 1024.0,
        posted.len(),
        reported.len()
    );
    assert!(answered < DEADLINE, "answered after its deadline: {answered:?}");
    assert!(peak_kib < MEMORY_KIB, "peak RSS {peak_kib} KiB:\n{}", &printed[printed.len().saturating_sub(4000)..]);
    assert_eq!(batch_item_failures(&redelivered), Vec::<String>::new(), "the redelivered records were posted");
    let first_pass = posted.len() - again.len();
    assert_eq!(first_pass + reported.len(), RECORDS, "posted + reported = every record");
    assert!(first_pass > 0, "some were posted on the first pass");
    assert!(posted.values().all(|&posts| posts == 1), "no card twice");
    let again_threads: BTreeSet<&String> = again.iter().map(|(id, _)| &thread_of_message[id.as_str()]).collect();
    let twice: Vec<&String> =
        posted.keys().filter(|t| reported_threads.contains(t) && !again_threads.contains(t)).collect();
    assert!(twice.is_empty(), "posted and reported back as well: {twice:?}");
    let figures = Figures::count(&rig, &once_each(&events), reported.len() - again.len());
    figures.print(&format!("{RECORDS}-record SQS batch, one space at 1 msg/s"), answered);
    assert_eq!((figures.sent, figures.duplicated, figures.lost), (RECORDS, 0, 0));
}
