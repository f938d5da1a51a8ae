//! `delibird preview`: a static HTML page showing cards as Google Chat shows them.
//!
//! Inputs are Health events in any envelope delibird accepts (rendered exactly as `render` does,
//! the AWS CLI's `describe-affected-entities` output joined to its events in other inputs) or
//! webhook bodies (one JSON body, a JSON array of them, or JSON Lines as `render` prints and
//! the demo writes to `messages.jsonl`); each input is told apart by its content.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use delibird::accounts::Layered;
use delibird::card::Clock;
use delibird::config::{Config, Webhook};
use serde_json::Value;

use crate::Status;
use crate::inputs::{self, Input};
use crate::send::{card_of, organizations, usable};

/// The page's file name in the output directory.
pub const PAGE: &str = "preview.html";

/// Writes `out/preview.html` for every body found or rendered and prints its path.
pub async fn run(files: &[PathBuf], out: &Path, now: Option<DateTime<Utc>>) -> Status {
    let mut config = match Config::from_env(Webhook::Ignored) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("delibird: {error}");
            return Status::Unusable;
        }
    };
    if let Some(now) = now {
        config.card.clock = Clock::Fixed(now);
    }
    let organizations = organizations(&config).await;
    let directory = Layered { first: &config.aliases, then: organizations.as_ref() };

    let mut status = Status::Ok;
    let mut bodies: Vec<(String, Value)> = Vec::new();
    // Webhook bodies are drawn as they are; the rest are events, parsed together so that the AWS
    // CLI's affected entities (`details.json entities.json`) join their events as `render` joins
    // them. Both in the order given.
    // Each input in order: its name and webhook bodies, or `None` for the next input of events.
    let mut order: Vec<Option<Bodies>> = Vec::new();
    let mut events = Vec::new();
    for path in inputs::paths(files) {
        let (name, bytes) = inputs::read(&path);
        match bytes.as_deref().ok().and_then(webhook_bodies) {
            Some(found) => order.push(Some((name, found))),
            None => {
                events.push((name, bytes));
                order.push(None);
            }
        }
    }
    let mut parsed = inputs::parse_all(events).into_iter();
    for bodies_or_events in order {
        let input: Input = match bodies_or_events {
            Some((name, found)) => {
                bodies.extend(found.into_iter().map(|(at, body)| (format!("{name}{at}"), body)));
                continue;
            }
            None => parsed.next().expect("one parsed input per input of events"),
        };
        let Some(records) = usable(&input, &mut status) else { continue };
        for record in records {
            let Some(message) = card_of(&input.name, record, &directory, &config.card, &mut status).await else {
                continue;
            };
            let label = if record.location.is_root() {
                input.name.clone()
            } else {
                format!("{} · {}", input.name, record.location)
            };
            bodies.push((label, serde_json::to_value(&message).expect("a Message always serializes")));
        }
    }

    match write(out, &bodies) {
        Ok(page) => {
            println!("{} ({} message{})", page.display(), bodies.len(), if bodies.len() == 1 { "" } else { "s" });
            status
        }
        Err(error) => {
            eprintln!("delibird: {}: {error}", out.display());
            Status::Unusable
        }
    }
}

/// An input of webhook bodies: its name, and each body with where it was in it.
type Bodies = (String, Vec<(String, Value)>);

/// Writes the page for `bodies` into `out` and returns its path.
pub fn write(out: &Path, bodies: &[(String, Value)]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(out)?;
    let page = out.join(PAGE);
    std::fs::write(&page, delibird_tools::preview::page(bodies))?;
    Ok(page)
}

/// The webhook bodies `bytes` holds, each with where it was (`:3` for a line, `[2]` for an array
/// element), or `None` when it holds something else (Health events, for one).
fn webhook_bodies(bytes: &[u8]) -> Option<Vec<(String, Value)>> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Array(items)) if !items.is_empty() && items.iter().all(is_body) => {
            Some(items.into_iter().enumerate().map(|(i, body)| (format!("[{i}]"), body)).collect())
        }
        Ok(value) if is_body(&value) => Some(vec![(String::new(), value)]),
        Ok(_) => None,
        Err(_) => {
            let text = std::str::from_utf8(bytes).ok()?;
            let lines = text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty());
            let bodies: Vec<(String, Value)> = lines
                .map(|(i, line)| {
                    serde_json::from_str(line).ok().filter(is_body).map(|body| (format!(":{}", i + 1), body))
                })
                .collect::<Option<_>>()?;
            (!bodies.is_empty()).then_some(bodies)
        }
    }
}

/// A Chat message rather than an event or an envelope: it has cards or text, and none of the
/// members that events (`detail`, `Detail`) and envelopes (`Records`, `Message`) have.
fn is_body(value: &Value) -> bool {
    let Some(object) = value.as_object() else { return false };
    ["cardsV2", "cards", "text"].iter().any(|key| object.contains_key(*key))
        && !["detail", "Detail", "Records", "Message"].iter().any(|key| object.contains_key(*key))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn one_body_is_a_body() {
        let found = webhook_bodies(br#"{"cardsV2": [], "thread": {"threadKey": "k"}}"#).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "");
    }

    #[test]
    fn json_lines_of_bodies_are_bodies_labelled_by_line() {
        let text = format!("{}\n\n{}\n", json!({"cardsV2": []}), json!({"text": "hi"}));
        let labels: Vec<String> = webhook_bodies(text.as_bytes()).unwrap().into_iter().map(|(at, _)| at).collect();
        assert_eq!(labels, [":1", ":3"]);
    }

    #[test]
    fn events_and_envelopes_are_not_bodies() {
        assert!(webhook_bodies(br#"{"detail": {"eventArn": "x"}, "text": "x"}"#).is_none());
        assert!(webhook_bodies(br#"{"Records": []}"#).is_none());
        assert!(webhook_bodies(br#"[{"detail": {}}]"#).is_none());
        assert!(webhook_bodies(b"{\"cardsV2\": []}\nnot json\n").is_none());
    }
}
