//! `delibird route`: the routing rules' dry run. It shows which rules each event matches and where
//! it would go, posting nothing; and first, unless told not to, it checks that every webhook the
//! rules name (and the environment's `default`) can be had where it runs — the `env:` variables
//! set, the SSM parameters and secrets readable — as the Lambda must at start, so that rules that
//! would stop the Lambda stop here. It never prints a URL.

use std::path::PathBuf;

use delibird::chat::GoogleChat;
use delibird::config::{Config, Webhook};
use delibird::kept::Kept;
use delibird::logging::chain;
use delibird::rules::{Context, DEFAULT_WEBHOOK, RuleSet};
use delibird::spaces::{self, Sources, WebhookError};
use serde_json::json;

use crate::Status;
use crate::query::{Viewed, usage, views};

/// Whether `route` checks the webhooks before it routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookCheck {
    /// Resolve every webhook first; exit 2 naming each that cannot be had.
    Resolve,
    /// Only the matching (`--no-webhook-check`).
    Skip,
}

/// Shows the rules each event matches and the webhooks it would go to, after checking that
/// every webhook can be resolved here (unless `check` says to skip it).
pub async fn route(rules: &str, files: &[PathBuf], json: bool, check: WebhookCheck) -> Status {
    let webhook = if check == WebhookCheck::Resolve { Webhook::Optional } else { Webhook::Ignored };
    let config = match Config::from_env(webhook) {
        Ok(config) => config,
        Err(error) => return usage(&error.to_string()),
    };
    let rule_set = match load(rules, &config).await {
        Ok(rule_set) => rule_set,
        Err(status) => return status,
    };
    if check == WebhookCheck::Resolve {
        let unresolved = unresolved(&rule_set, &config).await;
        if !unresolved.is_empty() {
            for problem in &unresolved {
                eprintln!("delibird: {rules}: {problem}");
            }
            eprintln!(
                "delibird: {rules}: the Lambda would not start with {} here; --no-webhook-check shows the \
                 matching alone",
                if unresolved.len() == 1 { "this webhook" } else { "these webhooks" }
            );
            return Status::Unusable;
        }
    }
    let mut status = Status::Ok;
    let viewed = views(files, &config, &mut status).await;
    for Viewed { input, location, view, .. } in &viewed {
        let matched = rule_set.route(view);
        let title = view["delibird"]["title"].as_str().unwrap_or_default();
        let line = if json {
            json!({"input": input, "location": location, "title": title, "rules": matched.rules,
                   "webhooks": matched.webhooks, "unmatched": matched.unmatched, "digest_only": matched.digest_only})
            .to_string()
        } else {
            let kind = match (matched.webhooks.is_empty(), matched.unmatched) {
                (true, _) => "dropped",
                (false, true) => "unmatched",
                (false, false) => "routed",
            };
            let digest_only = if matched.digest_only.is_empty() {
                String::new()
            } else {
                format!("\tdigest_only={}", matched.digest_only.join(","))
            };
            format!(
                "{kind}\t{input}\t{location}\t{title}\trules={}\twebhooks={}{digest_only}",
                matched.rules.join(","),
                matched.webhooks.join(",")
            )
        };
        println!("{line}");
    }
    status
}

/// The rules in `rules` (a file, or `ssm:/parameter/name`), as the Lambda reads them; each error
/// is printed, located, and the status is 2.
pub async fn load(rules: &str, config: &Config) -> Result<RuleSet, Status> {
    let text = match rules.trim().strip_prefix("ssm:") {
        Some(name) => {
            let sdk = delibird::deps::aws_sdk(None).await;
            delibird::secret::ssm_text(name, &sdk).await.map_err(|error| chain(&error))
        }
        None => std::fs::read_to_string(rules).map_err(|error| format!("cannot read: {error}")),
    };
    let text = text.map_err(|error| usage(&format!("{rules}: {error}")))?;
    let default_webhook = ["DELIBIRD_WEBHOOK_URL", "DELIBIRD_WEBHOOK_SECRET"]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|value| !value.trim().is_empty()));
    let tags = config.organizations.as_ref().map_or(&[][..], |lookup| &lookup.settings.tag_keys[..]);
    RuleSet::parse(&text, &Context { default_webhook, account_tags: Some(tags) }).map_err(|errors| {
        for error in errors.0 {
            eprintln!("delibird: {rules}: {error}");
        }
        Status::Unusable
    })
}

/// Each webhook, by name, whose URL cannot be had here, as the Lambda resolves them at start
/// ([`delibird::deps::Deps::start`]): the environment's `default` (when set), then every one the
/// rules name, from this process's environment and, when some are kept there, AWS.
async fn unresolved(rules: &RuleSet, config: &Config) -> Vec<String> {
    let needs_aws = rules.needs_aws() || config.webhook.as_ref().is_some_and(Kept::is_aws);
    let sdk = if needs_aws { Some(delibird::deps::aws_sdk(None).await) } else { None };
    let env = |name: &str| std::env::var(name).ok();
    let sources = Sources { env: &env, sdk: sdk.as_ref(), allow_loopback: config.allow_loopback };
    let mut problems = Vec::new();
    let default = match &config.webhook {
        None => None,
        Some(kept) => match spaces::resolve(kept, &GoogleChat, sources).await {
            Ok(url) => Some(url),
            Err(error) => {
                problems.push(chain(&WebhookError { webhook: DEFAULT_WEBHOOK.to_owned(), error }));
                None
            }
        },
    };
    if let Err(errors) = spaces::resolve_all(rules, default.as_ref(), &GoogleChat, sources).await {
        // A `default` that failed above is not "unset" as well.
        let default_failed = !problems.is_empty();
        let rest = errors.0.iter().filter(|error| !(default_failed && error.webhook == DEFAULT_WEBHOOK));
        problems.extend(rest.map(|error| chain(error)));
    }
    problems
}
