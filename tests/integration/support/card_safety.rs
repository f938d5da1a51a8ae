//! What a webhook body may hold whatever the event said: no markup but delibird's own, no link but
//! its "Open in AWS Health" button, no control or text-direction characters where people read
//! text, and Google Chat's limits. The adversarial tests and the fuzz targets (`fuzz/`, which
//! include this file by path) both hold every rendered body to it.
//!
//! Which fields are HTML follows Google's discovery document: `textParagraph.text`,
//! `decoratedText.text`/`topLabel`/`bottomLabel` and `section.header` are Chat's HTML subset; the
//! card header's `title`/`subtitle`, `fallbackText`, button labels and `thread.threadKey` are
//! plain text, shown (or, for the key, used) as they are, so markup characters there are text,
//! not markup.

use delibird::card::Severity;
use serde_json::Value;

/// The tags delibird writes itself (`src/card/`); `<font color>` only with a severity's colour.
const OWN_TAGS: &[&str] = &["<b>", "</b>", "<i>", "</i>", "<br>", "<code>", "</code>", "</font>"];

/// The entities `text::escape` writes; any other `&` means event text went through unescaped.
const OWN_ENTITIES: &[&str] = &["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"];

/// The only link a card holds: the event in the AWS Health dashboard of its ARN's partition
/// (`src/card/links.rs`), its ARN form-urlencoded.
const HEALTH_LINKS: &[&str] = &[
    "https://health.aws.amazon.com/health/home#/account/event-log?eventID=",
    "https://console.amazonaws-us-gov.com/health/home#/account/event-log?eventID=",
    "https://console.amazonaws.cn/health/home#/account/event-log?eventID=",
];
const HEALTH_LINK_END: &str = "&eventTab=details";

/// Google Chat's limits (`src/card/limits.rs` names each one).
const MAX_MESSAGE_BYTES: usize = 32_000;
const MAX_WIDGETS: usize = 100;
const MAX_FALLBACK_CHARS: usize = 4_096;
const MAX_THREAD_KEY_CHARS: usize = 4_000;

/// Characters that change the direction of text or are invisible controls.
fn is_direction_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Every way `body` breaks the rules above; empty when it keeps them all.
pub fn problems(body: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let size = serde_json::to_vec(body).map_or(usize::MAX, |bytes| bytes.len());
    if size > MAX_MESSAGE_BYTES {
        problems.push(format!("message is {size} bytes > {MAX_MESSAGE_BYTES}"));
    }
    for (i, card) in body["cardsV2"].as_array().into_iter().flatten().enumerate() {
        let widgets: usize = card["card"]["sections"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|section| section["widgets"].as_array().map_or(0, Vec::len))
            .sum();
        if widgets > MAX_WIDGETS {
            problems.push(format!("card {i}: {widgets} widgets > {MAX_WIDGETS}"));
        }
        if card["card"]["header"]["title"].as_str().is_none_or(|title| title.trim().is_empty()) {
            problems.push(format!("card {i}: no header title"));
        }
    }
    if body["fallbackText"].as_str().is_some_and(|text| text.chars().count() > MAX_FALLBACK_CHARS) {
        problems.push("fallbackText over 4,096 characters".into());
    }
    if body["thread"]["threadKey"].as_str().is_some_and(|key| key.chars().count() > MAX_THREAD_KEY_CHARS) {
        problems.push("threadKey over 4,000 characters".into());
    }
    let mut links = 0;
    walk(body, "", &mut problems, &mut links);
    if links > 1 {
        problems.push(format!("{links} links; delibird's card has one"));
    }
    problems
}

