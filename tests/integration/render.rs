//! Stages 2–4 together, `health::check` → `accounts::enrich` → `card::render`: every real event
//! becomes a body Google Chat accepts, and the card shows what a person needs.
//!
//! Golden files: `tests/golden/*.json` pin whole webhook bodies, compared as `serde_json::Value`.
//! After an intended change to the cards, regenerate them with
//! `DELIBIRD_BLESS=1 cargo test --test integration render::` (the golden tests then write the
//! files instead of comparing) and review the diff before committing it. Relative times ("starts
//! in 3 days") count from a fixed `now` ([`Clock::Fixed`]), so the files stay valid.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use delibird::accounts::{StaticAliases, enrich};
use delibird::card::{CardSettings, Clock};
use delibird::chat;
use delibird::envelope;
use delibird::health::{self, AccountId, Checked};
use serde_json::{Value, json};

use crate::support::chat_schema::assert_message_accepted;
use crate::support::{fixture, health_event_files};

/// Account names as an operator would configure them; 123456789012 is left without a name.
fn aliases() -> StaticAliases {
    [("111122223333", "payments-prod"), ("222233334444", "data-lake-prod"), ("999988887777", "security-audit")]
        .into_iter()
        .map(|(id, name)| (AccountId::parse(id).unwrap(), name.to_owned()))
        .collect()
}

/// The time most tests render at: relative times in cards count from it.
const NOW: &str = "2024-07-17T12:00:00Z";

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

/// One raw event through check → enrich → render at [`NOW`]; the body, after checking Google
/// accepts it.
fn render(raw: &Value) -> Value {
    render_with(raw, &CardSettings { clock: Clock::Fixed(at(NOW)), ..CardSettings::default() })
}

/// The same at another `now`.
fn render_at(raw: &Value, now: &str) -> Value {
    render_with(raw, &CardSettings { clock: Clock::Fixed(at(now)), ..CardSettings::default() })
}

fn render_with(raw: &Value, settings: &CardSettings) -> Value {
    let Checked { event, problems } = health::check(raw);
    let enriched = futures::executor::block_on(enrich(event, &aliases()));
    let message = chat::message(&enriched, problems.as_ref(), settings);
    assert_message_accepted(&message)
}

fn event(name: &str) -> Value {
    fixture(&format!("health-events/{name}"))
}

fn with_description(mut raw: Value, text: &str) -> Value {
    raw["detail"]["eventDescription"] = json!([{"language": "en_US", "latestDescription": text}]);
    raw
}

fn closed(mut raw: Value) -> Value {
    raw["detail"]["statusCode"] = json!("closed");
    raw
}

fn sections(body: &Value) -> &Vec<Value> {
    body["cardsV2"][0]["card"]["sections"].as_array().expect("a card with sections")
}

fn section<'a>(body: &'a Value, header_prefix: &str) -> &'a Value {
    sections(body)
        .iter()
        .find(|s| s["header"].as_str().is_some_and(|h| h.starts_with(header_prefix)))
        .unwrap_or_else(|| panic!("no section {header_prefix:?} in {body:#}"))
}

fn widgets(section: &Value) -> &Vec<Value> {
    section["widgets"].as_array().expect("a section with widgets")
}

fn title(body: &Value) -> &str {
    body["cardsV2"][0]["card"]["header"]["title"].as_str().unwrap()
}

fn subtitle(body: &Value) -> &str {
    body["cardsV2"][0]["card"]["header"]["subtitle"].as_str().unwrap()
}

/// The first decorated text labelled `label`, anywhere in the card.
fn row<'a>(body: &'a Value, label: &str) -> &'a Value {
    sections(body)
        .iter()
        .flat_map(widgets)
        .map(|w| &w["decoratedText"])
        .find(|d| d["topLabel"] == label)
        .unwrap_or_else(|| panic!("no row {label:?} in {body:#}"))
}

fn description_html(body: &Value) -> &str {
    widgets(section(body, "Description"))[0]["textParagraph"]["text"].as_str().unwrap()
}

