//! The `delibird` binary as a person runs it: `render`, `send` and `demo`, their output and their
//! exit codes (0 rendered, 1 some events invalid, 2 unusable input or configuration).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use delibird::envelope::sns_event;
use delibird_tools::chat_emulator::{ChatEmulator, EMULATOR_TOKEN};
use serde_json::{Value, json};

use crate::support::chat_schema::assert_accepted;
use crate::support::{fixture, fixtures_dir};

const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:delibird-health";

/// The binary, with none of the caller's `DELIBIRD_*` settings (nor `RUST_LOG`) leaking in.
pub(crate) fn delibird() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_delibird"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("DELIBIRD_") {
            command.env_remove(&name);
        }
    }
    command.env_remove("RUST_LOG").stdin(Stdio::null());
    command
}

#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// Each stdout line as a webhook body, after checking Google would accept it.
    pub(crate) fn bodies(&self) -> Vec<Value> {
        self.lines()
            .iter()
            .map(|line| {
                let body: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
                assert_accepted(&body);
                body
            })
            .collect()
    }
}

pub(crate) fn run(command: &mut Command) -> Run {
    run_with_stdin(command, None)
}

fn run_with_stdin(command: &mut Command, stdin: Option<&[u8]>) -> Run {
    if stdin.is_some() {
        command.stdin(Stdio::piped());
    }
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("delibird runs");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(bytes).unwrap();
    }
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// A fresh, empty directory for one test.
pub(crate) fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("delibird-cli").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(crate) fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

pub(crate) fn health_fixture_path(name: &str) -> PathBuf {
    fixtures_dir().join("health-events").join(name)
}

pub(crate) fn title(body: &Value) -> &str {
    body["cardsV2"][0]["card"]["header"]["title"].as_str().unwrap()
}

fn invalid_event() -> Value {
    let mut raw = fixture("health-events/awsdocs-ec2-instance-retirement-scheduled-metadata-actionability.json");
    raw["detail"]["startTime"] = json!(1_700_000_000);
    raw["detail"]["affectedEntities"][0]["entityValue"] = Value::Null;
    raw
}

// render

#[test]
fn render_prints_one_accepted_json_line_per_event_and_exits_0() {
    let dir = scratch("render-one-line-per-event");
    let events =
        [fixture("health-events/seed-project-health101.json"), fixture("health-events/seed-project-health107.json")];
    let file = write(&dir, "sns-event.json", sns_event(&events, TOPIC).to_string());
    let out = run(delibird().arg("render").arg(&file));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stderr, "");
    let bodies = out.bodies();
    assert_eq!(bodies.len(), 2);
    assert_eq!(title(&bodies[0]), "🟠 Elastic Load Balancing operational issue");
    assert_eq!(title(&bodies[1]), "🟠 ECS task patching retirement");
}

#[test]
fn render_reads_stdin_given_a_dash() {
    let bytes = std::fs::read(health_fixture_path("seed-project-health103.json")).unwrap();
    let out = run_with_stdin(delibird().args(["render", "-"]), Some(&bytes));
    assert_eq!(out.code, 0, "{out:?}");
    let bodies = out.bodies();
    assert_eq!(bodies.len(), 1);
    assert_eq!(title(&bodies[0]), "🔵 Lambda operational notification");
}

#[test]
fn render_reads_several_files_in_order() {
    let files = [
        "seed-project-health105.json",
        "aws-health-tools-putevents-entry-ebs-volume-lost.json",
        "awsdocs-account-specific-elb-api-issue.json",
    ];
    let out = run(delibird().arg("render").args(files.map(health_fixture_path)));
    assert_eq!(out.code, 0, "{out:?}");
    let titles: Vec<String> = out.bodies().iter().map(|b| title(b).to_owned()).collect();
    assert_eq!(
        titles,
        ["🟠 Multiple services operational issue", "🔴 EBS volume lost", "🟠 Elastic Load Balancing API issue"]
    );
}

#[test]
fn render_of_an_invalid_event_exits_1_still_prints_its_degraded_card_and_lists_every_error() {
    let dir = scratch("render-invalid-event");
    let file = write(&dir, "invalid-event.json", invalid_event().to_string());
    let out = run(delibird().arg("render").arg(&file));
    assert_eq!(out.code, 1, "{out:?}");
    let bodies = out.bodies();
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["cardsV2"][0]["card"]["sections"][0]["header"], "⚠ Invalid event");
    let name = file.display().to_string();
    let errors: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(
        errors,
        [
            format!("delibird: {name}: detail.startTime: expected a string, found a number"),
            format!("delibird: {name}: detail.affectedEntities[0].entityValue: required field is missing"),
        ],
        "{}",
        out.stderr
    );
}

