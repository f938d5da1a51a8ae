//! Routing rules end to end: through the handler into one local Chat emulator per space, and
//! through the `bootstrap` binary with rules and webhooks from a file, the environment and SSM.

use std::collections::BTreeMap;
use std::time::Duration;

use delibird::chat::{self, GoogleChat};
use delibird::deps::Deps;
use delibird::envelope::sns_event;
use delibird::handler::{HandlerError, Invocation, Outcome, Posting, Response, Summary, handle, run};
use delibird::kept::WebhookUrl;
use delibird::rules::{Context, DEFAULT_WEBHOOK, RuleSet};
use delibird::spaces::{self, Sources, Space, Spaces, WebhookError};
use delibird_tools::chat_emulator::{ChatEmulator, EMULATOR_TOKEN};
use lambda_runtime::{Context as LambdaContext, Diagnostic, LambdaEvent};
use serde_json::{Value, json};

use crate::support::chat_schema::assert_accepted;
use crate::support::moto::Moto;
use crate::support::runtime_api::{Bootstrap, Reply, RuntimeApi, finish, spawn_bootstrap};
use crate::support::{fixture, logs, stack};

const TOPIC: &str = "arn:aws:sns:us-east-1:999988887777:delibird";

/// Three teams' spaces, a noisy event type dropped, critical events to on-call, production
/// accounts to payments, the rest to the platform team.
const RULES: &str = r#"
default = "platform"

[webhooks]
platform = "env:HOOK_PLATFORM"
payments = "env:HOOK_PAYMENTS"
oncall = "env:HOOK_ONCALL"

[[rule]]
name = "lambda lifecycle is noise"
where = "detail.eventTypeCode = 'AWS_LAMBDA_PLANNED_LIFECYCLE_EVENT'"
webhooks = []
stop = true

[[rule]]
name = "critical to on-call"
where = "delibird.severity = 'critical'"
webhooks = ["oncall"]

[[rule]]
name = "production accounts"
where = "delibird.account.name LIKE '%-prod'"
webhooks = ["payments"]
"#;

/// One emulator per space, so each space's cards are counted on their own.
struct Emulators {
    platform: ChatEmulator,
    payments: ChatEmulator,
    oncall: ChatEmulator,
}

impl Emulators {
    async fn start() -> Self {
        let start = || ChatEmulator::with_min_interval(Duration::ZERO);
        Self { platform: start().await.unwrap(), payments: start().await.unwrap(), oncall: start().await.unwrap() }
    }

    /// The environment the rules' `env:` webhooks are read from.
    fn env(&self) -> BTreeMap<String, String> {
        [("HOOK_PLATFORM", &self.platform), ("HOOK_PAYMENTS", &self.payments), ("HOOK_ONCALL", &self.oncall)]
            .into_iter()
            .map(|(name, emulator)| (name.to_owned(), emulator.webhook_url(name)))
            .collect()
    }

    fn counts(&self) -> [usize; 3] {
        [self.platform.received().len(), self.payments.received().len(), self.oncall.received().len()]
    }
}

/// Rules compiled and their webhooks resolved through an injected environment, unpaced.
async fn router(rules: &str, env: &BTreeMap<String, String>, default: Option<&WebhookUrl>) -> Spaces {
    let rules = RuleSet::parse(rules, &Context { default_webhook: default.is_some(), account_tags: None }).unwrap();
    let env = |name: &str| env.get(name).cloned();
    let sources = Sources { env: &env, sdk: None, allow_loopback: true };
    let urls = spaces::resolve_all(&rules, default, &GoogleChat, sources).await.unwrap();
    Spaces::routed(rules, &urls, Duration::ZERO).unwrap()
}

/// A Deps with routing and no default webhook, as `Deps::start` builds it for rules.
fn deps(spaces: Spaces) -> Deps {
    stack::routed(spaces)
        .attempts(2)
        .aliases(&[("111122223333", "payments-prod"), ("222233334444", "data-dev")])
        .build()
}

fn invocation(payload: Value) -> LambdaEvent<Value> {
    LambdaEvent::new(payload, LambdaContext::default())
}

/// Exposed credentials in the production account: critical, and production.
fn critical_in_production() -> Value {
    let mut event = fixture("health-events/aws-health-tools-risk-credentials-exposed.json");
    event["account"] = json!("111122223333");
    event["detail"]["affectedAccount"] = json!("111122223333");
    event
}