/// `Critical` from `<font color="…"><b>Critical</b></font> · Open issue`.
fn severity(body: &Value) -> &str {
    let text = row(body, "Severity")["text"].as_str().unwrap();
    let start = text.find("<b>").unwrap() + 3;
    let end = text.find("</b>").unwrap();
    &text[start..end]
}

fn thread_key(body: &Value) -> &str {
    body["thread"]["threadKey"].as_str().unwrap()
}

fn widget_count(body: &Value) -> usize {
    sections(body).iter().map(|s| widgets(s).len()).sum()
}

/// Compares `body` with `tests/golden/<name>`, or writes it there when `DELIBIRD_BLESS=1`.
#[track_caller]
fn assert_golden(name: &str, body: &Value) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var("DELIBIRD_BLESS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, serde_json::to_string_pretty(body).unwrap() + "\n").unwrap();
        return;
    }
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (create it with DELIBIRD_BLESS=1)", path.display()));
    let expected: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        *body == expected,
        "{} differs from the rendered body (regenerate with DELIBIRD_BLESS=1 if intended); rendered:\n{:#}",
        path.display(),
        body
    );
}

// Every fixture

#[test]
fn every_fixture_event_validates_without_salvage() {
    for (name, bytes) in health_event_files() {
        for record in envelope::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}")) {
            let raw = record.event.unwrap_or_else(|e| panic!("{name}: {e}"));
            if let Err(errors) = health::validate(&raw) {
                panic!("{name}: {errors}");
            }
        }
    }
}

#[test]
fn every_fixture_event_renders_a_body_google_chat_accepts() {
    let mut rendered = 0;
    for (name, bytes) in health_event_files() {
        for record in envelope::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}")) {
            let raw = record.event.unwrap_or_else(|e| panic!("{name}: {e}"));
            let body = render(&raw);
            assert!(!title(&body).trim().is_empty(), "{name}");
            rendered += 1;
        }
    }
    assert_eq!(rendered, health_event_files().len(), "one event per fixture file");
}

// Text

#[test]
fn real_newlines_in_a_description_become_line_breaks() {
    let raw = with_description(event("seed-project-health101.json"), "First line\nSecond line\n\nNew paragraph");
    assert_eq!(description_html(&render(&raw)), "First line<br>Second line<br><br>New paragraph");
}

#[test]
fn escaped_newlines_in_a_description_become_line_breaks() {
    let raw = with_description(event("seed-project-health101.json"), r"First line\nSecond line\n\nNew paragraph");
    assert_eq!(description_html(&render(&raw)), "First line<br>Second line<br><br>New paragraph");
}

#[test]
fn escaped_newlines_in_a_real_double_escaped_description_become_line_breaks() {
    let body = render(&event("seed-project-health107.json"));
    let html = description_html(&body);
    assert!(!html.contains(r"\n"), "{html}");
    assert!(html.contains("revision.<br><br>AWS Fargate is a serverless"), "{html}");
}

/// Regression: descriptions escaped twice (real events carry `\n` and `\"` as two characters)
/// showed `\"Affected Resources\"`, backslashes included, on the card.
#[test]
fn escaped_quotes_in_a_real_double_escaped_description_show_as_plain_quotes() {
    let body = render(&event("seed-project-health107.json"));
    let html = description_html(&body);
    assert!(html.contains("Please check the &quot;Affected Resources&quot; tab"), "{html}");
}

#[test]
fn html_in_event_text_is_escaped_everywhere_in_the_card_body() {
    let mut raw = with_description(event("seed-project-health102.json"), "<script>alert('x')</script> & <b>bold</b>");
    raw["detail"]["affectedEntities"][0]["entityValue"] = json!("<img src=x onerror=alert(1)>");
    raw["detail"]["eventMetadata"]["<i>key</i>"] = json!("<a href=\"https://evil.example\">click</a>");
    raw["detail"]["eventRegion"] = json!("<u>us-west-2</u>");
    let body = render(&raw);
    let html = serde_json::to_string(sections(&body)).unwrap();
    for markup in ["<script", "<img", "<a href", "<i>key", "<u>", "<b>bold"] {
        assert!(!html.contains(markup), "{markup} reached the card unescaped: {html}");
    }
    assert_eq!(
        description_html(&body),
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"
    );
    assert_eq!(row(&body, "Region")["text"], "&lt;u&gt;us-west-2&lt;/u&gt;");
}

