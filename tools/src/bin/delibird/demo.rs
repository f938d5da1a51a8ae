//! `delibird demo`: the whole Lambda path on a laptop, with no AWS or Google account. Bundled
//! sample events go, in SNS envelopes, through the real handler (validate, enrich, render, HTTP
//! delivery with retry) into the local Google Chat emulator, which enforces Chat's one message per
//! second per space, so the retries on 429 are real too. Then one scheduled tick, as the
//! collector's schedule sends it: a reminder in the storm's thread and the space's digest.

use std::path::Path;

use chrono::{DateTime, NaiveTime, SecondsFormat, TimeDelta, Utc};
use delibird::accounts::StaticAliases;
use delibird::chat;
use delibird::deps::Deps;
use delibird::envelope::{sns_event, sqs_event};
use delibird::handler::{Response, handle};
use delibird::health::AccountId;
use delibird::schedule;
use delibird::webhook::{RetryPolicy, http_client};
use delibird_tools::chat_emulator::ChatEmulator;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};

use crate::Status;

/// The bundled samples: real and documented events (provenance in `tests/fixtures/PROVENANCE.md`).
const SAMPLES: &[(&str, &str)] = &[
    (
        "public EC2 operational issue",
        include_str!("../../../../tests/fixtures/health-events/awsdocs-public-ec2-operational-issue-af-south-1.json"),
    ),
    (
        "EC2 instance retirement",
        include_str!(
            "../../../../tests/fixtures/health-events/awsdocs-ec2-instance-retirement-scheduled-metadata-actionability.json"
        ),
    ),
    (
        "ECS task patching, 58 tasks",
        include_str!("../../../../tests/fixtures/health-events/seed-project-health107.json"),
    ),
    (
        "Korean and English notification",
        include_str!("../../../../tests/fixtures/health-events/seed-project-health104.json"),
    ),
    (
        "exposed credentials",
        include_str!("../../../../tests/fixtures/health-events/aws-health-tools-risk-credentials-exposed.json"),
    ),
    (
        "Lambda lifecycle, page 1 of 10",
        include_str!(
            "../../../../tests/fixtures/health-events/awsdocs-lambda-planned-lifecycle-multi-entities-page1-of-10.json"
        ),
    ),
];

const TOPIC: &str = "arn:aws:sns:us-east-1:999988887777:delibird-health";

pub async fn run(out: &Path) -> Status {
    match demo(out).await {
        Ok(status) => status,
        Err(error) => {
            eprintln!("delibird demo: {error}");
            Status::Unusable
        }
    }
}