/// A degraded instance store in the production account: high, production.
fn production_issue() -> Value {
    fixture("health-events/seed-project-health102.json")
}

/// A public outage reported through a development account: no rule matches it.
fn other_issue() -> Value {
    fixture("health-events/seed-project-health105.json")
}

/// The noisy event type the first rule drops.
fn noise() -> Value {
    fixture("health-events/awsdocs-lambda-planned-lifecycle-multi-entities-page1-of-10.json")
}

/// The `fields` of every captured log line that has an `outcome`.
fn record_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .map(|line| line["fields"].clone())
        .filter(|fields| fields.get("outcome").is_some())
        .collect()
}

fn line_for<'a>(lines: &'a [Value], event_type: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["event_type"] == event_type)
        .unwrap_or_else(|| panic!("no line for {event_type}: {lines:?}"))
}

#[tokio::test]
async fn each_event_goes_to_every_space_its_rules_name_once_with_a_log_line_each() {
    let (captured, _guard) = logs::capture();
    let spaces = Emulators::start().await;
    let deps = deps(router(RULES, &spaces.env(), None).await);
    let events = [critical_in_production(), production_issue(), other_issue(), noise()];

    let response = handle(invocation(sns_event(&events, TOPIC)), &deps).await.unwrap();

    // Four cards: the critical event in two spaces, the other two in one each; the noise nowhere.
    assert_eq!(response, Response::Summary(Summary { records: 4, posted: 4, dropped: 1, ..Summary::default() }));
    assert_eq!(spaces.counts(), [1, 2, 1], "platform, payments, on-call");
    let oncall = &spaces.oncall.received()[0].body;
    assert!(oncall.to_string().contains("CREDENTIALS"), "{oncall}");
    for emulator in [&spaces.platform, &spaces.payments, &spaces.oncall] {
        for message in emulator.received() {
            assert_accepted(&message.body);
        }
    }
    let payments: Vec<String> = spaces
        .payments
        .received()
        .iter()
        .map(|r| r.body["cardsV2"][0]["card"]["header"]["title"].to_string())
        .collect();
    assert!(
        payments.iter().any(|t| t.contains("credentials")) && payments.iter().any(|t| t.contains("degraded")),
        "{payments:?}"
    );

    let text = captured.text();
    let lines = record_lines(&text);
    assert_eq!(lines.len(), 4, "one line per record:\n{text}");
    let critical = line_for(&lines, "AWS_RISK_CREDENTIALS_EXPOSED");
    assert_eq!(critical["outcome"], "posted");
    assert_eq!(critical["rules"], "critical to on-call,production accounts");
    assert_eq!(critical["webhooks"], "oncall,payments");
    assert_eq!(critical["posted"], "oncall,payments");
    let unmatched = line_for(&lines, "AWS_MULTIPLE_SERVICES_OPERATIONAL_ISSUE");
    assert_eq!((&unmatched["unmatched"], &unmatched["webhooks"]), (&json!(true), &json!("platform")));
    let dropped = line_for(&lines, "AWS_LAMBDA_PLANNED_LIFECYCLE_EVENT");
    assert_eq!((&dropped["outcome"], &dropped["rules"]), (&json!("dropped"), &json!("lambda lifecycle is noise")));
    assert!(!text.contains(EMULATOR_TOKEN), "a webhook token in the logs:\n{text}");
    let records = Value::Array(lines).to_string();
    assert!(
        !records.contains("127.0.0.1") && !records.contains("/v1/spaces/"),
        "a webhook URL in a record's line: {records}"
    );
}