// Accounts

#[test]
fn a_named_account_shows_its_name_and_id() {
    let body = render(&event("seed-project-health102.json"));
    assert_eq!(row(&body, "Account")["text"], "payments-prod (111122223333)");
    assert!(subtitle(&body).ends_with("payments-prod (111122223333)"), "{}", subtitle(&body));
}

#[test]
fn an_account_without_a_name_shows_its_id() {
    let body = render(&event("awsdocs-account-specific-elb-api-issue.json"));
    assert_eq!(row(&body, "Account")["text"], "123456789012");
}

#[test]
fn entity_values_that_are_account_ids_get_names() {
    let body = render(&event("seed-project-health103.json"));
    let entities = widgets(section(&body, "Affected resources"));
    assert_eq!(entities[0]["decoratedText"]["text"], "payments-prod (111122223333)");
}

#[test]
fn an_affected_account_other_than_the_delivering_one_says_how_it_was_delivered() {
    let mut raw = event("seed-project-health102.json");
    raw["account"] = json!("999988887777");
    let body = render(&raw);
    let account = row(&body, "Account");
    assert_eq!(account["text"], "payments-prod (111122223333)");
    assert_eq!(account["bottomLabel"], "Delivered via security-audit (999988887777)");
}

// Entities and limits

#[test]
fn the_58_entity_event_lists_its_entities_in_a_collapsible_section() {
    let body = render(&event("seed-project-health107.json"));
    let entities = section(&body, "Affected resources");
    assert_eq!(entities["header"], "Affected resources (58)");
    assert_eq!(entities["collapsible"], true);
    assert_eq!(entities["uncollapsibleWidgetsCount"], 3);
    let rows = widgets(entities);
    assert_eq!(rows[0]["decoratedText"]["text"], "MYECS-CLUSTER|ASSETSTATISTICS-BATCH");
    let listed = rows.iter().filter(|w| w.get("decoratedText").is_some()).count();
    let more = rows.last().unwrap()["textParagraph"]["text"].as_str().unwrap();
    assert!(more.contains(&format!("+{} more", 58 - listed)), "{more}");
}

#[test]
fn a_1000_entity_event_is_cut_with_a_visible_count_and_stays_within_chats_limits() {
    let mut raw = event("seed-project-health107.json");
    let entities: Vec<Value> = (0..1000)
        .map(|i| {
            json!({
                "entityValue": format!("arn:aws:ecs:ap-northeast-2:222233334444:task/MYECS-CLUSTER/{i:032x}"),
                "lastUpdatedTime": "Sat, 13 Jul 2024 15:33:21 GMT",
                "status": "IMPAIRED",
                "tags": {"service": format!("service-{i}"), "team": "platform"}
            })
        })
        .collect();
    raw["detail"]["affectedEntities"] = Value::Array(entities);
    let body = render(&raw);

    assert!(serde_json::to_vec(&body).unwrap().len() <= 32_000);
    assert!(widget_count(&body) <= 100, "{} widgets", widget_count(&body));
    let section = section(&body, "Affected resources");
    assert_eq!(section["header"], "Affected resources (1000)");
    let rows = widgets(section);
    let listed = rows.iter().filter(|w| w.get("decoratedText").is_some()).count();
    assert!(listed >= 1, "at least one entity is shown");
    let more = rows.last().unwrap()["textParagraph"]["text"].as_str().unwrap();
    assert!(more.contains(&format!("+{} more", 1000 - listed)), "{more}");
}

#[test]
fn a_huge_description_is_cut_visibly_and_the_card_stays_within_chats_limits() {
    let text = "The quick brown fox jumps over the lazy dog. ".repeat(2_000);
    let body = render(&with_description(event("seed-project-health101.json"), &text));
    assert!(serde_json::to_vec(&body).unwrap().len() <= 32_000);
    assert!(description_html(&body).ends_with("more characters</i>"), "{}", description_html(&body));
}

