//! Reminders and the digest, walked through simulated days: scheduled changes announced now,
//! then a tick every 15 minutes of simulated time (the tick's `scheduledTime` is its "now") until
//! the last has ended, with the events' own updates sent when AWS would send them. Once through
//! the handler with the memory store, once through the real `bootstrap` under the local Runtime
//! API with DynamoDB in moto's server holding what earlier invocations kept. The Chat emulator
//! receives every message; each must be one Google accepts.

use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use delibird::envelope::sns_event;
use delibird::handler::handle;
use delibird_tools::chat_emulator::{ChatEmulator, Received};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};

use crate::support::chat_schema::assert_accepted;
use crate::support::moto::Moto;
use crate::support::runtime_api::{Bootstrap, Reply, RuntimeApi, finish, spawn_bootstrap};
use crate::support::stack;

const TOPIC: &str = "arn:aws:sns:us-east-1:999988887777:delibird";
const TICK: TimeDelta = TimeDelta::minutes(15);

/// A scheduled change in account 111122223333, `pending` of `entities` instances still to do.
fn change(code: &str, id: u64, start: DateTime<Utc>, status: &str, pending: usize, updated: DateTime<Utc>) -> Value {
    let gmt = |at: DateTime<Utc>| at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let entities: Vec<Value> = (0..4)
        .map(|n| {
            json!({"entityValue": format!("i-{id:08x}{n:09x}"), "lastUpdatedTime": gmt(updated),
                   "status": if n < pending { "PENDING" } else { "RESOLVED" }})
        })
        .collect();
    json!({
        "version": "0", "id": format!("{id}-{}", updated.timestamp()), "detail-type": "AWS Health Event",
        "source": "aws.health", "account": "111122223333", "time": updated.to_rfc3339(), "region": "us-east-1",
        "resources": [],
        "detail": {
            "eventArn": arn(code, id), "service": "EC2", "eventTypeCode": code,
            "eventTypeCategory": "scheduledChange", "eventScopeCode": "ACCOUNT_SPECIFIC",
            "communicationId": format!("c-{id}"), "startTime": gmt(start), "endTime": gmt(start + TimeDelta::hours(2)),
            "lastUpdatedTime": gmt(updated), "statusCode": status, "eventRegion": "us-east-1",
            "eventDescription": [{"language": "en_US", "latestDescription": format!("{code}: your instances are scheduled for maintenance.")}],
            "affectedEntities": entities, "affectedAccount": "111122223333"
        }
    })
}

fn arn(code: &str, id: u64) -> String {
    format!("arn:aws:health:us-east-1::event/EC2/{code}/{code}_{id}")
}

/// How the walk reaches delibird.
enum Driver {
    Handler(Box<delibird::deps::Deps>),
    Bootstrap { api: RuntimeApi, child: Option<Bootstrap>, invocations: usize },
}

impl Driver {
    /// One invocation, answered: the response, or the error's body.
    async fn invoke(&mut self, payload: Value) -> Result<Value, Value> {
        match self {
            Self::Handler(deps) => match handle(LambdaEvent::new(payload, Context::default()), deps).await {
                Ok(response) => Ok(serde_json::to_value(response).unwrap()),
                Err(error) => Err(json!(error.to_string())),
            },
            Self::Bootstrap { api, invocations, .. } => {
                *invocations += 1;
                let id = format!("request-{invocations}");
                api.invoke(&id, payload);
                match api.reply(&id, Duration::from_secs(30)).await {
                    Some(Reply::Response(value)) => Ok(value),
                    Some(Reply::Error(value)) => Err(value),
                    None => Err(json!("no reply within 30 s")),
                }
            }
        }
    }

    fn printed(&mut self) -> String {
        match self {
            Self::Handler(_) => String::new(),
            Self::Bootstrap { child, .. } => child.take().map(finish).unwrap_or_default(),
        }
    }
}