#[tokio::test]
async fn a_rule_mentions_everyone_on_a_threads_first_message_in_its_own_space_only() {
    let rules = RULES.replace(
        "name = \"critical to on-call\"\nwhere = \"delibird.severity = 'critical'\"\nwebhooks = [\"oncall\"]",
        "name = \"critical to on-call\"\nwhere = \"delibird.severity = 'critical'\"\nwebhooks = [\"oncall\"]\n\
         mention = [\"all\", \"users/123456789012345678901\"]",
    );
    assert_ne!(rules, RULES, "the rule gained its mention");
    let spaces = Emulators::start().await;
    let deps = deps(router(&rules, &spaces.env(), None).await);
    let first = critical_in_production();
    let mut update = first.clone();
    // Its resolution: the card is `info`, but it goes where the critical event went.
    update["detail"]["statusCode"] = json!("closed");
    update["detail"]["lastUpdatedTime"] = json!("Thu, 01 Feb 2024 12:00:00 GMT");

    handle(invocation(sns_event(std::slice::from_ref(&first), TOPIC)), &deps).await.unwrap();
    handle(invocation(sns_event(&[update], TOPIC)), &deps).await.unwrap();

    let oncall = spaces.oncall.received();
    assert_eq!(oncall.len(), 2, "the card and its resolution");
    assert!(oncall[1].body.to_string().contains("Resolved"), "{}", oncall[1].body);
    assert_eq!(oncall[0].body["text"], "<users/all> <users/123456789012345678901>", "{}", oncall[0].body);
    assert_eq!(oncall[1].body.get("text"), None, "a reply in the thread calls on no one: {}", oncall[1].body);
    assert_eq!(oncall[0].body["thread"], oncall[1].body["thread"]);
    // The same event in the payments space, where no rule asks for a mention.
    let payments = spaces.payments.received();
    assert!(!payments.is_empty() && payments.iter().all(|message| message.body.get("text").is_none()));
    for message in oncall.iter().chain(&payments) {
        assert_accepted(&message.body);
    }
}

#[tokio::test]
async fn a_retry_posts_only_in_the_space_whose_delivery_failed() {
    let spaces = Emulators::start().await;
    let deps = deps(router(RULES, &spaces.env(), None).await);
    let envelope = sns_event([&critical_in_production()], TOPIC);
    spaces.payments.set_outage(Some(503));

    let error = handle(invocation(envelope.clone()), &deps).await.unwrap_err();

    assert!(matches!(error, HandlerError::Records { records: 1, failed: 1, undelivered: 1, .. }), "{error:?}");
    assert_eq!(Diagnostic::from(error).error_type, "delibird.DeliveryFailed");
    assert_eq!(spaces.counts(), [0, 0, 1], "on-call got its card; payments did not");

    spaces.payments.set_outage(None);
    let retried = handle(invocation(envelope), &deps).await.unwrap();

    assert_eq!(retried, Response::Summary(Summary { records: 1, posted: 1, duplicates: 1, ..Summary::default() }));
    assert_eq!(spaces.counts(), [0, 1, 1], "the retry posted in payments only");
}

