//! `delibird reminders` and `delibird digest`: the bodies the Lambda's tick would post, printed as
//! JSON Lines that Google's schema accepts and `preview` draws — for the fixtures and for 500 open
//! events.

use delibird::chat::limits::{MAX_MESSAGE_BYTES, MAX_WIDGETS_PER_CARD};
use serde_json::{Value, json};

use crate::cli::{card_count, delibird, health_fixture_path, preview_page, run, scratch, title, write};
use crate::support::fixture;

fn fixture_files() -> Vec<std::path::PathBuf> {
    crate::query::events()
}

/// `n` open scheduled changes in 50 accounts, starting one every 20 minutes from 2026-12-01 10:00.
fn open_events(n: usize) -> Value {
    let base = fixture("health-events/awsdocs-ec2-instance-retirement-scheduled-metadata-actionability.json");
    let start = chrono::DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").unwrap();
    let events: Vec<Value> = (0..n)
        .map(|i| {
            let mut event = base.clone();
            let account = format!("{:012}", 300_000_000_000_u64 + (i % 50) as u64);
            let at = start + chrono::Duration::minutes(20 * i as i64);
            event["account"] = json!(account);
            event["detail"]["affectedAccount"] = json!(account);
            event["detail"]["eventArn"] =
                json!(format!("arn:aws:health:us-east-1::event/EC2/AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED/{i:06}"));
            event["detail"]["startTime"] = json!(at.format("%a, %d %b %Y %H:%M:%S GMT").to_string());
            event
        })
        .collect();
    Value::Array(events)
}