#[test]
fn render_names_the_record_as_well_as_the_field_for_an_invalid_event_in_an_envelope() {
    let dir = scratch("render-invalid-event-in-envelope");
    let good = fixture("health-events/seed-project-health101.json");
    let file = write(&dir, "sns-event.json", sns_event([&good, &invalid_event()], TOPIC).to_string());
    let out = run(delibird().arg("render").arg(&file));
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(out.bodies().len(), 2);
    let expected = format!("delibird: {}: Records[1].Sns.Message → detail.startTime: ", file.display());
    assert!(out.stderr.lines().any(|line| line.starts_with(&expected)), "{}", out.stderr);
}

#[test]
fn render_of_input_that_is_not_json_exits_2_with_a_clear_message() {
    let dir = scratch("render-not-json");
    let file = write(&dir, "notes.txt", "Subject: AWS Health Event\n\nThe instance will be retired.\n");
    let out = run(delibird().arg("render").arg(&file));
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.stdout, "");
    let expected = format!("delibird: {}: input is not JSON: ", file.display());
    assert!(out.stderr.starts_with(&expected), "{}", out.stderr);
}

#[test]
fn render_of_a_json_file_holding_no_event_exits_2() {
    let dir = scratch("render-no-event");
    let file = write(&dir, "config.json", r#"{"hello": "world"}"#);
    let out = run(delibird().arg("render").arg(&file));
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("config.json: input holds no AWS Health event"), "{}", out.stderr);
}

#[test]
fn render_of_an_sns_envelope_whose_message_is_not_an_event_exits_2_naming_the_record() {
    let file = fixtures_dir().join("sns-envelopes/rust-aws_lambda_events-example-sns-event.json");
    let out = run(delibird().arg("render").arg(&file));
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("Records[0].Sns.Message: not JSON"), "{}", out.stderr);
}

#[test]
fn render_still_prints_the_good_files_cards_when_another_file_is_unusable() {
    let dir = scratch("render-good-and-unusable");
    let bad = write(&dir, "bad.json", "{not json");
    let good = health_fixture_path("seed-project-health101.json");
    let out = run(delibird().arg("render").arg(&bad).arg(&good));
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.bodies().len(), 1);
}

#[test]
fn render_of_a_file_that_does_not_exist_exits_2_naming_it() {
    let dir = scratch("render-missing-file");
    let missing = dir.join("missing.json");
    let out = run(delibird().arg("render").arg(&missing));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains(&format!("{}: cannot read", missing.display())), "{}", out.stderr);
}

// send

#[tokio::test]
async fn send_posts_each_event_to_the_webhook_with_one_outcome_line_each() {
    let emulator = ChatEmulator::start().await.unwrap();
    let dir = scratch("send-to-emulator");
    let open = fixture("health-events/awsdocs-public-ec2-operational-issue-af-south-1.json");
    let mut resolved = open.clone();
    resolved["detail"]["statusCode"] = json!("closed");
    let file = write(&dir, "sns-event.json", sns_event([&open, &resolved], TOPIC).to_string());

    let mut command = delibird();
    command
        .arg("send")
        .arg(&file)
        .env("DELIBIRD_WEBHOOK_URL", emulator.webhook_url("SPACE"))
        .env("DELIBIRD_ALLOW_LOOPBACK_WEBHOOK", "1")
        .env("DELIBIRD_RETRY_BASE_MS", "50")
        // The emulator, like Chat, takes one message per second per space: the second card waits
        // through 429s, with enough attempts that jitter cannot exhaust them within that second.
        .env("DELIBIRD_RETRY_CAP_MS", "400")
        .env("DELIBIRD_RETRY_MAX_ATTEMPTS", "20")
        .env("DELIBIRD_LOG", "info");
    // The child blocks this thread; the emulator keeps answering on the runtime meanwhile.
    let out = tokio::task::spawn_blocking(move || run(&mut command)).await.unwrap();

    assert_eq!(out.code, 0, "{out:?}");
    let lines = out.lines();
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    let name = file.display().to_string();
    for (i, line) in lines.iter().enumerate() {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields[..4], ["posted", &name, &format!("Records[{i}].Sns.Message"), "EC2 operational issue"]);
        assert_eq!(fields[4], "thread=spaces/SPACE/threads/t1", "both updates land in one thread: {line}");
    }
    let received = emulator.received();
    assert_eq!(received.len(), 2);
    for message in &received {
        assert_accepted(&message.body);
    }
    assert!(title(&received[1].body).starts_with("✅ Resolved"));
    assert!(!out.stdout.contains(EMULATOR_TOKEN) && !out.stderr.contains(EMULATOR_TOKEN));
    // stderr is a pipe here, as in CI or a log file: plain lines, no terminal colour codes.
    assert!(out.stderr.contains("record posted"), "{}", out.stderr);
    assert!(!out.stderr.contains('\u{1b}'), "{:?}", out.stderr);
}