#[tokio::test]
async fn an_sqs_message_is_redelivered_when_any_of_its_spaces_failed() {
    let spaces = Emulators::start().await;
    let deps = deps(router(RULES, &spaces.env(), None).await);
    let sqs = |events: &[Value]| {
        let records: Vec<Value> = events
            .iter()
            .enumerate()
            .map(|(i, event)| {
                json!({"messageId": format!("m{i}"), "receiptHandle": "r", "body": event.to_string(), "attributes": {},
                       "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                       "eventSourceARN": "arn:aws:sqs:us-east-1:999988887777:health", "awsRegion": "us-east-1"})
            })
            .collect();
        json!({"Records": records})
    };
    spaces.oncall.set_outage(Some(500));

    let response = handle(invocation(sqs(&[critical_in_production(), other_issue()])), &deps).await.unwrap();

    let Response::Batch(batch) = response else { panic!("expected a batch response, got {response:?}") };
    let failed: Vec<&str> = batch.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(failed, ["m0"], "only the message with an undelivered card is redelivered");
    assert_eq!(spaces.counts(), [1, 1, 0]);
}

#[tokio::test]
async fn unmatched_events_are_dropped_when_the_rules_say_so_and_logged() {
    let (captured, _guard) = logs::capture();
    let spaces = Emulators::start().await;
    let rules = r#"
drop_unmatched = true

[webhooks]
oncall = "env:HOOK_ONCALL"

[[rule]]
name = "critical to on-call"
where = "delibird.severity = 'critical'"
webhooks = ["oncall"]
"#;
    let deps = deps(router(rules, &spaces.env(), None).await);

    let response =
        handle(invocation(sns_event([&other_issue(), &critical_in_production()], TOPIC)), &deps).await.unwrap();

    assert_eq!(response, Response::Summary(Summary { records: 2, posted: 1, dropped: 1, ..Summary::default() }));
    assert_eq!(spaces.counts(), [0, 0, 1]);
    let text = captured.text();
    let dropped = line_for(&record_lines(&text), "AWS_MULTIPLE_SERVICES_OPERATIONAL_ISSUE").clone();
    assert_eq!(dropped["outcome"], "dropped");
    assert_eq!(dropped["unmatched"], true);
    assert_eq!(dropped["message"], "record dropped");
}

#[tokio::test]
async fn the_environment_webhook_takes_the_unmatched_and_keeps_the_dedup_ids_it_had_without_rules() {
    let spaces = Emulators::start().await;
    let default = chat::webhook(&spaces.platform.webhook_url("DEFAULT"), true).unwrap();
    let rules = r#"
[webhooks]
oncall = "env:HOOK_ONCALL"

[[rule]]
name = "critical to on-call"
where = "delibird.severity = 'critical'"
webhooks = ["oncall"]
"#;
    // First without rules, as today: every card to the one webhook.
    let mut deps = deps(Spaces::one(Space::new(DEFAULT_WEBHOOK, default.clone(), Duration::ZERO)));
    handle(invocation(sns_event([&other_issue()], TOPIC)), &deps).await.unwrap();
    assert_eq!(spaces.counts(), [1, 0, 0]);

    // Then with rules: the same update is a duplicate in the default space; a critical one goes to on-call.
    deps.spaces = router(rules, &spaces.env(), Some(&default)).await;
    let events = [other_issue(), critical_in_production()];
    let response = handle(invocation(sns_event(&events, TOPIC)), &deps).await.unwrap();

    assert_eq!(response, Response::Summary(Summary { records: 2, posted: 1, duplicates: 1, ..Summary::default() }));
    assert_eq!(spaces.counts(), [1, 0, 1]);
    assert_eq!(spaces.platform.received()[0].space, "DEFAULT");
}

#[tokio::test]
async fn two_names_for_one_space_post_one_card_there() {
    let spaces = Emulators::start().await;
    let mut env = spaces.env();
    env.insert("HOOK_SECURITY".into(), env["HOOK_ONCALL"].clone());
    let rules = r#"
drop_unmatched = true

[webhooks]
oncall = "env:HOOK_ONCALL"
security = "env:HOOK_SECURITY"

[[rule]]
name = "critical"
where = "delibird.severity = 'critical'"
webhooks = ["security"]

[[rule]]
name = "risk"
where = "detail.service IN ('RISK', 'ABUSE')"
webhooks = ["oncall"]
"#;
    let deps = deps(router(rules, &env, None).await);
    let records = delibird::envelope::parse_value(&sns_event([&critical_in_production()], TOPIC)).unwrap();

    let invocation = Invocation::of(&LambdaContext::default(), deps.retry.deadline_margin);
    let outcome = run(&records, &deps, &invocation).await.0.remove(0);

    let Outcome::Sent { rules, sent, .. } = outcome else { panic!("expected a routed outcome, got {outcome:?}") };
    assert_eq!(rules.unwrap(), ["critical", "risk"]);
    assert_eq!(sent.len(), 1);
    assert!(matches!(sent[0].posting, Posting::Posted(_)), "{sent:?}");
    assert_eq!(spaces.counts(), [0, 0, 1]);
}

#[tokio::test]
async fn routing_on_account_names_looks_the_account_up_first() {
    let spaces = Emulators::start().await;
    let rules = r#"
[webhooks]
payments = "env:HOOK_PAYMENTS"
platform = "env:HOOK_PLATFORM"

[[rule]]
name = "production"
where = "delibird.account.name LIKE '%-prod'"
webhooks = ["payments"]
stop = true

[[rule]]
name = "everything else"
where = "TRUE"
webhooks = ["platform"]
"#;
    let deps = deps(router(&format!("drop_unmatched = true\n{rules}"), &spaces.env(), None).await);
    assert!(deps.spaces.reads_accounts());

    handle(invocation(sns_event([&production_issue(), &other_issue()], TOPIC)), &deps).await.unwrap();

    assert_eq!(spaces.counts(), [1, 1, 0]);
    let body = spaces.payments.received()[0].body.to_string();
    assert!(body.contains("payments-prod (111122223333)"), "{body}");
}

#[tokio::test]
async fn webhooks_resolve_from_the_environment_ssm_and_secrets_manager_and_errors_never_show_a_url() {
    let moto = Moto::start();
    let sdk = moto.sdk_config();
    let secret_url = "https://chat.googleapis.com/v1/spaces/PAY/messages?key=K&token=SECRET-TOKEN-42";
    aws_sdk_ssm::Client::new(&sdk)
        .put_parameter()
        .name("/delibird/webhooks/oncall")
        .value("https://chat.googleapis.com/v1/spaces/ONCALL/messages?key=K&token=SECRET-TOKEN-43")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    let arn = aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name("delibird-payments")
        .secret_string(format!(r#"{{"url": "{secret_url}"}}"#))
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let text = format!(
        r#"drop_unmatched = true
[webhooks]
oncall = "ssm:/delibird/webhooks/oncall"
payments = "{arn}"
platform = "env:HOOK_PLATFORM"
"#
    );
    let rules = RuleSet::parse(&text, &Context::default()).unwrap();
    let env = |name: &str| {
        (name == "HOOK_PLATFORM")
            .then(|| "https://chat.googleapis.com/v1/spaces/PLAT/messages?key=K&token=T".to_owned())
    };

    let sources = Sources { env: &env, sdk: Some(&sdk), allow_loopback: false };
    let urls = spaces::resolve_all(&rules, None, &GoogleChat, sources).await.unwrap();

    let shown: BTreeMap<&str, String> = urls.iter().map(|(name, url)| (name.as_str(), url.redacted())).collect();
    assert_eq!(shown["oncall"], "https://chat.googleapis.com/v1/spaces/ONCALL/messages?<redacted>");
    assert_eq!(shown["payments"], "https://chat.googleapis.com/v1/spaces/PAY/messages?<redacted>");
    assert_eq!(shown["platform"], "https://chat.googleapis.com/v1/spaces/PLAT/messages?<redacted>");

    // What goes wrong is named, never quoted.
    let text = r#"drop_unmatched = true
[webhooks]
missing = "env:HOOK_MISSING"
elsewhere = "env:HOOK_ELSEWHERE"
gone = "ssm:/delibird/webhooks/gone"
"#;
    let rules = RuleSet::parse(text, &Context::default()).unwrap();
    let env =
        |name: &str| (name == "HOOK_ELSEWHERE").then(|| "https://evil.example/hook?token=SECRET-TOKEN-44".to_owned());
    let sources = Sources { env: &env, sdk: Some(&sdk), allow_loopback: false };
    let errors = spaces::resolve_all(&rules, None, &GoogleChat, sources).await.unwrap_err();

    let webhooks: Vec<&str> = errors.0.iter().map(|WebhookError { webhook, .. }| webhook.as_str()).collect();
    assert_eq!(webhooks, ["elsewhere", "gone", "missing"]);
    let shown = errors.to_string();
    assert!(shown.contains("environment variable HOOK_MISSING is not set"), "{shown}");
    assert!(shown.contains("HOOK_ELSEWHERE: the webhook must be https://chat.googleapis.com/"), "{shown}");
    assert!(shown.contains("/delibird/webhooks/gone"), "{shown}");
    assert!(!shown.contains("SECRET-TOKEN") && !shown.contains("evil.example"), "{shown}");
}

/// The `bootstrap` binary against a local Runtime API, with exactly `env` (and PATH).
fn bootstrap(api: &RuntimeApi, env: &[(&str, String)]) -> Bootstrap {
    spawn_bootstrap(api, "info", env)
}

/// Waits (off the runtime) for the process to exit by itself, then returns its success and output.
async fn exited(mut child: Bootstrap) -> (bool, String) {
    let (status, child) =
        tokio::task::spawn_blocking(move || (child.exited(Duration::from_secs(30)), child)).await.unwrap();
    let printed = finish(child);
    (status.unwrap_or_else(|| panic!("still running after 30 s:\n{printed}")), printed)
}

fn rules_file(test: &str, text: &str) -> String {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("delibird-routing");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{test}.toml"));
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_routes_with_rules_from_a_file_and_webhooks_from_its_environment() {
    let spaces = Emulators::start().await;
    let api = RuntimeApi::start().await;
    let mut env: Vec<(&str, String)> = vec![
        ("DELIBIRD_RULES", rules_file("bootstrap-file", RULES)),
        ("DELIBIRD_ALLOW_LOOPBACK_WEBHOOK", "1".into()),
        ("DELIBIRD_WEBHOOK_INTERVAL_MS", "0".into()),
        ("DELIBIRD_ACCOUNT_ALIASES", r#"{"111122223333": "payments-prod"}"#.into()),
    ];
    let hooks = spaces.env();
    env.extend(hooks.iter().map(|(name, url)| (name.as_str(), url.clone())));
    let child = bootstrap(&api, &env);

    api.invoke("routed-1", sns_event([&critical_in_production(), &other_issue(), &noise()], TOPIC));
    let reply = api.reply("routed-1", Duration::from_secs(30)).await;
    let printed = finish(child);

    let expected =
        json!({"records": 3, "posted": 3, "degraded": 0, "duplicates": 0, "folded": 0, "failed": 0, "dropped": 1});
    assert_eq!(reply, Some(Reply::Response(expected)), "{printed}");
    assert_eq!(spaces.counts(), [1, 1, 1]);
    let lines: Vec<Value> = printed.lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
    let started = lines.iter().find(|l| l["message"] == "delibird started").expect("a start line");
    assert!(started["webhook"].as_str().unwrap().starts_with("3 rule(s), unmatched → platform"), "{started}");
    assert!(lines.iter().any(|l| l["rules"] == "critical to on-call,production accounts"), "{printed}");
    assert!(lines.iter().any(|l| l["outcome"] == "dropped"), "{printed}");
    assert!(!printed.contains(EMULATOR_TOKEN), "token in output:\n{printed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_refuses_to_start_with_a_bad_rule_and_names_it_with_its_position() {
    let api = RuntimeApi::start().await;
    let rules = format!(
        r#"default = "platform"
[webhooks]
platform = "https://chat.googleapis.com/v1/spaces/A/messages?key=K&token={EMULATOR_TOKEN}"

[[rule]]
name = "typo"
where = "detail.service = 'EC2' AND region LIKE"
webhooks = ["platform"]
"#
    );
    let env = [("DELIBIRD_RULES", rules_file("bootstrap-bad", &rules))];

    let (success, printed) = exited(bootstrap(&api, &env)).await;

    assert!(!success, "{printed}");
    assert!(printed.contains("cannot start"), "{printed}");
    assert!(
        printed.contains(r#"rule \"typo\" (line 7): where, line 1, column 39: Expected: an expression"#),
        "{printed}"
    );
    assert!(printed.contains(r#"webhook \"platform\": the value looks like a URL"#), "{printed}");
    assert!(!printed.contains(EMULATOR_TOKEN), "token in output:\n{printed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_reads_its_rules_and_a_webhook_from_ssm() {
    let moto = Moto::start();
    let spaces = Emulators::start().await;
    let ssm = aws_sdk_ssm::Client::new(&moto.sdk_config());
    let put = |name: &'static str, value: String| {
        ssm.put_parameter().name(name).value(value).r#type(aws_sdk_ssm::types::ParameterType::SecureString).send()
    };
    put("/delibird/webhooks/oncall", spaces.oncall.webhook_url("ONCALL")).await.unwrap();
    let rules = r#"
[webhooks]
oncall = "ssm:/delibird/webhooks/oncall"

[[rule]]
name = "critical to on-call"
where = "delibird.severity = 'critical'"
webhooks = ["oncall"]
"#;
    put("/delibird/rules", rules.to_owned()).await.unwrap();
    let api = RuntimeApi::start().await;
    let mut env = moto.env();
    env.extend([
        ("DELIBIRD_RULES", "ssm:/delibird/rules".to_owned()),
        ("DELIBIRD_WEBHOOK_URL", spaces.platform.webhook_url("DEFAULT")),
        ("DELIBIRD_ALLOW_LOOPBACK_WEBHOOK", "1".to_owned()),
    ]);
    let child = bootstrap(&api, &env);

    api.invoke("ssm-1", sns_event([&critical_in_production(), &other_issue()], TOPIC));
    let reply = api.reply("ssm-1", Duration::from_secs(30)).await;
    let printed = finish(child);

    assert!(matches!(reply, Some(Reply::Response(_))), "{reply:?}\n{printed}");
    assert_eq!(spaces.counts(), [1, 0, 1], "unmatched to DELIBIRD_WEBHOOK_URL, critical to on-call");
    assert!(!printed.contains(EMULATOR_TOKEN), "token in output:\n{printed}");
}
