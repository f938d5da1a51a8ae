//! `delibird send` as the Lambda routes: `--rules` (or `DELIBIRD_RULES`) sends each event to the
//! spaces its rules name, their `env:` webhooks read from the environment, one line per record and
//! space; and what `send` says when it has nowhere to post.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use delibird_tools::chat_emulator::{ChatEmulator, EMULATOR_TOKEN};

use crate::cli::{Run, delibird, health_fixture_path, run, scratch, write};

const CRITICAL: &str = "aws-health-tools-risk-credentials-exposed.json";
const ORDINARY: &str = "seed-project-health101.json";
const NOISE: &str = "awsdocs-lambda-planned-lifecycle-multi-entities-page1-of-10.json";

/// Critical events to on-call and to the platform space, Lambda lifecycle notices dropped, the rest
/// to `default` (the environment's webhook, unless the file names another).
fn rules(default: Option<&str>) -> String {
    let default = default.map(|name| format!("default = \"{name}\"\n")).unwrap_or_default();
    format!(
        "{default}\n[webhooks]\nplatform = \"env:DELIBIRD_WEBHOOK_PLATFORM\"\noncall = \"env:DELIBIRD_WEBHOOK_ONCALL\"\n\n\
         [[rule]]\nname = \"lambda lifecycle is noise\"\n\
         where = \"detail.eventTypeCode = 'AWS_LAMBDA_PLANNED_LIFECYCLE_EVENT'\"\nwebhooks = []\nstop = true\n\n\
         [[rule]]\nname = \"critical to on-call\"\nwhere = \"delibird.severity = 'critical'\"\n\
         webhooks = [\"oncall\", \"platform\"]\n"
    )
}

async fn emulator() -> ChatEmulator {
    ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap()
}

/// `send` posting to emulators: loopback allowed, quick retries.
fn send() -> Command {
    let mut command = delibird();
    command.arg("send").env("DELIBIRD_ALLOW_LOOPBACK_WEBHOOK", "1").env("DELIBIRD_RETRY_BASE_MS", "20");
    command
}

async fn run_blocking(mut command: Command) -> Run {
    // The child blocks this thread; the emulators keep answering on the runtime meanwhile.
    tokio::task::spawn_blocking(move || run(&mut command)).await.unwrap()
}

/// Each line's kind, file name and last field (`space=…`, or the title).
fn outcomes(out: &Run) -> BTreeSet<(String, String, String)> {
    out.lines()
        .iter()
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let file = fields[1].rsplit('/').next().unwrap().to_owned();
            (fields[0].to_owned(), file, fields.last().unwrap().to_string())
        })
        .collect()
}

fn owned(lines: &[(&str, &str, &str)]) -> BTreeSet<(String, String, String)> {
    lines.iter().map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_with_rules_posts_each_event_to_the_spaces_its_rules_name_one_line_per_space() {
    let (oncall, platform) = (emulator().await, emulator().await);
    let dir = scratch("send-rules");
    let file = write(&dir, "rules.toml", rules(Some("platform")));
    let mut command = send();
    command
        .arg("--rules")
        .arg(&file)
        .args([CRITICAL, ORDINARY, NOISE].map(health_fixture_path))
        .env("DELIBIRD_WEBHOOK_ONCALL", oncall.webhook_url("ONCALL"))
        .env("DELIBIRD_WEBHOOK_PLATFORM", platform.webhook_url("PLATFORM"));

    let out = run_blocking(command).await;

    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        outcomes(&out),
        owned(&[
            ("posted", CRITICAL, "space=oncall"),
            ("posted", CRITICAL, "space=platform"),
            ("posted", ORDINARY, "space=platform"),
            ("dropped", NOISE, "Lambda planned lifecycle event"),
        ]),
        "{}",
        out.stdout
    );
    assert_eq!(oncall.received().iter().map(|m| m.space.as_str()).collect::<Vec<_>>(), ["ONCALL"]);
    assert_eq!(platform.received().len(), 2);
    assert!(!out.stdout.contains(EMULATOR_TOKEN) && !out.stderr.contains(EMULATOR_TOKEN), "{out:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_reads_delibird_rules_and_its_default_webhook_from_the_environment() {
    let (oncall, platform, default) = (emulator().await, emulator().await, emulator().await);
    let dir = scratch("send-rules-env");
    let mut command = send();
    command
        .args([CRITICAL, ORDINARY].map(health_fixture_path))
        .env("DELIBIRD_RULES", write(&dir, "rules.toml", rules(None)))
        .env("DELIBIRD_WEBHOOK_URL", default.webhook_url("DEFAULT"))
        .env("DELIBIRD_WEBHOOK_ONCALL", oncall.webhook_url("ONCALL"))
        .env("DELIBIRD_WEBHOOK_PLATFORM", platform.webhook_url("PLATFORM"));

    let out = run_blocking(command).await;

    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        outcomes(&out),
        owned(&[
            ("posted", CRITICAL, "space=oncall"),
            ("posted", CRITICAL, "space=platform"),
            ("posted", ORDINARY, "space=default"),
        ]),
        "{}",
        out.stdout
    );
    assert_eq!((oncall.received().len(), platform.received().len(), default.received().len()), (1, 1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_with_a_rules_webhook_whose_variable_is_unset_exits_2_naming_it_and_posts_nothing() {
    let platform = emulator().await;
    let dir = scratch("send-rules-unset");
    let mut command = send();
    command
        .arg("--rules")
        .arg(write(&dir, "rules.toml", rules(Some("platform"))))
        .arg(health_fixture_path(ORDINARY))
        .env("DELIBIRD_WEBHOOK_PLATFORM", platform.webhook_url("PLATFORM"));

    let out = run_blocking(command).await;

    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains("webhook \"oncall\": environment variable DELIBIRD_WEBHOOK_ONCALL is not set"),
        "{}",
        out.stderr
    );
    assert!(platform.received().is_empty(), "nothing is posted when a space cannot be reached");
}

#[test]
fn send_without_a_webhook_names_the_flags_and_variables_that_give_one_and_exits_2() {
    let out = run(delibird().arg("send").arg(health_fixture_path(ORDINARY)));

    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "delibird: send: nowhere to post: give --webhook-url URL (or set DELIBIRD_WEBHOOK_URL, or \
         DELIBIRD_WEBHOOK_SECRET), or routing rules naming the webhooks with --rules FILE (or DELIBIRD_RULES)\n"
    );
}

#[test]
fn send_to_a_chat_webhook_without_key_and_token_exits_2_naming_both() {
    let out = run(delibird()
        .arg("send")
        .arg(health_fixture_path(ORDINARY))
        .env("DELIBIRD_WEBHOOK_URL", "https://chat.googleapis.com/v1/spaces/X/messages"));

    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "delibird: invalid configuration: DELIBIRD_WEBHOOK_URL: the webhook URL has no key and token: a Google \
         Chat webhook URL looks like https://chat.googleapis.com/v1/spaces/SPACE/messages?key=KEY&token=TOKEN\n"
    );
}