#[test]
fn send_refuses_a_loopback_webhook_without_the_loopback_flag_and_never_prints_its_token() {
    let url = format!("http://127.0.0.1:9/v1/spaces/SPACE/messages?key=emulator-key&token={EMULATOR_TOKEN}");
    let file = health_fixture_path("seed-project-health101.json");
    let out = run(delibird().arg("send").arg(&file).args(["--webhook-url", &url]));
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("https://chat.googleapis.com/"), "{}", out.stderr);
    for secret in [EMULATOR_TOKEN, "emulator-key"] {
        assert!(!out.stdout.contains(secret) && !out.stderr.contains(secret), "{secret} leaked: {out:?}");
    }
}

#[test]
fn send_refuses_a_webhook_on_another_host_and_never_prints_its_token() {
    let token = "not-google-secret-token-9876543210";
    let url = format!("https://chat.example.com/v1/spaces/SPACE/messages?key=some-key&token={token}");
    let file = health_fixture_path("seed-project-health101.json");
    let out = run(delibird().arg("send").arg(&file).env("DELIBIRD_WEBHOOK_URL", &url));
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("https://chat.googleapis.com/"), "{}", out.stderr);
    assert!(!out.stdout.contains(token) && !out.stderr.contains(token), "token leaked: {out:?}");
}

// preview

/// The page `preview` wrote in `dir`, after checking it names its path on stdout.
pub(crate) fn preview_page(out: &Run, dir: &Path) -> String {
    let page = dir.join("preview.html");
    assert!(out.stdout.starts_with(&page.display().to_string()), "{out:?}");
    std::fs::read_to_string(&page).unwrap()
}

pub(crate) fn card_count(page: &str) -> usize {
    page.matches("<div class=\"card\"").count()
}

#[test]
fn preview_draws_event_files_and_body_files_on_one_page_and_exits_0() {
    let dir = scratch("preview-events-and-bodies");
    let rendered = run(delibird()
        .arg("render")
        .arg(health_fixture_path("seed-project-health105.json"))
        .arg(health_fixture_path("seed-project-health106.json")));
    let bodies = write(&dir, "messages.jsonl", &rendered.stdout);
    let event = health_fixture_path("seed-project-health107.json");
    let out = run(delibird()
        .arg("preview")
        .arg(&event)
        .arg(&bodies)
        .arg("--out")
        .arg(&dir)
        .args(["--now", "2024-07-17T12:00:00Z"]));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.ends_with("(3 messages)\n"), "{}", out.stdout);
    let page = preview_page(&out, &dir);
    assert_eq!(card_count(&page), 3);
    assert_eq!(page.matches("<section class=\"thread\">").count(), 2, "105 and 106 share one thread");
    assert!(page.contains(&format!("data-label=\"{}:2\"", bodies.display())), "bodies are labelled by line");
    assert!(page.contains("Sat, 20 Jul 2024 15:00 UTC (in 3 days)"), "--now pins relative times");
    assert!(!page.contains("data-placeholder"));
}

#[test]
fn preview_reads_stdin_given_a_dash() {
    let dir = scratch("preview-stdin");
    let bytes = std::fs::read(health_fixture_path("seed-project-health103.json")).unwrap();
    let out = run_with_stdin(delibird().args(["preview", "-", "--out"]).arg(&dir), Some(&bytes));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(card_count(&preview_page(&out, &dir)), 1);
}

#[test]
fn preview_of_an_invalid_event_exits_1_and_shows_its_degraded_card() {
    let dir = scratch("preview-invalid-event");
    let file = write(&dir, "invalid-event.json", invalid_event().to_string());
    let out = run(delibird().arg("preview").arg(&file).arg("--out").arg(&dir));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("detail.startTime: expected a string, found a number"), "{}", out.stderr);
    let page = preview_page(&out, &dir);
    assert!(page.contains("EC2 instance retirement scheduled (incomplete)"));
    assert!(page.contains("⚠ Invalid event"));
}

