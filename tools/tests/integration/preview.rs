//! `preview::page`: every card delibird renders is drawn without a placeholder, threads are
//! grouped, what the preview cannot draw is shown, and a hostile body cannot put markup into the
//! page. (scripts/check-preview opens the page in Chromium and clicks it.)

use chrono::{DateTime, Utc};
use delibird::accounts::{EnrichedEvent, StaticAliases, enrich};
use delibird::card::{CardSettings, Clock};
use delibird::chat;
use delibird::envelope;
use delibird::health::{self, AccountId, Checked};
use delibird_tools::preview::page;
use serde_json::{Value, json};

use crate::support::{fixture, health_event_files};

fn aliases() -> StaticAliases {
    [("111122223333", "payments-prod"), ("222233334444", "data-lake-prod")]
        .into_iter()
        .map(|(id, name)| (AccountId::parse(id).unwrap(), name.to_owned()))
        .collect()
}

fn settings() -> CardSettings {
    let now = DateTime::parse_from_rfc3339("2024-07-17T12:00:00Z").unwrap().with_timezone(&Utc);
    CardSettings { clock: Clock::Fixed(now), ..CardSettings::default() }
}

/// A raw event as the handler renders it (salvaged into a degraded card when invalid).
fn body(raw: &Value) -> Value {
    let Checked { event, problems } = health::check(raw);
    let enriched: EnrichedEvent = futures::executor::block_on(enrich(event, &aliases()));
    serde_json::to_value(chat::message(&enriched, problems.as_ref(), &settings())).unwrap()
}

fn event(name: &str) -> Value {
    fixture(&format!("health-events/{name}"))
}

fn preview_body(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/preview").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn placeholders(html: &str) -> usize {
    html.matches("data-placeholder=").count()
}

/// Every fixture event, and variants reaching every icon and state delibird writes: each status
/// of an entity, an account-id entity, each severity, resolved, degraded, paged.
fn every_card_delibird_makes() -> Vec<(String, Value)> {
    let mut bodies = Vec::new();
    for (name, bytes) in health_event_files() {
        for (i, record) in envelope::parse(&bytes).unwrap().into_iter().enumerate() {
            bodies.push((format!("{name} #{i}"), body(&record.event.unwrap())));
        }
    }
    let mut statuses = event("seed-project-health102.json");
    let kinds = ["IMPAIRED", "UNIMPAIRED", "PENDING", "RESOLVED", "UNKNOWN", "UPCOMING"];
    let mut entities: Vec<Value> =
        kinds.iter().map(|status| json!({"entityValue": format!("i-{status}"), "status": status})).collect();
    entities.push(json!({"entityValue": "i-no-status"}));
    entities.push(json!({"entityValue": "111122223333"}));
    statuses["detail"]["affectedEntities"] = Value::Array(entities);
    bodies.push(("every entity status".into(), body(&statuses)));
    let mut closed = event("awsdocs-public-ec2-operational-issue-af-south-1.json");
    closed["detail"]["statusCode"] = json!("closed");
    bodies.push(("resolved".into(), body(&closed)));
    let mut invalid = event("awsdocs-ec2-instance-retirement-scheduled-metadata-actionability.json");
    invalid["detail"]["startTime"] = json!(1_700_000_000);
    bodies.push(("degraded".into(), body(&invalid)));
    bodies
}

#[test]
fn every_card_delibird_makes_is_drawn_without_a_placeholder() {
    let bodies = every_card_delibird_makes();
    let html = page(&bodies);
    assert_eq!(placeholders(&html), 0, "a placeholder in {html}");
    assert_eq!(html.matches("<div class=\"card\"").count(), bodies.len());
    for severity in ["Info", "Warning", "High", "Critical", "Resolved"] {
        assert!(html.contains(&format!("<b>{severity}</b>")), "no {severity} card among the samples");
    }
}

/// Every `materialIcon` name in `value`.
fn material_icons(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(members) => {
            if let Some(name) = members.get("materialIcon").and_then(|icon| icon["name"].as_str()) {
                found.push(name.to_owned());
            }
            members.values().for_each(|member| material_icons(member, found));
        }
        Value::Array(items) => items.iter().for_each(|item| material_icons(item, found)),
        _ => {}
    }
}

#[test]
fn every_material_icon_delibird_sends_is_one_the_preview_draws() {
    let mut found = Vec::new();
    for (_, body) in every_card_delibird_makes() {
        material_icons(&body, &mut found);
    }
    found.sort();
    found.dedup();
    assert!(found.len() >= 8, "the fixtures use most of delibird's icons: {found:?}");
    let unknown: Vec<&String> =
        found.iter().filter(|name| !delibird_tools::preview::icons::knows_material(name)).collect();
    assert_eq!(unknown, Vec::<&String>::new(), "icons the preview would draw as a placeholder");
}

#[test]
fn a_card_shows_its_header_sections_and_collapsed_entities() {
    let html = page(&[("107".into(), body(&event("seed-project-health107.json")))]);
    assert!(html.contains("<div class=\"card-title\">🟠 ECS task patching retirement</div>"), "{html}");
    assert!(html.contains("<div class=\"section-header\">Affected resources (58)</div>"));
    assert!(html.contains("<div class=\"top-label\">When</div>"), "{html}");
    assert!(html.contains("Starts Sat, 20 Jul 2024 15:00 UTC (in 3 days)"));
    // 40 entities and the "+18 more" line, 3 of them shown: 38 folded behind "Show more".
    assert!(html.contains("data-hidden-widgets=\"38\""), "{html}");
    assert!(html.contains("href=\"https://health.aws.amazon.com/health/home#/account/event-log?eventID="));
}