fn within_limits(body: &Value) {
    let bytes = body.to_string().len();
    assert!(bytes <= MAX_MESSAGE_BYTES, "{bytes} bytes");
    let widgets: usize = body["cardsV2"][0]["card"]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|section| section["widgets"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(widgets <= MAX_WIDGETS_PER_CARD, "{widgets} widgets");
}

#[test]
fn reminders_prints_the_reminders_due_in_the_window_once_each() {
    // The retirement fixture starts Thu 27 Aug 2026 13:19:03 UTC; a day before is 26 Aug 13:19:03.
    let retirement = health_fixture_path("awsdocs-ec2-instance-retirement-scheduled-metadata-actionability.json");
    let out = run(delibird().arg("reminders").arg(&retirement).args([
        "--since",
        "2026-08-26T13:00:00Z",
        "--now",
        "2026-08-26T13:30:00Z",
    ]));
    assert_eq!(out.code, 0, "{out:?}");
    let bodies = out.bodies();
    assert_eq!(bodies.len(), 1, "{}", out.stdout);
    assert_eq!(bodies[0]["cardsV2"][0]["cardId"], "aws-health-reminder");
    assert!(title(&bodies[0]).starts_with("⏰ Starts in 23 hours"), "{}", title(&bodies[0]));
    assert!(bodies[0]["thread"]["threadKey"].as_str().unwrap().starts_with("health/arn:aws:health:"));
    let text = bodies[0].to_string();
    assert!(text.contains("1 resource pending; action required"), "{text}");

    let before = run(delibird().arg("reminders").arg(&retirement).args([
        "--since",
        "2026-08-26T13:30:00Z",
        "--now",
        "2026-08-27T12:00:00Z",
    ]));
    assert_eq!((before.code, before.stdout.as_str()), (0, ""), "nothing due between 1 day and 1 hour before");
    let started = run(delibird().arg("reminders").arg(&retirement).args([
        "--since",
        "2026-08-27T13:00:00Z",
        "--now",
        "2026-08-28T00:00:00Z",
    ]));
    assert_eq!((started.code, started.stdout.as_str()), (0, ""), "none once it has started");
}

#[test]
fn reminders_and_digest_of_every_fixture_pass_googles_schema_and_the_preview() {
    let dir = scratch("schedule-fixtures");
    let reminders = run(delibird().arg("reminders").args(fixture_files()).args([
        "--since",
        "2026-08-20T00:00:00Z",
        "--now",
        "2026-08-27T13:00:00Z",
    ]));
    assert_eq!(reminders.code, 0, "{reminders:?}");
    let reminder_bodies = reminders.bodies();
    assert!(!reminder_bodies.is_empty(), "the fixtures' scheduled changes of 27 Aug 2026 are due");
    let digest = run(delibird().arg("digest").args(fixture_files()).args(["--now", "2026-08-27T09:00:00Z"]));
    assert_eq!(digest.code, 0, "{digest:?}");
    let digest_bodies = digest.bodies();
    assert_eq!(digest_bodies.len(), 1, "one space, one digest");
    within_limits(&digest_bodies[0]);
    assert!(title(&digest_bodies[0]).starts_with("📋 Daily digest: "), "{}", title(&digest_bodies[0]));

    let bodies = write(&dir, "bodies.jsonl", format!("{}{}", reminders.stdout, digest.stdout));
    let out = run(delibird().arg("preview").arg(&bodies).arg("--out").arg(&dir));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(card_count(&preview_page(&out, &dir)), reminder_bodies.len() + 1);
}

#[test]
fn reminders_and_digest_of_500_open_events_stay_within_googles_limits() {
    let dir = scratch("schedule-500");
    let events = write(&dir, "events.json", open_events(500).to_string());
    // The starts run from 1 Dec 10:00, one every 20 minutes: the 7-day moments up to 25 Nov 08:00
    // are those of the changes starting 1 Dec 10:00 to 2 Dec 08:00, both included.
    let reminders = run(delibird().arg("reminders").arg(&events).args([
        "--since",
        "2026-11-20T00:00:00Z",
        "--now",
        "2026-11-25T08:00:00Z",
    ]));
    assert_eq!(reminders.code, 0, "{reminders:?}");
    let reminder_bodies = reminders.bodies();
    assert_eq!(reminder_bodies.len(), 22 * 3 + 1, "one reminder for each of them");
    for body in &reminder_bodies {
        within_limits(body);
    }
    let digest = run(delibird().arg("digest").arg(&events).args(["--now", "2026-12-01T09:00:00Z"]));
    assert_eq!(digest.code, 0, "{digest:?}");
    let bodies = digest.bodies();
    assert_eq!(bodies.len(), 1);
    within_limits(&bodies[0]);
    let text = bodies[0].to_string();
    assert!(text.contains("Coming up in the next 7 days (500)") && text.contains("+488 more"), "{text}");
    assert!(
        text.contains("Still to do, by account (50)") && text.contains("+38 more"),
        "every account counted: {text}"
    );

    let all = write(&dir, "bodies.jsonl", format!("{}{}", reminders.stdout, digest.stdout));
    let out = run(delibird().arg("preview").arg(&all).arg("--out").arg(&dir));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(card_count(&preview_page(&out, &dir)), reminder_bodies.len() + 1);
}

/// The fixtures' digests on 27 Aug 2026 09:00 with `rules`, each body checked against the schema.
fn digest_with_rules(rules: &std::path::Path) -> Vec<Value> {
    let out = run(delibird()
        .arg("digest")
        .args(fixture_files())
        .arg("--rules")
        .arg(rules)
        .args(["--now", "2026-08-27T09:00:00Z"]));
    assert_eq!(out.code, 0, "{out:?}");
    out.bodies()
}

#[test]
fn digest_with_rules_prints_one_digest_per_space_the_rules_send_events_to() {
    let dir = scratch("schedule-rules");
    let rules = write(
        &dir,
        "rules.toml",
        r#"
default = "rest"

[webhooks]
ec2 = "env:DELIBIRD_WEBHOOK_EC2"
rest = "env:DELIBIRD_WEBHOOK_REST"

[[rule]]
name = "ec2"
where = "detail.service = 'EC2'"
webhooks = ["ec2"]
"#,
    );
    let bodies = digest_with_rules(&rules);
    let subtitles: Vec<&str> =
        bodies.iter().map(|b| b["cardsV2"][0]["card"]["header"]["subtitle"].as_str().unwrap()).collect();
    assert_eq!(subtitles.len(), 2, "{subtitles:?}");
    assert!(subtitles.iter().any(|s| s.starts_with("ec2 · ")) && subtitles.iter().any(|s| s.starts_with("rest · ")));
}

#[test]
fn digest_with_the_digest_turned_off_says_so_and_exits_2() {
    let out = run(delibird().arg("digest").args(fixture_files()).env("DELIBIRD_DIGEST_AT", ""));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("DELIBIRD_DIGEST_AT is blank"), "{}", out.stderr);
    let bad = run(delibird().arg("digest").args(fixture_files()).env("DELIBIRD_DIGEST_TZ", "Mars/Olympus"));
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("DELIBIRD_DIGEST_TZ") && bad.stderr.contains("IANA"), "{}", bad.stderr);
}

#[test]
fn digest_lists_what_a_digest_only_rule_kept_for_its_space() {
    let dir = scratch("schedule-digest-only");
    let rules = write(
        &dir,
        "rules.toml",
        r#"
default = "ops"

[webhooks]
ops = "env:DELIBIRD_WEBHOOK_OPS"
notices = "env:DELIBIRD_WEBHOOK_NOTICES"

[[rule]]
name = "account notifications, digest only"
where = "detail.eventTypeCategory = 'accountNotification'"
webhooks = ["notices"]
digest_only = true
stop = true
"#,
    );
    let bodies = digest_with_rules(&rules);
    let notices = bodies
        .iter()
        .find(|b| b["cardsV2"][0]["card"]["header"]["subtitle"].as_str().unwrap().starts_with("notices · "))
        .expect("the notices space's digest");
    let text = notices.to_string();
    // Three account notifications, two of them copies of one event in two accounts: two notices.
    assert!(text.contains("Notices for this digest only (2)"), "{text}");
    let ops = bodies.iter().find(|b| !std::ptr::eq(*b, notices)).unwrap().to_string();
    assert!(!ops.contains("Lambda operational notification"), "{ops}");
}
