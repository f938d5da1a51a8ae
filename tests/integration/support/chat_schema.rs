//! Is a body one Google Chat would accept? Google's `Message` schema (vendored in
//! `schema/message.schema.json`, unknown fields rejected) plus the rules Google states in prose,
//! the same checks as `shared/google-chat/validate-chat-message`.

use std::sync::OnceLock;

use serde_json::Value;

const KNOWN_ICONS: &[&str] = &[
    "AIRPLANE",
    "BOOKMARK",
    "BUS",
    "CAR",
    "CLOCK",
    "CONFIRMATION_NUMBER_ICON",
    "DESCRIPTION",
    "DOLLAR",
    "EMAIL",
    "EVENT_SEAT",
    "FLIGHT_ARRIVAL",
    "FLIGHT_DEPARTURE",
    "HOTEL",
    "HOTEL_ROOM_TYPE",
    "INVITE",
    "MAP_PIN",
    "MEMBERSHIP",
    "MULTIPLE_PEOPLE",
    "PERSON",
    "PHONE",
    "RESTAURANT_ICON",
    "SHOPPING_CART",
    "STAR",
    "STORE",
    "TICKET",
    "TRAIN",
    "VIDEO_CAMERA",
    "VIDEO_PLAY",
];

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        // Relative to this file, which the command line's tests include too.
        let schema: Value = serde_json::from_str(include_str!("../../../schema/message.schema.json")).unwrap();
        let mut root = schema.clone();
        root["$ref"] = Value::String("#/definitions/Message".into());
        jsonschema::draft7::new(&root).expect("the vendored schema compiles")
    })
}

/// Every reason Google would refuse `body`; empty when it would accept it.
pub fn problems(body: &Value) -> Vec<String> {
    let mut problems: Vec<String> =
        validator().iter_errors(body).map(|e| format!("{}: {}", e.instance_path(), e)).collect();
    let size = serde_json::to_vec(body).unwrap().len();
    if size > 32_000 {
        problems.push(format!("message is {size} bytes > 32000"));
    }
    for (i, card) in body["cardsV2"].as_array().into_iter().flatten().enumerate() {
        let widgets: usize = card["card"]["sections"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| s["widgets"].as_array().map_or(0, Vec::len))
            .sum();
        if widgets > 100 {
            problems.push(format!("card {i}: {widgets} widgets > 100"));
        }
        if card["card"]["header"].is_object()
            && card["card"]["header"]["title"].as_str().is_none_or(|t| t.trim().is_empty())
        {
            problems.push(format!("card {i}: header title is required"));
        }
    }
    for key in ["text", "fallbackText"] {
        if body[key].as_str().is_some_and(|t| t.chars().count() > 4_096) {
            problems.push(format!("{key} over 4096 characters"));
        }
    }
    if body.get("cardsV2").is_none() && body.get("text").is_none() {
        problems.push("neither text nor cardsV2".into());
    }
    walk(body, "", &mut problems);
    problems
}

fn walk(node: &Value, path: &str, problems: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            if let Some(icon) = map.get("knownIcon").and_then(Value::as_str)
                && !KNOWN_ICONS.contains(&icon)
            {
                problems.push(format!("{path}: unknown knownIcon {icon}"));
            }
            if path.ends_with("/decoratedText")
                && map.get("text").and_then(Value::as_str).is_none_or(|t| t.trim().is_empty())
            {
                problems.push(format!("{path}: decoratedText without text"));
            }
            if path.ends_with("/textParagraph")
                && map.get("text").and_then(Value::as_str).is_none_or(|t| t.trim().is_empty())
            {
                problems.push(format!("{path}: empty textParagraph"));
            }
            if let Some(link) = map.get("openLink")
                && !link["url"].as_str().is_some_and(|u| u.starts_with("https://"))
            {
                problems.push(format!("{path}: openLink url not https"));
            }
            let is_button = path.rsplit('/').nth(1) == Some("buttons");
            if is_button && !map.contains_key("onClick") {
                problems.push(format!("{path}: button without onClick"));
            }
            let is_section = path.rsplit('/').nth(1) == Some("sections");
            if is_section && map.get("widgets").and_then(Value::as_array).is_none_or(Vec::is_empty) {
                problems.push(format!("{path}: section without widgets"));
            }
            for (key, value) in map {
                walk(value, &format!("{path}/{key}"), problems);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{path}/{i}"), problems);
            }
        }
        _ => {}
    }
}

/// Panics with every problem when Google would refuse `body`.
#[track_caller]
pub fn assert_accepted(body: &Value) {
    let problems = problems(body);
    assert!(problems.is_empty(), "Google Chat would refuse this body:\n  {}\nbody: {}", problems.join("\n  "), body);
}

/// Serializes a rendered message and checks it.
#[track_caller]
pub fn assert_message_accepted(message: &delibird::chat::wire::Message) -> Value {
    let body = serde_json::to_value(message).expect("serializes");
    assert_accepted(&body);
    body
}