fn tick(at: DateTime<Utc>) -> Value {
    json!({"delibird": "tick", "scheduledTime": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)})
}

fn card_id(message: &Received) -> String {
    message.body["cardsV2"][0]["cardId"].as_str().unwrap_or_default().to_owned()
}

fn thread_key(message: &Received) -> String {
    message.body["thread"]["threadKey"].as_str().unwrap_or_default().to_owned()
}

/// The walk: three changes announced now, ticks every 15 minutes until a day after the last ends.
/// - A starts in 7 days 2 hours, 3 of 4 instances pending all along, closes when it ends:
///   reminders at 7 days, 1 day and 1 hour before it, each once, in its thread.
/// - B starts in 7 days 6 hours; a day in, every instance is done: its 7-day reminder only.
/// - C starts in 7 days 4 hours; three days in, AWS closes it (cancelled): its 7-day reminder only.
///
/// Every day's digest until A ends lists A.
async fn walk(driver: &mut Driver, emulator: &ChatEmulator) {
    let t0 = Utc::now().duration_trunc(TICK).unwrap();
    let (a, b, c) = (
        "AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED",
        "AWS_EC2_SYSTEM_MAINTENANCE_EVENT",
        "AWS_EC2_INSTANCE_REBOOT_MAINTENANCE_SCHEDULED",
    );
    let day = TimeDelta::days(1);
    let (start_a, start_b, start_c) = (
        t0 + TimeDelta::days(7) + TimeDelta::hours(2),
        t0 + TimeDelta::days(7) + TimeDelta::hours(6),
        t0 + TimeDelta::days(7) + TimeDelta::hours(4),
    );
    let announced = t0 - TimeDelta::minutes(5);
    let events = [
        change(a, 1, start_a, "upcoming", 3, announced),
        change(b, 2, start_b, "upcoming", 2, announced),
        change(c, 3, start_c, "upcoming", 4, announced),
    ];
    let answer = driver.invoke(sns_event(&events, TOPIC)).await;
    assert_eq!(answer.as_ref().ok().map(|a| a["posted"].clone()), Some(json!(3)), "{answer:?}\n{}", driver.printed());
    let announcements = emulator.received();
    assert_eq!(announcements.len(), 3);
    let thread_of = |code: &str| -> String {
        announcements.iter().find(|m| thread_key(m).contains(code)).map(|m| m.thread_name.clone()).unwrap()
    };

    let end_a = start_a + TimeDelta::hours(2);
    let mut updates = vec![
        (t0 + day, change(b, 2, start_b, "upcoming", 0, t0 + day)),
        (t0 + day * 3, change(c, 3, start_c, "closed", 4, t0 + day * 3)),
        (end_a, change(a, 1, start_a, "closed", 0, end_a)),
    ];
    // What each tick posted: (tick, message).
    let mut posted: Vec<(DateTime<Utc>, Received)> = Vec::new();
    let mut ticks = 0;
    let mut now = t0 + TICK;
    while now <= end_a + day {
        while let Some(at) = updates.first().map(|(at, _)| *at)
            && at <= now
        {
            let (_, update) = updates.remove(0);
            let before = emulator.received().len();
            let answer = driver.invoke(sns_event([&update], TOPIC)).await;
            assert_eq!(
                answer.as_ref().ok().map(|a| a["posted"].clone()),
                Some(json!(1)),
                "{answer:?}\n{}",
                driver.printed()
            );
            assert_eq!(emulator.received().len(), before + 1);
        }
        let before = emulator.received().len();
        let answer = driver.invoke(tick(now)).await;
        assert!(answer.as_ref().is_ok_and(|a| a["failed"] == 0), "tick {now}: {answer:?}\n{}", driver.printed());
        let answer = answer.unwrap();
        let received = emulator.received();
        assert_eq!(
            answer["reminders"].as_u64().unwrap() + answer["digests"].as_u64().unwrap(),
            (received.len() - before) as u64,
            "tick {now}: what it says it posted is what the space received"
        );
        posted.extend(received.into_iter().skip(before).map(|message| (now, message)));
        ticks += 1;
        now += TICK;
    }
    assert!(ticks > 8 * 96 - 10, "{ticks} ticks walk eight days");

    for (_, message) in &posted {
        assert_accepted(&message.body);
    }
    let reminders: Vec<&(DateTime<Utc>, Received)> =
        posted.iter().filter(|(_, m)| card_id(m) == "aws-health-reminder").collect();
    let of = |code: &str| -> Vec<DateTime<Utc>> {
        reminders.iter().filter(|(_, m)| thread_key(m).contains(code)).map(|(at, _)| *at).collect()
    };
    let hour = TimeDelta::hours(1);
    assert_eq!(
        of(a),
        vec![start_a - day * 7, start_a - day, start_a - hour],
        "A: at 7 days, 1 day and 1 hour, once each"
    );
    assert_eq!(of(b), vec![start_b - day * 7], "B: nothing pending after its first day");
    assert_eq!(of(c), vec![start_c - day * 7], "C: closed three days in");
    for code in [a, b, c] {
        for (_, message) in reminders.iter().filter(|(_, m)| thread_key(m).contains(code)) {
            assert_eq!(message.thread_name, thread_of(code), "a reminder is a reply in its event's thread");
        }
    }
    let first_a = reminders.iter().find(|(_, m)| thread_key(m).contains(a)).unwrap();
    let text = first_a.1.body.to_string();
    assert!(text.contains("Starts in 7 days") && text.contains("3 of 4 resources still pending"), "{text}");

    let digests: Vec<&(DateTime<Utc>, Received)> =
        posted.iter().filter(|(_, m)| card_id(m) == "aws-health-digest").collect();
    let mut days: Vec<String> = digests.iter().map(|(_, m)| thread_key(m)).collect();
    let count = days.len();
    days.dedup();
    assert_eq!(days.len(), count, "one digest a day: {days:?}");
    let first_nine = {
        let nine = t0.date_naive().and_hms_opt(9, 0, 0).unwrap().and_utc();
        if t0 + TICK - nine > TimeDelta::hours(6) { nine + day } else { nine }
    };
    let mut expected = Vec::new();
    let mut at = first_nine;
    while at <= end_a + day {
        expected.push(at.format("digest/%Y-%m-%d").to_string());
        at += day;
    }
    assert_eq!(days, expected, "a digest each day at 09:00 UTC (or the first tick after)");
    for (at, message) in &digests {
        if *at <= end_a {
            assert!(message.body.to_string().contains(&format!("{a}_1")), "the digest of {at} lists A until it ends");
        }
        assert!(*at - at.duration_trunc(day).unwrap() - TimeDelta::hours(9) < TICK || *at == t0 + TICK);
    }
    let last = digests.last().unwrap();
    assert!(last.1.body.to_string().contains("Resolved in the last 24 hours"), "A ended the day before");
    assert_eq!(posted.len(), reminders.len() + digests.len(), "ticks post only reminders and digests");
    assert_eq!(emulator.repeats(), 0, "no request posted twice");
}