#[test]
fn a_paged_event_says_which_page_it_is() {
    let body = render(&event("awsdocs-lambda-planned-lifecycle-multi-entities-page1-of-10.json"));
    assert_eq!(row(&body, "Paged event")["text"], "Page 1 of 10");
}

// Links and threads

#[test]
fn the_dashboard_button_opens_the_event_over_https_with_the_arn_url_encoded() {
    let body = render(&event("awsdocs-public-ec2-operational-issue-af-south-1.json"));
    let button = &sections(&body).last().unwrap()["widgets"][0]["buttonList"]["buttons"][0];
    assert_eq!(button["text"], "Open in AWS Health");
    assert_eq!(
        button["onClick"]["openLink"]["url"],
        "https://health.aws.amazon.com/health/home#/account/event-log?eventID=\
         arn%3Aaws%3Ahealth%3Aaf-south-1%3A%3Aevent%2FEC2%2FAWS_EC2_OPERATIONAL_ISSUE%2F\
         AWS_EC2_OPERATIONAL_ISSUE_7f35c8ae-af1f-54e6-a526-d0179ed6d68f&eventTab=details"
    );
}

#[test]
fn an_event_and_its_resolution_share_one_thread() {
    let open = event("awsdocs-public-ec2-operational-issue-af-south-1.json");
    let resolved = closed(open.clone());
    assert_eq!(thread_key(&render(&open)), thread_key(&render(&resolved)));
}

#[test]
fn an_account_specific_event_gets_one_thread_per_account() {
    let first = render(&event("seed-project-health103.json"));
    let second = render(&event("seed-project-health108.json"));
    assert_eq!(
        event("seed-project-health103.json")["detail"]["eventArn"],
        event("seed-project-health108.json")["detail"]["eventArn"]
    );
    assert_ne!(thread_key(&first), thread_key(&second));
}

#[test]
fn a_public_event_reaching_several_accounts_shares_one_thread() {
    let first = render(&event("seed-project-health105.json"));
    let second = render(&event("seed-project-health106.json"));
    assert_ne!(event("seed-project-health105.json")["account"], event("seed-project-health106.json")["account"]);
    assert_eq!(thread_key(&first), thread_key(&second));
}

// Header

#[test]
fn the_fallback_text_carries_the_title_and_state() {
    let body = render(&event("awsdocs-account-specific-elb-api-issue.json"));
    let fallback = body["fallbackText"].as_str().unwrap();
    assert!(fallback.starts_with(title(&body)), "{fallback}");
    assert!(fallback.contains("Open issue · ap-southeast-2"), "{fallback}");
}

#[test]
fn a_closed_event_is_titled_resolved() {
    let body = render(&closed(event("awsdocs-public-ec2-operational-issue-af-south-1.json")));
    assert!(title(&body).starts_with("✅ Resolved"), "{}", title(&body));
    assert!(subtitle(&body).starts_with("Resolved issue"), "{}", subtitle(&body));
}

// Severity

#[test]
fn a_risk_event_is_critical() {
    let body = render(&event("aws-health-tools-risk-credentials-exposed.json"));
    assert_eq!(severity(&body), "Critical");
    assert!(title(&body).starts_with("🔴"), "{}", title(&body));
}

#[test]
fn an_abuse_event_is_critical() {
    assert_eq!(severity(&render(&event("aws-health-tools-abuse-dos-report-mock-awsmock-source.json"))), "Critical");
}

#[test]
fn an_open_issue_is_high() {
    assert_eq!(severity(&render(&event("awsdocs-account-specific-elb-api-issue.json"))), "High");
}

#[test]
fn an_account_notification_is_info() {
    assert_eq!(severity(&render(&event("seed-project-health103.json"))), "Info");
}

// Odd values

#[test]
fn an_unknown_category_is_rendered_not_rejected() {
    let mut raw = event("awsdocs-account-specific-elb-api-issue.json");
    raw["detail"]["eventTypeCategory"] = json!("plannedChange");
    assert!(health::validate(&raw).is_ok());
    let body = render(&raw);
    assert!(subtitle(&body).starts_with("Open plannedChange"), "{}", subtitle(&body));
    assert!(sections(&body).iter().all(|s| s["header"] != "⚠ Invalid event"));
}