#[test]
fn updates_of_one_public_event_from_two_accounts_are_one_thread() {
    let bodies = [
        ("105".to_owned(), body(&event("seed-project-health105.json"))),
        ("103".to_owned(), body(&event("seed-project-health103.json"))),
        ("106".to_owned(), body(&event("seed-project-health106.json"))),
    ];
    let html = page(&bodies);
    assert_eq!(html.matches("<section class=\"thread\">").count(), 2);
    assert_eq!(html.matches("<article class=\"message reply\"").count(), 1);
    let (first, reply, other) =
        (html.find("data-label=\"105\""), html.find("data-label=\"106\""), html.find("data-label=\"103\""));
    assert!(first < reply && reply < other, "106 answers 105 in its thread, before 103's thread");
}

#[test]
fn widgets_delibird_does_not_send_are_drawn_and_what_cannot_be_is_a_visible_placeholder() {
    let html = page(&[("gallery".into(), preview_body("widget-gallery.json"))]);
    for drawn in [
        "class=\"header-image standin circle\"",
        "<div class=\"widget chip-list\">",
        "<div class=\"widget columns\">",
        "<hr class=\"widget divider\">",
        "<div class=\"widget image standin\"",
        "<div class=\"widget grid\">",
        "class=\"button outlined\"",
        "class=\"switch on\"",
        "<ul><li>one</li><li>two</li></ul>",
        "style=\"--lines: 2\"",
    ] {
        assert!(html.contains(drawn), "{drawn} is not drawn: {html}");
    }
    assert!(html.contains("Widget not previewed: <code>textInput</code>"));
    assert!(html.contains("Material Symbol not drawn by the preview: rocket_launch"));
    assert_eq!(placeholders(&html), 2);
}

/// Tags the page writes itself; a `<` before any other name would be markup from a body.
const PAGE_TAGS: &[&str] = &[
    "html", "head", "meta", "title", "style", "body", "header", "h1", "p", "main", "section", "div", "span", "code",
    "article", "svg", "path", "details", "summary", "pre", "input", "label", "hr", "a", "b", "i", "u", "s", "font",
    "time", "ul", "ol", "li", "br",
];

/// `key="value"` pairs as a browser reads them (the page quotes every value with `"`).
fn attributes(mut text: &str) -> Vec<(&str, &str)> {
    let mut found = Vec::new();
    loop {
        text = text.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if text.is_empty() {
            return found;
        }
        let key_end = text.find(|c: char| c.is_whitespace() || c == '=').unwrap_or(text.len());
        let (key, rest) = text.split_at(key_end);
        match rest.strip_prefix("=\"") {
            Some(quoted) => {
                let value_end = quoted.find('"').expect("a closed attribute value");
                found.push((key, &quoted[..value_end]));
                text = &quoted[value_end + 1..];
            }
            None => {
                assert!(!rest.starts_with('='), "an unquoted attribute value in {text}");
                found.push((key, ""));
                text = rest;
            }
        }
    }
}

#[test]
fn a_hostile_body_cannot_put_markup_into_the_page() {
    let html = page(&[("<script>alert('label')</script>".into(), preview_body("hostile-body.json"))]);
    let mut rest = html.as_str();
    while let Some(at) = rest.find('<') {
        let tag = &rest[at + 1..];
        let end = tag.find('>').expect("every tag is closed");
        let inside = &tag[..end];
        let name: String =
            inside.trim_start_matches(['/', '!']).chars().take_while(char::is_ascii_alphanumeric).collect();
        assert!(
            PAGE_TAGS.contains(&name.to_ascii_lowercase().as_str()) || inside == "!DOCTYPE html",
            "<{inside}> is not the page's own"
        );
        for (key, value) in attributes(&inside[name.len()..]) {
            let key = key.to_ascii_lowercase();
            assert!(!key.starts_with("on") && key != "src" && key != "srcdoc", "<{inside}> has {key}");
            if key == "href" {
                assert!(value.starts_with("https://"), "<{inside}> links elsewhere");
            }
        }
        rest = &tag[end + 1..];
    }
    assert_eq!(html.matches("<style>").count(), 1, "only the page's own style sheet");
    assert!(html.contains("&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;"), "the title is shown as text");
    assert!(html.contains("Widget not previewed: <code>&lt;script&gt;"), "an unknown kind is named, escaped");
}

#[test]
fn the_page_is_offline_and_runs_no_script() {
    let html = page(&every_card_delibird_makes());
    assert!(html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"));
    assert!(!html.contains("<script"));
    assert!(!html.contains("<link") && !html.contains("<img") && !html.contains("url("), "nothing to fetch");
}

#[test]
fn mentions_in_a_messages_text_are_drawn_as_chips_and_other_text_stays_escaped() {
    let mut mentioned = body(&event("seed-project-health107.json"));
    mentioned["text"] = json!("<users/all> <users/123456789> <users/<b>x</b>>");
    let html = page(&[("m".into(), mentioned)]);
    assert!(html.contains("<span class=\"mention\" title=\"users/all\">@all</span>"), "{html}");
    assert!(html.contains("<span class=\"mention\" title=\"users/123456789\">@user 123456789</span>"), "{html}");
    assert!(html.contains("&lt;users/&lt;b&gt;x&lt;/b&gt;&gt;"), "markup in a mention stays text: {html}");
    assert!(!html.contains("<b>x</b>"));
}