async fn demo(out: &Path) -> Result<Status, Box<dyn std::error::Error>> {
    let emulator = ChatEmulator::start().await?;
    let webhook = chat::webhook(&emulator.webhook_url("DEMO"), true)?;
    println!("Local Google Chat webhook: {webhook} (one message per second per space, like Chat)");
    let aliases: StaticAliases = [
        ("111122223333", "payments-prod"),
        ("123456789012", "platform-sandbox"),
        ("222233334444", "data-lake-prod"),
        ("999988887777", "security-audit"),
        ("333344445555", "checkout-prod"),
        ("444455556666", "search-prod"),
        ("555566667777", "ml-training"),
        ("666677778888", "identity-prod"),
        ("777788889999", "analytics-dev"),
        ("888899990000", "edge-cdn"),
    ]
    .into_iter()
    .filter_map(|(id, name)| Some((AccountId::parse(id)?, name.to_owned())))
    .collect();
    let deps = Deps { aliases, ..Deps::new(http_client(RetryPolicy::default().request_timeout)?, webhook) };

    let mut status = Status::Ok;
    for (name, event) in samples()? {
        let invocation = LambdaEvent::new(sns_event([&event], TOPIC), Context::default());
        let before = emulator.requests();
        let result = handle(invocation, &deps).await;
        let attempts = emulator.requests() - before;
        let thread = emulator.received().last().map(|r| r.thread_name.clone()).unwrap_or_default();
        match result {
            Ok(Response::Summary(summary)) if summary.duplicates > 0 => {
                println!("  skipped (duplicate)     {name:<44} {attempts} request(s)")
            }
            Ok(Response::Summary(summary)) if summary.degraded > 0 => {
                println!("  posted (degraded card)  {name:<44} {attempts} request(s)  {thread}")
            }
            Ok(_) => println!("  posted                  {name:<44} {attempts} request(s)  {thread}"),
            Err(error) => {
                println!("  FAILED                  {name:<44} {error}");
                status = Status::Undelivered;
            }
        }
    }

    // A small storm: one event raised in several accounts at once is one thread, its first
    // message a roll-up naming every account; accounts that come in a later batch are one reply.
    // The retirement is due 7 days after tomorrow 09:00 UTC, when the tick below runs.
    let tick_at =
        (Utc::now() + TimeDelta::days(1)).date_naive().and_time(NaiveTime::MIN).and_utc() + TimeDelta::hours(9);
    for (index, (name, batch)) in storm(tick_at + TimeDelta::days(7))?.into_iter().enumerate() {
        let invocation = LambdaEvent::new(sqs_event(&batch, TOPIC), Context::default());
        let before = emulator.requests();
        let result = handle(invocation, &deps).await;
        let attempts = emulator.requests() - before;
        let thread = emulator.received().last().map(|r| r.thread_name.clone()).unwrap_or_default();
        match result {
            Ok(Response::Batch(batch)) if batch.batch_item_failures.is_empty() => {
                let kind = if index == 0 { "posted (roll-up)" } else { "posted (joined)" };
                println!("  {kind:<22}  {name:<44} {attempts} request(s)  {thread}")
            }
            Ok(other) => {
                println!("  FAILED                  {name:<44} {other:?}");
                status = Status::Undelivered;
            }
            Err(error) => {
                println!("  FAILED                  {name:<44} {error}");
                status = Status::Undelivered;
            }
        }
    }

    // The scheduled tick, as the collector's schedule sends it, at tomorrow 09:00 UTC: the
    // storm's retirement starts in 7 days (a reminder in its thread), and it is digest time.
    let invocation = LambdaEvent::new(
        json!({"delibird": "tick", "scheduledTime": tick_at.to_rfc3339_opts(SecondsFormat::Secs, true)}),
        Context::default(),
    );
    let before = emulator.received().len();
    match handle(invocation, &deps).await {
        Ok(Response::Tick(summary)) if summary.reminders == 1 && summary.digests == 1 => {
            let posted = emulator.received();
            for message in &posted[before..] {
                let kind = match message.body["cardsV2"][0]["cardId"].as_str() {
                    Some(schedule::REMINDER_CARD_ID) => "posted (reminder)",
                    _ => "posted (digest)",
                };
                let title = message.body["cardsV2"][0]["card"]["header"]["title"].as_str().unwrap_or_default();
                let title: String = title.chars().take(44).collect();
                println!(
                    "  {kind:<22}  {title:<44} tick {}  {}",
                    tick_at.format("%d %b %H:%M UTC"),
                    message.thread_name
                );
            }
        }
        other => {
            println!("  FAILED                  tick at {tick_at}: {other:?}");
            status = Status::Undelivered;
        }
    }

    std::fs::create_dir_all(out)?;
    let received = emulator.received();
    let mut lines = String::new();
    for (i, message) in received.iter().enumerate() {
        let pretty = serde_json::to_string_pretty(&message.body)?;
        std::fs::write(out.join(format!("{:02}.json", i + 1)), pretty + "\n")?;
        lines.push_str(&serde_json::to_string(&message.body)?);
        lines.push('\n');
    }
    std::fs::write(out.join("messages.jsonl"), lines)?;
    let bodies: Vec<(String, Value)> =
        received.iter().enumerate().map(|(i, message)| (format!("{:02}.json", i + 1), message.body.clone())).collect();
    let page = crate::preview::write(out, &bodies)?;
    println!(
        "\n{} cards accepted by the local webhook in {} thread(s), paced at one per second; {} answers were 429 (rate limit) and retried.",
        received.len(),
        received.iter().map(|r| &r.thread_name).collect::<std::collections::BTreeSet<_>>().len(),
        emulator.rate_limited()
    );
    println!("Recorded webhook bodies: {}/ (one NN.json per card, all in messages.jsonl)", out.display());
    println!("As Google Chat shows them: {} (open it in a browser)", page.display());
    Ok(status)
}