#[test]
fn odd_values_from_aws_samples_are_rendered_not_rejected() {
    let mut raw = event("aws-health-tools-sms-notifier-test-event.json");
    assert_eq!(raw["detail"]["service"], "AWS_EC2");
    assert_eq!(raw["detail"]["eventTypeCategory"], "category");
    raw["detail"]["statusCode"] = json!("pending-review");
    raw["detail"]["eventScopeCode"] = json!("ORGANIZATION");
    raw["detail"]["affectedEntities"] = json!([{"entityValue": "i-abcd1111", "status": "UPCOMING"}]);
    assert!(health::validate(&raw).is_ok());
    let body = render(&raw);
    assert_eq!(row(&body, "Service")["text"], "EC2");
    assert_eq!(row(&body, "Service")["bottomLabel"], "<code>AWS_EC2_HEALTH_TEST_EVENT</code>");
    assert_eq!(widgets(section(&body, "Affected resources"))[0]["decoratedText"]["topLabel"], "UPCOMING");
    assert_eq!(row(&body, "Severity")["bottomLabel"], "Scope ORGANIZATION");
}

#[test]
fn single_digit_days_parse() {
    let body = render(&event("awsdocs-backup-event-ec2-instance-store-drive-degraded.json"));
    assert_eq!(row(&body, "Started")["text"], "Fri, 3 Jun 2022 05:01 UTC (2 years ago)");
}

#[test]
fn a_weekday_that_does_not_match_the_date_parses_and_shows_the_true_weekday() {
    let raw = event("awsdocs-ec2-instance-retirement-scheduled-metadata-actionability.json");
    assert_eq!(raw["detail"]["lastUpdatedTime"], "Thu, 27 Jan 2026 13:44:13 GMT");
    assert_eq!(
        row(&render_at(&raw, "2026-01-27T15:00:00Z"), "Last updated")["text"],
        "Tue, 27 Jan 2026 13:44 UTC (1 hour 15 minutes ago)"
    );
}

#[test]
fn a_date_that_cannot_be_read_is_shown_as_it_came() {
    let mut raw = event("awsdocs-account-specific-elb-api-issue.json");
    raw["detail"]["startTime"] = json!("next Tuesday, probably");
    assert!(health::validate(&raw).is_ok());
    assert_eq!(row(&render(&raw), "Started")["text"], "next Tuesday, probably");
}

// Degraded cards

fn invalid_event() -> Value {
    let mut raw = event("awsdocs-ec2-instance-retirement-scheduled-metadata-actionability.json");
    raw["detail"]["startTime"] = json!(1_700_000_000);
    raw["detail"]["affectedEntities"][0]["entityValue"] = Value::Null;
    raw
}

#[test]
fn an_invalid_event_gets_a_degraded_card_listing_each_problem_first() {
    let body = render(&invalid_event());
    let problems = &sections(&body)[0];
    assert_eq!(problems["header"], "⚠ Invalid event");
    let text = problems["widgets"][0]["textParagraph"]["text"].as_str().unwrap();
    assert!(text.contains("could not read 2 fields"), "{text}");
    assert!(text.contains("detail.startTime: expected a string, found a number"), "{text}");
    assert!(text.contains("detail.affectedEntities[0].entityValue: required field is missing"), "{text}");
    assert_eq!(title(&body), "🟠 EC2 instance retirement scheduled (incomplete)");
}

// Words a person reads

#[test]
fn titles_name_the_problem_in_words_not_codes() {
    let titles = [
        ("awsdocs-account-specific-elb-api-issue.json", "🟠 Elastic Load Balancing API issue"),
        ("seed-project-health105.json", "🟠 Multiple services operational issue"),
        ("aws-health-tools-sms-notifier-test-event.json", "🟡 EC2 health test event"),
        ("aws-health-tools-abuse-dos-report-mock-awsmock-source.json", "🔴 Abuse: DoS report"),
        ("aws-health-tools-risk-credentials-exposed.json", "🔴 Security risk: credentials exposed"),
        (
            "awsdocs-ec2-instance-retirement-scheduled-metadata-actionability.json",
            "🟠 EC2 instance retirement scheduled",
        ),
        ("seed-project-health104.json", "🟡 Auto Scaling operational notification"),
    ];
    for (name, expected) in titles {
        assert_eq!(title(&render(&event(name))), expected, "{name}");
    }
}