#[tokio::test]
async fn scheduled_changes_get_reminders_and_daily_digests_through_the_handler() {
    let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap();
    let deps = stack::to(&emulator.webhook_url("SPACE")).paced(Duration::ZERO).build();
    let mut driver = Driver::Handler(Box::new(deps));
    walk(&mut driver, &emulator).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_changes_get_reminders_and_daily_digests_through_bootstrap_and_dynamodb() {
    // About 800 invocations in 10 s load both cores: not beside a test that measures rates.
    let _alone = crate::support::TIMING.lock().await;
    let moto = Moto::start();
    moto.create_dedup_table("delibird-dedup").await;
    let api = RuntimeApi::start().await;
    let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap();
    let mut env = moto.env();
    env.extend([
        ("DELIBIRD_WEBHOOK_URL", emulator.webhook_url("SPACE")),
        ("DELIBIRD_ALLOW_LOOPBACK_WEBHOOK", "1".into()),
        ("DELIBIRD_DEDUP_TABLE", "delibird-dedup".into()),
        ("DELIBIRD_WEBHOOK_INTERVAL_MS", "0".into()),
    ]);
    let child = spawn_bootstrap(&api, "info", &env);
    let mut driver = Driver::Bootstrap { api, child: Some(child), invocations: 0 };
    walk(&mut driver, &emulator).await;
    let printed = driver.printed();
    assert!(printed.contains("\"tick done\"") || printed.contains("tick done"), "{printed}");
}

#[tokio::test]
async fn an_event_a_digest_only_rule_matches_posts_no_card_and_is_in_the_next_digest() {
    use std::collections::BTreeMap;

    use delibird::chat::GoogleChat;
    use delibird::rules::{Context as RulesContext, RuleSet};
    use delibird::spaces::{self, Sources, Spaces};

    let (quiet, loud) = (
        ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap(),
        ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap(),
    );
    let text = r#"
default = "loud"

[webhooks]
quiet = "env:HOOK_QUIET"
loud = "env:HOOK_LOUD"

[[rule]]
name = "account notifications: the quiet space's digest only"
where = "detail.eventTypeCategory = 'accountNotification'"
webhooks = ["quiet"]
digest_only = true
stop = true
"#;
    let rules = RuleSet::parse(text, &RulesContext::default()).unwrap();
    let env: BTreeMap<String, String> =
        [("HOOK_QUIET".to_owned(), quiet.webhook_url("QUIET")), ("HOOK_LOUD".to_owned(), loud.webhook_url("LOUD"))]
            .into();
    let lookup = |name: &str| env.get(name).cloned();
    let sources = Sources { env: &lookup, sdk: None, allow_loopback: true };
    let urls = spaces::resolve_all(&rules, None, &GoogleChat, sources).await.unwrap();
    let deps = stack::routed(Spaces::routed(rules, &urls, Duration::ZERO).unwrap()).build();

    let notice = crate::support::fixture("health-events/seed-project-health103.json");
    let issue = crate::support::fixture("health-events/seed-project-health101.json");
    let answer =
        handle(LambdaEvent::new(sns_event([&notice, &issue], TOPIC), Context::default()), &deps).await.unwrap();
    let answer = serde_json::to_value(answer).unwrap();
    assert_eq!((answer["posted"].clone(), answer["kept_for_digest"].clone()), (json!(1), json!(1)), "{answer}");
    assert_eq!(quiet.received().len(), 0, "the notice is not posted");
    assert_eq!(loud.received().len(), 1, "the issue is");
    // Sent again: still nothing, and not kept twice.
    let again = handle(LambdaEvent::new(sns_event([&notice], TOPIC), Context::default()), &deps).await.unwrap();
    assert_eq!(serde_json::to_value(again).unwrap()["duplicates"], 1);

    let nine = (Utc::now() + TimeDelta::days(1)).date_naive().and_hms_opt(9, 0, 0).unwrap().and_utc();
    let ticked = handle(LambdaEvent::new(tick(nine), Context::default()), &deps).await.unwrap();
    assert_eq!(serde_json::to_value(ticked).unwrap()["digests"], 2, "one digest in each space");
    let digest = &quiet.received()[0];
    assert_eq!(card_id(digest), "aws-health-digest");
    let text = digest.body.to_string();
    assert!(
        text.contains("Notices for this digest only (1)") && text.contains("Lambda operational notification"),
        "{text}"
    );
    let other = loud.received().last().unwrap().body.to_string();
    assert!(!other.contains("Lambda operational notification"), "the notice is in its own space's digest only");
}