/// An EC2 instance retirement starting at `start`, raised in five accounts at once (one queue
/// batch), then in two more (a later batch).
fn storm(start: DateTime<Utc>) -> serde_json::Result<Vec<(String, Vec<Value>)>> {
    let retirement: Value = serde_json::from_str(SAMPLES[1].1)?;
    let in_account = |account: &str, n: usize| {
        let mut copy = retirement.clone();
        copy["account"] = json!(account);
        copy["detail"]["affectedAccount"] = json!(account);
        copy["detail"]["eventArn"] =
            json!("arn:aws:health:us-east-1::event/EC2/AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED/DEMO_STORM");
        copy["detail"]["startTime"] = json!(start.format("%a, %d %b %Y %H:%M:%S GMT").to_string());
        copy["detail"]["affectedEntities"] = json!([
            {"entityValue": format!("arn:aws:ec2:us-east-1:{account}:instance/i-0{n}a1b2c3d4e5f6a7b"), "status": "PENDING"},
            {"entityValue": format!("arn:aws:ec2:us-east-1:{account}:instance/i-0{n}f6e5d4c3b2a1f0e"), "status": "PENDING"}
        ]);
        copy
    };
    let first = ["333344445555", "444455556666", "555566667777", "666677778888", "777788889999"];
    let later = ["888899990000", "111122223333"];
    Ok(vec![
        (
            "EC2 retirement in 5 accounts (one batch)".to_owned(),
            first.iter().enumerate().map(|(n, account)| in_account(account, n)).collect(),
        ),
        (
            "the same retirement in 2 more accounts".to_owned(),
            later.iter().enumerate().map(|(n, account)| in_account(account, n + 5)).collect(),
        ),
    ])
}

/// The samples, plus two copies of the public issue (from another account, and from the backup
/// Region: both skipped as duplicates), its resolution (a reply in the same thread), and the
/// instance retirement again with invalid fields (a degraded card, in the retirement's thread).
fn samples() -> serde_json::Result<Vec<(String, Value)>> {
    let mut samples: Vec<(String, Value)> = SAMPLES
        .iter()
        .map(|(name, text)| Ok(((*name).to_owned(), serde_json::from_str(text)?)))
        .collect::<serde_json::Result<_>>()?;
    let mut resolved = samples[0].1.clone();
    resolved["detail"]["statusCode"] = json!("closed");
    resolved["detail"]["lastUpdatedTime"] = json!("Fri, 27 Jan 2023 10:12:00 GMT");
    resolved["detail"]["eventDescription"][0]["latestDescription"] = json!(
        "[RESOLVED] Between 06:02 and 09:01 UTC we experienced increased API error rates in af-south-1. The issue has been resolved and the service is operating normally."
    );
    let mut forwarded = samples[0].1.clone();
    forwarded["account"] = json!("111122223333");
    forwarded["detail"]["affectedAccount"] = json!("111122223333");
    let mut backup = samples[0].1.clone();
    backup["region"] = json!("us-west-2");
    backup["detail"]["backupEvent"] = json!("true");
    let mut invalid = samples[1].1.clone();
    invalid["detail"]["startTime"] = json!(1_700_000_000);
    invalid["detail"]["affectedEntities"][0]["entityValue"] = Value::Null;
    samples.insert(1, ("same public issue from another account".to_owned(), forwarded));
    samples.insert(2, ("same public issue, backup-Region copy".to_owned(), backup));
    samples.insert(3, ("public EC2 issue, resolved (same thread)".to_owned(), resolved));
    samples.push(("EC2 retirement, invalid fields (same thread)".to_owned(), invalid));
    Ok(samples)
}