#[test]
fn an_open_scheduled_change_that_starts_in_three_days_says_starts_in_3_days() {
    let raw = event("awsdocs-ec2-instance-retirement-scheduled-metadata-actionability.json");
    assert_eq!(raw["detail"]["statusCode"], "open");
    let body = render_at(&raw, "2026-08-24T12:00:00Z");
    assert_eq!(row(&body, "Starts")["text"], "Thu, 27 Aug 2026 13:19 UTC (in 3 days)");
}

#[test]
fn a_start_in_the_past_says_started_and_how_long_ago() {
    let body = render_at(&event("seed-project-health102.json"), "2023-01-27T15:00:00Z");
    assert_eq!(row(&body, "Started")["text"], "Fri, 27 Jan 2023 13:19 UTC (1 hour 40 minutes ago)");
}

#[test]
fn an_upcoming_change_whose_start_is_past_says_started() {
    let body = render_at(&event("seed-project-health107.json"), "2024-07-21T12:00:00Z");
    assert_eq!(row(&body, "Started")["text"], "Sat, 20 Jul 2024 15:00 UTC (21 hours ago)");
    assert_eq!(row(&body, "Ends")["text"], "Sat, 27 Jul 2024 15:00 UTC (in 6 days)");
}

#[test]
fn a_resolved_event_says_resolved_and_how_long_it_lasted() {
    let raw = closed(event("awsdocs-public-ec2-operational-issue-af-south-1.json"));
    let body = render_at(&raw, "2023-01-27T10:15:00Z");
    let status = row(&body, "Status");
    assert_eq!(status["text"], "<font color=\"#1A73E8\"><b>Resolved</b></font> issue");
    assert_eq!(status["startIcon"]["materialIcon"]["name"], "check_circle");
    let ended = row(&body, "Ended");
    assert_eq!(ended["text"], "Fri, 27 Jan 2023 09:01 UTC (1 hour 13 minutes ago)");
    assert_eq!(ended["bottomLabel"], "Lasted 2 hours 58 minutes");
}

#[test]
fn a_public_event_names_no_account_in_its_subtitle_and_shows_where_it_was_seen_from() {
    let body = render(&event("seed-project-health105.json"));
    assert_eq!(subtitle(&body), "Open issue · us-east-1 · Public event");
    let seen = row(&body, "Seen from");
    assert_eq!(seen["text"], "data-lake-prod (222233334444)");
    assert_eq!(seen["bottomLabel"], "One of the accounts this public event reached");
    assert!(sections(&body).iter().flat_map(widgets).all(|w| w["decoratedText"]["topLabel"] != "Account"));
}

#[test]
fn a_degraded_card_says_so_in_its_title_subtitle_and_fallback_text() {
    let body = render(&invalid_event());
    assert!(title(&body).ends_with("(incomplete)"), "{}", title(&body));
    assert!(subtitle(&body).starts_with("2 unreadable fields · "), "{}", subtitle(&body));
    let fallback = body["fallbackText"].as_str().unwrap();
    assert!(fallback.contains("(incomplete) — 2 unreadable fields"), "{fallback}");
}

#[test]
fn an_action_required_event_says_so_under_its_severity() {
    let body = render(&event("awsdocs-ec2-instance-retirement-scheduled-metadata-actionability.json"));
    assert_eq!(row(&body, "Severity")["bottomLabel"], "Action required · Affects resources in this account");
}

#[test]
fn an_entity_shows_its_status_its_name_tag_first_and_its_other_tags_below() {
    let mut raw = event("aws-health-tools-ec2-instance-store-drive-degraded-with-tags.json");
    raw["detail"]["affectedEntities"][0]["tags"]["Name"] = json!("web-1");
    raw["detail"]["affectedEntities"][0]["status"] = json!("IMPAIRED");
    raw["detail"]["affectedEntities"][0]["lastUpdatedTime"] = json!("Wed, 17 Jul 2024 09:00:00 GMT");
    let body = render(&raw);
    let entity = &widgets(section(&body, "Affected resources"))[0]["decoratedText"];
    assert_eq!(entity["topLabel"], "Impaired · updated 3 hours ago");
    assert_eq!(entity["text"], "<b>web-1</b> · i-abcd1111");
    assert_eq!(entity["bottomLabel"], "app: my-app · stage: prod");
    assert_eq!(entity["startIcon"]["materialIcon"]["name"], "error");
}