#[test]
fn preview_of_an_unusable_file_exits_2_and_still_draws_the_others() {
    let dir = scratch("preview-unusable");
    let bad = write(&dir, "bad.json", "{not json");
    let out = run(delibird()
        .arg("preview")
        .arg(&bad)
        .arg(health_fixture_path("seed-project-health101.json"))
        .arg("--out")
        .arg(&dir));
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(card_count(&preview_page(&out, &dir)), 1);
}

// demo

/// Takes about 15 s: the local webhook, like Chat, accepts one message per second.
#[test]
fn demo_posts_every_sample_and_records_bodies_google_chat_accepts() {
    let dir = scratch("demo");
    let out = run(delibird().arg("demo").arg("--out").arg(&dir));
    assert_eq!(out.code, 0, "{out:?}");

    let jsonl = std::fs::read_to_string(dir.join("messages.jsonl")).unwrap();
    let lines: Vec<Value> = jsonl.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert!(!lines.is_empty());
    let mut numbered: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "messages.jsonl" && name != "preview.html")
        .collect();
    numbered.sort();
    let expected: Vec<String> = (1..=lines.len()).map(|i| format!("{i:02}.json")).collect();
    assert_eq!(numbered, expected);
    for (name, line) in numbered.iter().zip(&lines) {
        let body: Value = serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap();
        assert_eq!(&body, line, "{name} and messages.jsonl disagree");
        assert_accepted(&body);
    }
    assert!(out.stdout.contains(&format!("{} cards accepted by the local webhook", lines.len())), "{}", out.stdout);
    let page = std::fs::read_to_string(dir.join("preview.html")).unwrap();
    assert_eq!(page.matches("<div class=\"card\"").count(), lines.len(), "the preview shows every card received");
    assert!(out.stdout.contains(&format!("{}", dir.join("preview.html").display())), "{}", out.stdout);

    // What the demo's lines say about threads and duplicates is what the webhook did.
    let thread_of = |label: &str| {
        let line =
            out.stdout.lines().find(|line| line.contains(label)).unwrap_or_else(|| panic!("{label}: {}", out.stdout));
        line.split_whitespace().last().filter(|t| t.starts_with("spaces/")).map(str::to_owned)
    };
    let first = thread_of("public EC2 operational issue");
    assert!(first.is_some(), "{}", out.stdout);
    assert_eq!(thread_of("public EC2 issue, resolved (same thread)"), first);
    let retirement = thread_of("EC2 instance retirement ");
    assert!(retirement.is_some() && retirement != first, "{}", out.stdout);
    assert_eq!(thread_of("EC2 retirement, invalid fields (same thread)"), retirement);
    assert_eq!(out.stdout.matches("skipped (duplicate)").count(), 2, "{}", out.stdout);
    assert_eq!(out.stdout.matches("posted (degraded card)").count(), 1, "{}", out.stdout);
    assert_eq!(out.stdout.matches("posted (roll-up)").count(), 1, "{}", out.stdout);
    assert_eq!(out.stdout.matches("posted (joined)").count(), 1, "{}", out.stdout);
    // The small storm: a roll-up naming five accounts, then one reply naming the two that came later.
    let storm = thread_of("EC2 retirement in 5 accounts (one batch)");
    assert!(storm.is_some() && storm != retirement, "{}", out.stdout);
    assert_eq!(thread_of("the same retirement in 2 more accounts"), storm);
    let rollup = lines.iter().find(|body| body["cardsV2"][0]["cardId"] == "aws-health-rollup").expect("a roll-up card");
    assert!(rollup.to_string().contains("Affected accounts (5)"), "{rollup}");
    let joined =
        lines.iter().find(|body| body["cardsV2"][0]["cardId"] == "aws-health-accounts-joined").expect("a reply");
    assert!(joined.to_string().contains("edge-cdn") && joined.to_string().contains("payments-prod"), "{joined}");
    // The tick: the storm's 7-day reminder in its thread, then the space's digest listing it.
    assert_eq!(thread_of("⏰ Starts in 7 days"), storm, "{}", out.stdout);
    let reminder = lines.iter().find(|body| body["cardsV2"][0]["cardId"] == "aws-health-reminder").expect("a reminder");
    assert!(reminder.to_string().contains("all 14 resources pending"), "{reminder}");
    assert_eq!(out.stdout.matches("posted (digest)").count(), 1, "{}", out.stdout);
    let digest = lines.iter().find(|body| body["cardsV2"][0]["cardId"] == "aws-health-digest").expect("a digest");
    assert!(digest.to_string().contains("DEMO_STORM"), "the digest lists the storm's retirement: {digest}");
}