fn walk(node: &Value, path: &str, problems: &mut Vec<String>, links: &mut usize) {
    match node {
        Value::Object(map) => {
            for (key, value) in map {
                let here = format!("{path}/{key}");
                match value {
                    Value::String(text) => string_field(&here, key, text, problems, links),
                    other => walk(other, &here, problems, links),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{path}/{i}"), problems, links);
            }
        }
        _ => {}
    }
}

fn string_field(path: &str, key: &str, text: &str, problems: &mut Vec<String>, links: &mut usize) {
    let parent = path.rsplit('/').nth(1).unwrap_or("");
    let html = match (parent, key) {
        ("textParagraph", "text") | ("decoratedText", "text" | "topLabel" | "bottomLabel") => true,
        (_, "header") if path.contains("/sections/") => true,
        _ => false,
    };
    if key == "url" || key.ends_with("Url") {
        *links += 1;
        if let Some(problem) = foreign_link(text) {
            problems.push(format!("{path}: {problem}"));
        }
    }
    if key == "threadKey" {
        // Not shown to people; Chat takes any text up to its length limit.
        return;
    }
    let controls = |c: char| (c.is_control() && c != '\n' && c != '\t') || is_direction_control(c);
    if let Some(c) = text.chars().find(|&c| controls(c)) {
        problems.push(format!("{path}: control or direction character U+{:04X}", u32::from(c)));
    }
    if html {
        problems.extend(markup_problems(text).into_iter().map(|problem| format!("{path}: {problem}")));
    } else if text.contains('\n') && matches!(key, "title" | "subtitle" | "fallbackText") {
        problems.push(format!("{path}: a line break in a one-line plain-text field"));
    }
}

/// Why `url` is not the Health dashboard link to an event, if it is not.
fn foreign_link(url: &str) -> Option<String> {
    let encoded = HEALTH_LINKS.iter().find_map(|link| url.strip_prefix(link));
    let Some(encoded) = encoded.and_then(|rest| rest.strip_suffix(HEALTH_LINK_END)) else {
        return Some(format!("a link that is not delibird's Health button: {url:.200}"));
    };
    let form_urlencoded = |c: char| c.is_ascii_alphanumeric() || "%*-._+".contains(c);
    (!encoded.chars().all(form_urlencoded))
        .then(|| format!("the event id in the Health link is not encoded: {url:.200}"))
}

/// Why an HTML field holds markup that is not delibird's own, if it does: every tag must be one
/// delibird writes, tags must nest, and text between them must be escaped.
pub fn markup_problems(html: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut open: Vec<&str> = Vec::new();
    let mut rest = html;
    while !rest.is_empty() {
        let Some(start) = rest.find(['<', '>', '&']) else { break };
        let from = &rest[start..];
        match from.as_bytes()[0] {
            b'<' => {
                let Some(end) = from.find('>') else {
                    problems.push(format!("unescaped '<' in {:.80}", from));
                    break;
                };
                let tag = &from[..=end];
                match own_tag(tag) {
                    Some(Tag::Open(name)) => open.push(name),
                    Some(Tag::Close(name)) => {
                        if open.pop() != Some(name) {
                            problems.push(format!("{tag} closes nothing delibird opened"));
                        }
                    }
                    Some(Tag::Void) => {}
                    None => problems.push(format!("foreign markup {tag:.120}")),
                }
                rest = &from[end + 1..];
            }
            b'>' => {
                problems.push(format!("unescaped '>' in {:.80}", from));
                rest = &from[1..];
            }
            _ => {
                if !OWN_ENTITIES.iter().any(|entity| from.starts_with(entity)) {
                    problems.push(format!("'&' that is not an escape delibird wrote: {:.40}", from));
                }
                rest = &from[1..];
            }
        }
    }
    if !open.is_empty() {
        problems.push(format!("unclosed {open:?}"));
    }
    problems
}

enum Tag {
    Open(&'static str),
    Close(&'static str),
    Void,
}

fn own_tag(tag: &str) -> Option<Tag> {
    if let Some(colour) = tag.strip_prefix("<font color=\"").and_then(|rest| rest.strip_suffix("\">")) {
        let severities = [Severity::Info, Severity::Warning, Severity::High, Severity::Critical];
        return severities.iter().any(|severity| severity.colour() == colour).then_some(Tag::Open("font"));
    }
    if !OWN_TAGS.contains(&tag) {
        return None;
    }
    Some(match tag {
        "<br>" => Tag::Void,
        "<b>" => Tag::Open("b"),
        "<i>" => Tag::Open("i"),
        "<code>" => Tag::Open("code"),
        "</b>" => Tag::Close("b"),
        "</i>" => Tag::Close("i"),
        "</code>" => Tag::Close("code"),
        _ => Tag::Close("font"),
    })
}

/// Panics with every problem when a body breaks the rules above.
#[track_caller]
pub fn assert_safe(body: &Value) {
    let problems = problems(body);
    assert!(problems.is_empty(), "unsafe card:\n  {}\nbody: {:.3000}", problems.join("\n  "), body.to_string());
}