#[test]
fn an_entity_arn_in_the_events_own_account_and_region_shows_its_resource() {
    let body = render(&event("awsdocs-ec2-instance-retirement-scheduled-metadata-actionability.json"));
    let entity = &widgets(section(&body, "Affected resources"))[0]["decoratedText"];
    assert_eq!(entity["text"], "instance/i-1234567890abcdef0");
    assert_eq!(entity["startIcon"]["materialIcon"]["name"], "schedule");
}

#[test]
fn an_entity_arn_from_elsewhere_is_shown_whole() {
    let mut raw = event("awsdocs-ec2-instance-retirement-scheduled-metadata-actionability.json");
    let arn = "arn:aws:ec2:eu-west-1:123456789012:instance/i-0fedcba987654321";
    raw["detail"]["affectedEntities"][0]["entityValue"] = json!(arn);
    let body = render(&raw);
    assert_eq!(widgets(section(&body, "Affected resources"))[0]["decoratedText"]["text"], arn);
}

#[test]
fn metadata_and_aws_codes_in_the_details_read_as_words() {
    let body = render(&event("awsdocs-ec2-instance-retirement-scheduled-metadata-actionability.json"));
    assert_eq!(row(&body, "Truncated")["text"], "Yes");
    assert_eq!(row(&body, "Actionability")["text"], "Action required");
    assert_eq!(row(&body, "Personas")["text"], "Operations");
}

#[test]
fn the_description_is_in_the_configured_language_else_en_us_else_the_first() {
    let mut raw = event("seed-project-health101.json");
    raw["detail"]["eventDescription"] = json!([
        {"language": "ja_JP", "latestDescription": "日本語"},
        {"language": "en_US", "latestDescription": "English"},
        {"language": "ko_KR", "latestDescription": "한국어"},
    ]);
    let in_language = |raw: &Value, language: &str| {
        let settings =
            CardSettings { language: language.to_owned(), clock: Clock::Fixed(at(NOW)), ..CardSettings::default() };
        description_html(&render_with(raw, &settings)).to_owned()
    };
    assert_eq!(in_language(&raw, "ko_KR"), "한국어");
    assert_eq!(in_language(&raw, "fr_FR"), "English");
    raw["detail"]["eventDescription"].as_array_mut().unwrap().remove(1);
    assert_eq!(in_language(&raw, "fr_FR"), "日本語");
}

#[test]
fn a_long_description_folds_behind_chats_show_more_and_a_short_one_does_not() {
    let long = render(&event("seed-project-health107.json"));
    assert_eq!(widgets(section(&long, "Description"))[0]["textParagraph"]["maxLines"], 12);
    let short = render(&event("seed-project-health102.json"));
    assert!(widgets(section(&short, "Description"))[0]["textParagraph"].get("maxLines").is_none());
}

// Golden bodies

#[test]
fn an_open_issue_renders_as_its_golden_card() {
    let body = render_at(&event("seed-project-health102.json"), "2023-01-27T15:00:00Z");
    assert_golden("open-issue.json", &body);
}

#[test]
fn the_58_entity_scheduled_change_renders_as_its_golden_card() {
    assert_golden("scheduled-change-58-entities.json", &render(&event("seed-project-health107.json")));
}

#[test]
fn a_resolved_public_event_renders_as_its_golden_card() {
    let raw = closed(event("awsdocs-public-ec2-operational-issue-af-south-1.json"));
    assert_golden("resolved-public-event.json", &render_at(&raw, "2023-01-27T10:15:00Z"));
}

#[test]
fn an_invalid_event_renders_as_its_golden_degraded_card() {
    assert_golden("degraded-card.json", &render_at(&invalid_event(), "2026-08-24T12:00:00Z"));
}
