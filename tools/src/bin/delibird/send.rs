//! `delibird render`, `delibird send` and `delibird redrive`.

use std::io::Write;
use std::path::PathBuf;

use delibird::accounts::{AccountDirectory, Layered, Organizations, enrich};
use delibird::card::{CardSettings, event_title};
use delibird::chat::{self, wire::Message};
use delibird::config::{Config, Webhook};
use delibird::deps::Deps;
use delibird::envelope::Record;
use delibird::handler::{Invocation, Outcome, Posting, run};
use delibird::health::{self, Checked, ValidationErrors};
use delibird::kept::Kept;
use lambda_runtime::Context;

use crate::Status;
use crate::inputs::{Input, read_all};

/// Prints one webhook body per event as JSON Lines.
pub async fn render(files: &[PathBuf]) -> Status {
    let config = match Config::from_env(Webhook::Ignored) {
        Ok(config) => config,
        Err(error) => return usage(&error.to_string()),
    };
    let organizations = organizations(&config).await;
    let directory = Layered { first: &config.aliases, then: organizations.as_ref() };
    let mut status = Status::Ok;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for input in read_all(files) {
        let Some(records) = usable(&input, &mut status) else { continue };
        for record in records {
            let Some(message) = card_of(&input.name, record, &directory, &config.card, &mut status).await else {
                continue;
            };
            let line = serde_json::to_string(&message).expect("a Message always serializes");
            if writeln!(out, "{line}").is_err() {
                return status.max(Status::Unusable);
            }
        }
    }
    status
}

/// The AWS Organizations directory, when configuration asks for one.
pub async fn organizations(config: &Config) -> Option<Organizations> {
    let lookup = config.organizations.as_ref()?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    Some(Organizations::new(&sdk, lookup.role_arn.as_deref(), lookup.settings.clone()).await)
}

/// The card of one record, as `render` makes it: every validation error goes to stderr and raises
/// `status`; `None` when the record holds no event.
pub async fn card_of(
    name: &str,
    record: &Record,
    directory: &impl AccountDirectory,
    card: &CardSettings,
    status: &mut Status,
) -> Option<Message> {
    let raw = match &record.event {
        Ok(raw) => raw,
        Err(error) => {
            eprintln!("delibird: {name}: {error}");
            *status = (*status).max(Status::Unusable);
            return None;
        }
    };
    let Checked { event, problems } = health::check(raw);
    if let Some(problems) = &problems {
        report(name, record, problems);
        *status = (*status).max(Status::Invalid);
    }
    let enriched = enrich(event, directory).await;
    Some(chat::message(&enriched, problems.as_ref(), card))
}

/// Renders and posts every event, one outcome line each on stdout.
pub async fn send(files: &[PathBuf], webhook_url: &str) -> Status {
    let mut config = match Config::from_env(Webhook::Optional) {
        Ok(config) => config,
        Err(error) => return usage(&error.to_string()),
    };
    let webhook = match chat::webhook(webhook_url, config.allow_loopback) {
        Ok(webhook) => webhook,
        Err(error) => return usage(&format!("--webhook-url: {error}")),
    };
    config.webhook = Some(Kept::Url(webhook));
    let deps = match Deps::start(config, &|name| std::env::var(name).ok()).await {
        Ok(deps) => deps,
        Err(error) => return usage(&delibird::logging::chain(&error)),
    };
    let mut status = Status::Ok;
    for input in read_all(files) {
        let Some(records) = usable(&input, &mut status) else { continue };
        let invocation = Invocation::of(&Context::default(), deps.retry.deadline_margin);
        let (outcomes, _) = run(records, &deps, &invocation).await;
        for (record, outcome) in records.iter().zip(&outcomes) {
            let title = record.event.as_ref().ok().map(|raw| event_title(&health::check(raw).event));
            let title = title.unwrap_or_default();
            let (name, location) = (&input.name, &record.location);
            match outcome {
                Outcome::Sent { problems, sent, .. } => {
                    if let Some(problems) = problems {
                        report(name, record, problems);
                        status = status.max(Status::Invalid);
                    }
                    for sent in sent {
                        // The space, when the record went to several.
                        let space = if outcome.postings().len() > 1 {
                            format!("\tspace={}", sent.space)
                        } else {
                            String::new()
                        };
                        match &sent.posting {
                            Posting::Posted(delivery) => {
                                let kind = if problems.is_some() { "posted-degraded" } else { "posted" };
                                let thread = delivery.thread_name.as_deref().unwrap_or("-");
                                let attempts = delivery.attempts;
                                println!(
                                    "{kind}\t{name}\t{location}\t{title}\tthread={thread}\tattempts={attempts}{space}"
                                );
                            }
                            Posting::Duplicate => println!("duplicate\t{name}\t{location}\t{title}{space}"),
                            Posting::Undelivered(error) => {
                                println!("failed\t{name}\t{location}\t{title}\t{error}{space}");
                                status = status.max(Status::Undelivered);
                            }
                            Posting::Held | Posting::Postponed => {
                                println!("failed\t{name}\t{location}\t{title}\tleft for a retry{space}");
                                status = status.max(Status::Undelivered);
                            }
                        }
                    }
                }
                Outcome::Folded => println!("folded-page\t{name}\t{location}\t{title}"),
                Outcome::Dropped { .. } => println!("dropped\t{name}\t{location}\t{title}"),
                Outcome::Unusable(error) => {
                    println!("unusable\t{name}\t{location}\t{error}");
                    status = status.max(Status::Unusable);
                }
            }
        }
    }
    status
}

/// The input's records, or `None` after reporting why it is unusable.
pub fn usable<'a>(input: &'a Input, status: &mut Status) -> Option<&'a [Record]> {
    match &input.records {
        Ok(records) => Some(records),
        Err(error) => {
            eprintln!("delibird: {}: {error}", input.name);
            *status = (*status).max(Status::Unusable);
            None
        }
    }
}

/// Every validation error on stderr: `file: record location → field path: problem`.
fn report(name: &str, record: &Record, problems: &ValidationErrors) {
    for error in problems.errors() {
        let location = if record.location.is_root() { String::new() } else { format!("{} → ", record.location) };
        eprintln!("delibird: {name}: {location}{error}");
    }
}

fn usage(message: &str) -> Status {
    eprintln!("delibird: {message}");
    Status::Unusable
}

/// Replays a dead-letter queue: one summary line on stdout.
pub async fn redrive(queue_url: &str, max_messages: usize) -> Status {
    let config = match Config::from_env(Webhook::Required) {
        Ok(config) => config,
        Err(error) => return usage(&error.to_string()),
    };
    let deps = match Deps::start(config, &|name| std::env::var(name).ok()).await {
        Ok(deps) => deps,
        Err(error) => return usage(&delibird::logging::chain(&error)),
    };
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    match delibird::redrive::redrive(&aws_sdk_sqs::Client::new(&sdk), queue_url, &deps, max_messages).await {
        Ok(done) => {
            println!(
                "redrive: {} message(s) read, {} deleted, {} left in the queue; {} card(s) posted, {} duplicate(s) skipped",
                done.messages, done.deleted, done.left, done.posted, done.duplicates
            );
            if done.left > 0 { Status::Undelivered } else { Status::Ok }
        }
        Err(error) => usage(&delibird::logging::chain(&error)),
    }
}
