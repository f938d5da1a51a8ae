//! The `bootstrap` binary, run as Lambda runs it: against a local Runtime API over real HTTP, with
//! SNS events in and deliveries to the local Chat emulator out.

use std::time::Duration;

use delibird::envelope::sns_event;
use delibird_tools::chat_emulator::{ChatEmulator, EMULATOR_TOKEN};
use serde_json::{Value, json};

use crate::support::chat_schema::assert_accepted;
use crate::support::fixture;
use crate::support::moto::Moto;
use crate::support::runtime_api::{Bootstrap, Reply, RuntimeApi, finish, spawn_bootstrap};

const TOPIC: &str = "arn:aws:sns:us-east-1:999988887777:delibird";

fn bootstrap(api: &RuntimeApi, env: &[(&str, String)]) -> Bootstrap {
    spawn_bootstrap(api, "trace", env)
}

fn webhook_env(emulator: &ChatEmulator) -> Vec<(&'static str, String)> {
    vec![
        ("DELIBIRD_WEBHOOK_URL", emulator.webhook_url("SPACE")),
        ("DELIBIRD_ALLOW_LOOPBACK_WEBHOOK", "1".into()),
        ("DELIBIRD_ACCOUNT_ALIASES", r#"{"111122223333": "payments-prod"}"#.into()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_answers_an_sns_invocation_after_delivering_its_card() {
    let api = RuntimeApi::start().await;
    let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap();
    let child = bootstrap(&api, &webhook_env(&emulator));

    api.invoke("request-1", sns_event([&fixture("health-events/seed-project-health101.json")], TOPIC));
    let reply = api.reply("request-1", Duration::from_secs(30)).await;
    let printed = finish(child);

    assert_eq!(
        reply,
        Some(Reply::Response(
            json!({"records": 1, "posted": 1, "degraded": 0, "duplicates": 0, "folded": 0, "failed": 0})
        )),
        "{printed}"
    );
    let received = emulator.received();
    assert_eq!(received.len(), 1);
    assert_accepted(&received[0].body);
    assert!(received[0].body.to_string().contains("payments-prod (111122223333)"));
    let lines: Vec<Value> = printed.lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
    assert!(lines.iter().any(|l| l["outcome"] == "posted"), "one JSON line per record:\n{printed}");
    assert!(!printed.contains(EMULATOR_TOKEN), "token in output:\n{printed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payload_with_a_number_out_of_range_is_a_degraded_card_naming_the_field() {
    let api = RuntimeApi::start().await;
    let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap();
    let child = bootstrap(&api, &webhook_env(&emulator));
    // An EventBridge event delivered as the payload itself: the runtime's own deserializer
    // would refuse the whole invocation over this one number.
    let mut event = fixture("health-events/seed-project-health101.json");
    event["detail"]["totalPages"] = json!("OUT-OF-RANGE");
    let text = event.to_string().replace("\"OUT-OF-RANGE\"", "1e400");

    api.invoke_text("request-big", text, Duration::from_secs(30));
    let reply = api.reply("request-big", Duration::from_secs(30)).await;
    let printed = finish(child);

    let Some(Reply::Response(summary)) = reply else { panic!("expected a response, got {reply:?}\n{printed}") };
    assert_eq!((&summary["posted"], &summary["degraded"]), (&json!(1), &json!(1)), "{summary}");
    let body = emulator.received()[0].body.to_string();
    assert!(
        body.contains("detail.totalPages: expected a positive whole number, found a number out of range"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_reports_a_record_that_is_not_an_event_as_an_invocation_error() {
    let api = RuntimeApi::start().await;
    let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap();
    let child = bootstrap(&api, &webhook_env(&emulator));
    let mut envelope = sns_event([&json!({})], TOPIC);
    envelope["Records"][0]["Sns"]["Message"] = json!("not json");

    api.invoke("request-2", envelope);
    let reply = api.reply("request-2", Duration::from_secs(30)).await;
    let printed = finish(child);

    let Some(Reply::Error(error)) = reply else { panic!("expected an error reply, got {reply:?}\n{printed}") };
    assert_eq!(error["errorType"], "delibird.NotAnEvent", "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_reads_the_webhook_from_ssm_through_the_standard_aws_settings() {
    let moto = Moto::start();
    let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap();
    aws_sdk_ssm::Client::new(&moto.sdk_config())
        .put_parameter()
        .name("/delibird/webhook")
        .value(emulator.webhook_url("SPACE"))
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    let api = RuntimeApi::start().await;
    let mut env = moto.env();
    env.push(("DELIBIRD_WEBHOOK_SECRET", "ssm:/delibird/webhook".into()));
    env.push(("DELIBIRD_ALLOW_LOOPBACK_WEBHOOK", "1".into()));
    let child = bootstrap(&api, &env);

    api.invoke("request-3", sns_event([&fixture("health-events/seed-project-health104.json")], TOPIC));
    let reply = api.reply("request-3", Duration::from_secs(30)).await;
    let printed = finish(child);

    assert!(matches!(reply, Some(Reply::Response(_))), "{reply:?}\n{printed}");
    assert_eq!(emulator.received().len(), 1);
    assert!(!printed.contains(EMULATOR_TOKEN), "token in output:\n{printed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_refuses_to_start_with_bad_configuration_and_says_why() {
    let api = RuntimeApi::start().await;
    let env = [
        ("DELIBIRD_WEBHOOK_URL", format!("https://example.com/hook?token={EMULATOR_TOKEN}")),
        ("DELIBIRD_RETRY_MAX_ATTEMPTS", "zero".into()),
    ];
    let mut child = bootstrap(&api, &env);
    let (status, child) =
        tokio::task::spawn_blocking(move || (child.exited(Duration::from_secs(30)), child)).await.unwrap();
    let printed = finish(child);

    assert_eq!(status, Some(false), "it exits, failing: {printed}");
    assert!(printed.contains("DELIBIRD_WEBHOOK_URL") && printed.contains("DELIBIRD_RETRY_MAX_ATTEMPTS"), "{printed}");
    assert!(!printed.contains(EMULATOR_TOKEN), "token in output:\n{printed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_warns_at_start_about_a_misspelt_variable_and_the_one_it_means() {
    let api = RuntimeApi::start().await;
    let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap();
    let mut env = webhook_env(&emulator);
    env.push(("DELIBIRD_DEDUPE_TABLE", "delibird-dedup".into()));
    let child = bootstrap(&api, &env);

    api.invoke("request-4", sns_event([&fixture("health-events/seed-project-health101.json")], TOPIC));
    let reply = api.reply("request-4", Duration::from_secs(30)).await;
    let printed = finish(child);

    assert!(matches!(reply, Some(Reply::Response(_))), "it still starts: {reply:?}\n{printed}");
    let lines: Vec<Value> = printed.lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
    let warning = lines
        .iter()
        .find(|line| line["variable"] == "DELIBIRD_DEDUPE_TABLE")
        .unwrap_or_else(|| panic!("no warning about DELIBIRD_DEDUPE_TABLE:\n{printed}"));
    assert_eq!((&warning["level"], &warning["suggestion"]), (&json!("WARN"), &json!("DELIBIRD_DEDUP_TABLE")));
}
