//! `delibird render`, `delibird send` and `delibird redrive`.
//!
//! `send` takes the Lambda's path: its configuration is the Lambda's (with `--webhook-url` as
//! `DELIBIRD_WEBHOOK_URL` and `--rules` as `DELIBIRD_RULES`), its dependencies are built by
//! [`Deps::start`] (so `env:` webhooks come from this process's environment), and its records run
//! through the handler's [`run`].

use std::io::Write;
use std::path::PathBuf;

use delibird::accounts::{AccountDirectory, EveryOrganization, Layered, enrich};
use delibird::card::{CardSettings, event_title};
use delibird::chat::{self, wire::Message};
use delibird::config::{Config, Webhook};
use delibird::deps::Deps;
use delibird::envelope::Record;
use delibird::handler::{DEFAULT_BUDGET, Invocation, Outcome, Posting, run};
use delibird::health::{self, Checked, ValidationErrors};
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

/// The AWS Organizations directory (every organization's), when configuration asks for one.
pub async fn organizations(config: &Config) -> Option<EveryOrganization> {
    let lookup = config.organizations.as_ref()?;
    let sdk = delibird::deps::aws_sdk(None).await;
    Some(EveryOrganization::new(&sdk, &lookup.role_arns, &lookup.settings).await)
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

/// What `send` says when it has nowhere to post, before reading anything or making a request.
pub const NO_WEBHOOK: &str = "send: nowhere to post: give --webhook-url URL (or set DELIBIRD_WEBHOOK_URL, or \
                              DELIBIRD_WEBHOOK_SECRET), or routing rules naming the webhooks with --rules FILE \
                              (or DELIBIRD_RULES)";

/// Renders and posts every event where the Lambda would: to `webhook_url`, or where the routing
/// `rules` (a file, or `ssm:/name`) send it; one outcome line per record and space on stdout.
pub async fn send(files: &[PathBuf], webhook_url: Option<&str>, rules: Option<&str>) -> Status {
    let (webhook_url, rules) = (given(webhook_url), given(rules));
    let secret = std::env::var("DELIBIRD_WEBHOOK_SECRET").is_ok_and(|value| !value.trim().is_empty());
    if webhook_url.is_none() && rules.is_none() && !secret {
        return usage(NO_WEBHOOK);
    }
    let flags = [("DELIBIRD_WEBHOOK_URL", webhook_url), ("DELIBIRD_RULES", rules)];
    let config = match Config::from_env_with(&flags, Webhook::Required) {
        Ok(config) => config,
        Err(error) => return usage(&error.to_string()),
    };
    let deps = match Deps::start(config, &|name| std::env::var(name).ok()).await {
        Ok(deps) => deps,
        Err(error) => return usage(&delibird::logging::chain(&error)),
    };
    let mut status = Status::Ok;
    for input in read_all(files) {
        let Some(records) = usable(&input, &mut status) else { continue };
        let invocation = Invocation::of(&context_for(records.len(), &deps), deps.retry.deadline_margin);
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
                        // The space, when rules route or the record went to several.
                        let space = if deps.spaces.rules().is_some() || outcome.postings().len() > 1 {
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
                            Posting::Included => println!("rolled-up\t{name}\t{location}\t{title}{space}"),
                            Posting::Duplicate => println!("duplicate\t{name}\t{location}\t{title}{space}"),
                            Posting::Digest => println!("digest-only\t{name}\t{location}\t{title}{space}"),
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

/// The time `send` gives one file: the Lambda's default budget, and a send slot in every space for
/// each of its records, so that a storm's file is posted at Chat's pace to its end rather than cut
/// off after a minute (the Lambda's own invocations are bounded by its timeout instead).
fn context_for(records: usize, deps: &Deps) -> Context {
    let interval = deps.spaces.iter().map(|space| space.pacer.interval()).sum::<std::time::Duration>();
    let budget = DEFAULT_BUDGET + interval.saturating_mul(u32::try_from(records).unwrap_or(u32::MAX));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let mut context = Context::default();
    context.deadline = u64::try_from((now + budget).as_millis()).unwrap_or(u64::MAX);
    context
}

/// A flag's value, `None` when blank (as a blank variable is unset).
fn given(value: Option<&str>) -> Option<&str> {
    value.filter(|value| !value.trim().is_empty())
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

/// Replays a dead-letter queue: one summary line on stdout. The queue's Region is the one its
/// URL names when `AWS_REGION` (or `AWS_DEFAULT_REGION`) is unset.
pub async fn redrive(queue_url: &str, max_messages: usize) -> Status {
    let queue = match QueueUrl::parse(queue_url) {
        Ok(queue) => queue,
        Err(problem) => return usage(&format!("--queue-url: {problem}")),
    };
    let config = match Config::from_env(Webhook::Required) {
        Ok(config) => config,
        Err(error) => return usage(&error.to_string()),
    };
    let set = ["AWS_REGION", "AWS_DEFAULT_REGION"].iter().find_map(|name| std::env::var(name).ok());
    let region = match (set, &queue.region) {
        (None, Some(region)) => Some(region.as_str()),
        (Some(set), Some(region)) if &set != region => {
            eprintln!("delibird: AWS_REGION is {set}, but the queue's URL is in {region}: asking {set}");
            None
        }
        _ => None,
    };
    // One AWS configuration, in the queue's Region, for the queue and everything the Lambda's
    // configuration reads (the dedup table, the webhook's secret, rules in SSM).
    let sdk = delibird::deps::aws_sdk(region).await;
    let deps = match Deps::start_with(config, &|name| std::env::var(name).ok(), Some(&sdk)).await {
        Ok(deps) => deps,
        Err(error) => return usage(&delibird::logging::chain(&error)),
    };
    match delibird::redrive::redrive(&aws_sdk_sqs::Client::new(&sdk), &queue.url, &deps, max_messages).await {
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

/// A queue's URL, and the Region it names when it is one of AWS's forms.
#[derive(Debug, PartialEq, Eq)]
struct QueueUrl {
    url: String,
    region: Option<String>,
}

/// What `--queue-url` takes, for the message when it is something else.
const QUEUE_URL_FORM: &str = "https://sqs.REGION.amazonaws.com/ACCOUNT/NAME \
                              (`aws sqs get-queue-url --queue-name NAME` prints it)";

impl QueueUrl {
    /// An http(s) URL whose path is `/ACCOUNT/NAME`; the Region from the host's
    /// `sqs.REGION.amazonaws.com`, `sqs.REGION.amazonaws.com.cn`, `REGION.queue.amazonaws.com` or
    /// `vpce-….sqs.REGION.vpce.amazonaws.com` (none for another host: an emulator, a proxy).
    fn parse(text: &str) -> Result<Self, String> {
        let expected = |found: &str| format!("expected the queue's URL, {QUEUE_URL_FORM}, found {found:?}");
        let shown: String = text.chars().take(80).collect();
        let Ok(url) = url::Url::parse(text.trim()) else { return Err(expected(&shown)) };
        let path: Vec<&str> = url.path().trim_matches('/').split('/').collect();
        let (Some(host), true, [account, name]) =
            (url.host_str(), matches!(url.scheme(), "https" | "http"), path.as_slice())
        else {
            return Err(expected(&shown));
        };
        if account.is_empty() || name.is_empty() {
            return Err(expected(&shown));
        }
        let labels: Vec<&str> = host.split('.').collect();
        let region = match labels.as_slice() {
            ["sqs", region, "amazonaws", "com"] | ["sqs", region, "amazonaws", "com", "cn"] => Some(*region),
            [region, "queue", "amazonaws", "com"] => Some(*region),
            [vpce, "sqs", region, "vpce", "amazonaws", "com"] if vpce.starts_with("vpce-") => Some(*region),
            _ => None,
        };
        Ok(Self { url: text.trim().to_owned(), region: region.map(str::to_owned) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region_of(url: &str) -> Option<String> {
        QueueUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}")).region
    }

    #[test]
    fn the_region_is_read_from_every_form_of_an_sqs_url() {
        assert_eq!(
            region_of("https://sqs.eu-west-1.amazonaws.com/111122223333/delibird-dlq").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            region_of("https://sqs.cn-north-1.amazonaws.com.cn/111122223333/dlq").as_deref(),
            Some("cn-north-1")
        );
        assert_eq!(region_of("https://us-west-2.queue.amazonaws.com/111122223333/dlq").as_deref(), Some("us-west-2"));
        assert_eq!(
            region_of("https://vpce-0abc-1def.sqs.ap-southeast-2.vpce.amazonaws.com/111122223333/dlq").as_deref(),
            Some("ap-southeast-2")
        );
        assert_eq!(region_of("http://127.0.0.1:5000/123456789012/dlq"), None, "an emulator names none");
    }

    #[test]
    fn a_queue_name_or_arn_is_refused_naming_the_form_expected() {
        for text in [
            "delibird-dlq",
            "arn:aws:sqs:eu-west-1:111122223333:delibird-dlq",
            "https://sqs.eu-west-1.amazonaws.com/dlq",
        ] {
            let problem = QueueUrl::parse(text).unwrap_err();
            assert!(
                problem.starts_with("expected the queue's URL, https://sqs.REGION.amazonaws.com/ACCOUNT/NAME"),
                "{problem}"
            );
            assert!(problem.ends_with(&format!("found {text:?}")), "{problem}");
        }
    }
}
