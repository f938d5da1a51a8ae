//! The Lambda handler: every record of an invocation through the pipeline, concurrently, one bad
//! record never stopping the others, one JSON log line per record.
//!
//! Per record: validate (or salvage, for a degraded card) → identify the notification update →
//! claim it in the dedup store (a duplicate stops here) → enrich → render → deliver (paced to the
//! webhook's rate) → confirm the claim, or release it when delivery failed.
//!
//! With routing rules ([`crate::rules`]), the event is routed before the claim (enriched first when
//! a rule reads `delibird.account.…`): each webhook it goes to is claimed, delivered and settled
//! on its own, with its own pacer, under its own dedup id, so an event routed to two spaces is
//! posted once in each and a retry posts only where it was not delivered. An event that goes
//! nowhere (no rule matched and unmatched events are dropped, or it matched only rules without
//! webhooks) is dropped, logged, and not a failure.
//!
//! What failure means depends on how the records came:
//! - **SQS** (`ReportBatchItemFailures`): the response lists the message ids of the records that
//!   failed; only those are redelivered, and after the queue's receive limit they move to its
//!   dead-letter queue. A message is acknowledged only once its card was accepted or recognised as
//!   a duplicate.
//! - **SNS and anything else**: the invocation returns `Err` when any record failed, so Lambda
//!   retries it (twice for asynchronous invocations) and then sends it to the on-failure
//!   destination. Records already posted are recognised as duplicates on the retry.
//!
//! A record fails when it holds no event or its card could not be delivered to one of its
//! webhooks. An event that fails validation is posted as a degraded card and is not a failure.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse};
use either::Either;
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use tokio::time::Instant;

use crate::accounts::{EnrichedEvent, Layered, Organizations, StaticAliases, enrich};
use crate::card::{CardSettings, render_body};
use crate::config::{Config, RulesConfig, WebhookSource};
use crate::dedup::{
    CLAIM_LEASE, Claim, DedupStore, DynamoStore, Folding, Identity, MemoryStore, Notification, Store, identify,
};
use crate::envelope::{self, EnvelopeError, Record, RecordError, Transport};
use crate::health::{self, ValidationErrors};
use crate::logging::chain;
use crate::rules::{self, Context as RulesContext, ResolveErrors, Router, RuleSet, RulesErrors};
use crate::secret::{self, SecretError};
use crate::webhook::{CHAT_INTERVAL, Delivery, DeliveryError, Pacer, RetryPolicy, WebhookUrl, deliver, http_client};

/// Validation errors a log line lists (with the count of the rest), and about how many characters
/// it gives them: the card and the dead-letter queue keep the event itself.
const LOGGED_ERRORS: usize = 20;
const LOGGED_ERRORS_CHARS: usize = 2_000;

/// Time allowed when the invocation has no deadline (a `Context::default()` in tests and the CLI).
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(60);

/// What the handler needs, built once at start and kept across warm invocations.
#[derive(Debug)]
pub struct Deps {
    /// The one HTTP client (connection pool) for every webhook.
    pub client: reqwest::Client,
    /// Where every card goes when there are no routing rules (`DELIBIRD_WEBHOOK_URL` or
    /// `DELIBIRD_WEBHOOK_SECRET`). `None` with rules: they hold every webhook, this one included
    /// as `default`.
    pub webhook: Option<WebhookUrl>,
    /// Spaces requests to `webhook` at Chat's rate.
    pub pacer: Pacer,
    /// Account names from configuration: they win.
    pub aliases: StaticAliases,
    /// Account names from AWS Organizations, when configured.
    pub organizations: Option<Organizations>,
    /// How cards look.
    pub card: CardSettings,
    /// How hard delivery tries.
    pub retry: RetryPolicy,
    /// Where delivered updates are remembered.
    pub dedup: Store,
    /// Whether backup-Region copies and later pages fold into one notification.
    pub folding: Folding,
    /// Routing rules and their webhooks (`DELIBIRD_RULES`); `None` sends every card to `webhook`.
    pub routing: Option<Router>,
}

/// Why the Lambda cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The webhook URL could not be fetched.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The rules kept in SSM do not compile.
    #[error("DELIBIRD_RULES: {origin}: {errors}")]
    Rules {
        /// Where the rules came from.
        origin: String,
        /// Every problem.
        errors: RulesErrors,
    },
    /// Some webhook the rules name could not be had.
    #[error("DELIBIRD_RULES: {0}")]
    Webhooks(#[from] ResolveErrors),
    /// Neither a webhook nor rules.
    #[error("DELIBIRD_WEBHOOK_URL: required (or DELIBIRD_WEBHOOK_SECRET, or DELIBIRD_RULES)")]
    NoWebhook,
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client")]
    Client(#[source] reqwest::Error),
}

impl Deps {
    /// Defaults for everything but the client and the webhook: Chat's pacing, no aliases,
    /// default cards and retries, an in-memory dedup store, folding on.
    pub fn new(client: reqwest::Client, webhook: WebhookUrl) -> Self {
        Self {
            client,
            webhook: Some(webhook),
            pacer: Pacer::new(CHAT_INTERVAL),
            aliases: StaticAliases::default(),
            organizations: None,
            card: CardSettings::default(),
            retry: RetryPolicy::default(),
            dedup: Store::Memory(MemoryStore::new()),
            folding: Folding::default(),
            routing: None,
        }
    }
}

impl Deps {
    /// Everything from configuration but the routing rules, every card to `webhook`: the DynamoDB
    /// dedup store when a table is named (the AWS SDK's standard settings apply), else memory.
    pub async fn from_config(config: Config, webhook: WebhookUrl) -> reqwest::Result<Self> {
        Self::assemble(config, Some(webhook), None).await
    }

    /// What the Lambda (and `delibird redrive`) run with: the webhook fetched when it is kept in
    /// SSM or Secrets Manager, the routing rules read (from SSM, when kept there) and every
    /// webhook they name resolved (`env:` through `env`), then [`Deps::from_config`]'s
    /// dependencies. AWS is configured from the environment, only when something needs it.
    pub async fn start(mut config: Config, env: &(dyn Fn(&str) -> Option<String> + Sync)) -> Result<Self, StartError> {
        let needs_aws = matches!(config.webhook, Some(WebhookSource::Ssm(_) | WebhookSource::SecretsManager(_)))
            || match &config.rules {
                Some(RulesConfig::Ssm(_)) => true,
                Some(RulesConfig::Loaded(rules)) => rules.needs_aws(),
                None => false,
            };
        let sdk =
            if needs_aws { Some(aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await) } else { None };
        let rules = config.rules.take();
        Self::start_with(config, rules, env, sdk.as_ref()).await
    }

    /// [`Deps::start`] with a given AWS configuration (tests point it at an emulator).
    pub async fn start_with(
        config: Config,
        rules: Option<RulesConfig>,
        env: &(dyn Fn(&str) -> Option<String> + Sync),
        sdk: Option<&aws_config::SdkConfig>,
    ) -> Result<Self, StartError> {
        let default = match (&config.webhook, sdk) {
            (None, _) => None,
            (Some(WebhookSource::Url(url)), _) => Some(url.clone()),
            (Some(source), Some(sdk)) => Some(secret::resolve_with(source, config.allow_loopback, sdk).await?),
            (Some(source), None) => Some(secret::resolve(source, config.allow_loopback).await?),
        };
        let rules = match rules {
            None => None,
            Some(RulesConfig::Loaded(rules)) => Some(rules),
            Some(RulesConfig::Ssm(name)) => {
                let text = match sdk {
                    Some(sdk) => secret::ssm_text(&name, sdk).await?,
                    None => {
                        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
                        secret::ssm_text(&name, &sdk).await?
                    }
                };
                let tags = config.organizations.as_ref().map_or(&[][..], |lookup| &lookup.settings.tag_keys[..]);
                let context = RulesContext { default_webhook: default.is_some(), account_tags: Some(tags) };
                let rules = RuleSet::parse(&text, &context)
                    .map_err(|errors| StartError::Rules { origin: format!("SSM parameter {name}"), errors })?;
                Some(rules)
            }
        };
        let routing = match rules {
            None => None,
            Some(rules) => {
                let urls = rules::resolve_webhooks(&rules, default.as_ref(), env, sdk, config.allow_loopback).await?;
                Some(Router::new(rules, &urls, config.webhook_interval)?)
            }
        };
        let webhook = match (&routing, default) {
            (Some(_), _) => None,
            (None, Some(url)) => Some(url),
            (None, None) => return Err(StartError::NoWebhook),
        };
        Self::assemble(config, webhook, routing).await.map_err(|error| StartError::Client(error.without_url()))
    }

    async fn assemble(config: Config, webhook: Option<WebhookUrl>, routing: Option<Router>) -> reqwest::Result<Self> {
        let sdk = match (&config.dedup_table, &config.organizations) {
            (None, None) => None,
            _ => Some(aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await),
        };
        let dedup = match (&config.dedup_table, &sdk) {
            (Some(table), Some(sdk)) => Store::Dynamo(DynamoStore::new(sdk, table, config.dedup_ttl)),
            _ => Store::Memory(MemoryStore::new()),
        };
        let organizations = match (&config.organizations, &sdk) {
            (Some(lookup), Some(sdk)) => {
                Some(Organizations::new(sdk, lookup.role_arn.as_deref(), lookup.settings.clone()).await)
            }
            _ => None,
        };
        Ok(Self {
            client: http_client(config.retry.request_timeout)?,
            webhook,
            pacer: Pacer::new(config.webhook_interval),
            aliases: config.aliases,
            organizations,
            card: config.card,
            retry: config.retry,
            dedup,
            folding: config.folding,
            routing,
        })
    }
}

impl Deps {
    /// The account directory: configured names first, then Organizations.
    pub fn directory(&self) -> Layered<'_, StaticAliases, Organizations> {
        Layered { first: &self.aliases, then: self.organizations.as_ref() }
    }

    /// Where cards go, for the start-up log line: each webhook's name and redacted URL, and the
    /// number of rules. Never a token.
    pub fn destinations(&self) -> String {
        match (&self.routing, &self.webhook) {
            (Some(router), _) => {
                let spaces: Vec<String> =
                    router.spaces().iter().map(|space| format!("{}={}", space.name, space.url)).collect();
                let unmatched = match &router.rules().unmatched {
                    rules::Unmatched::Webhook(name) => format!("unmatched → {name}"),
                    rules::Unmatched::Drop => "unmatched dropped".to_owned(),
                };
                format!("{} rule(s), {unmatched}; {}", router.rules().rules.len(), spaces.join(", "))
            }
            (None, Some(url)) => url.to_string(),
            (None, None) => "none".to_owned(),
        }
    }
}

/// What happened to one record.
#[derive(Debug)]
pub enum Outcome {
    /// The card was accepted by Chat; `problems` is set for a degraded card.
    Posted {
        /// The delivery.
        delivery: Delivery,
        /// What was wrong with the event, for a degraded card.
        problems: Option<ValidationErrors>,
    },
    /// This update was posted already, or is being posted by another invocation.
    Duplicate,
    /// A later page of a paginated event, folded into page 1's notification.
    Folded,
    /// The record holds no event.
    Unusable(RecordError),
    /// The card could not be delivered.
    Undelivered(DeliveryError),
    /// Routed by rules to no webhook: no rule matched and unmatched events are dropped, or the
    /// rules it matched (named here) have no webhooks.
    Dropped {
        /// The rules it matched.
        rules: Vec<String>,
    },
    /// Routed by rules: what happened at each webhook it went to.
    Routed {
        /// The rules it matched (none: it went to the default).
        rules: Vec<String>,
        /// What was wrong with the event, for a degraded card.
        problems: Option<ValidationErrors>,
        /// Each webhook's outcome, in the order the rules named them.
        sent: Vec<Sent>,
    },
}

/// What happened to a routed record at one webhook.
#[derive(Debug)]
pub struct Sent {
    /// The webhook's name.
    pub webhook: String,
    /// The outcome there.
    pub posting: Posting,
}

/// The outcome of one card at one webhook.
#[derive(Debug)]
pub enum Posting {
    /// Chat accepted it.
    Posted(Delivery),
    /// This update was posted there already, or is being posted by another invocation.
    Duplicate,
    /// It could not be delivered.
    Undelivered(DeliveryError),
}

impl Outcome {
    /// True when the record needs another try (or the dead-letter queue): it holds no event, or
    /// some webhook did not get its card.
    pub fn is_failure(&self) -> bool {
        match self {
            Self::Unusable(_) | Self::Undelivered(_) => true,
            Self::Routed { sent, .. } => sent.iter().any(|s| matches!(s.posting, Posting::Undelivered(_))),
            Self::Posted { .. } | Self::Duplicate | Self::Folded | Self::Dropped { .. } => false,
        }
    }

    /// True when some card of the record was not delivered.
    fn is_undelivered(&self) -> bool {
        matches!(self, Self::Undelivered(_) | Self::Routed { .. }) && self.is_failure()
    }
}

/// Counts of what an invocation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Records found.
    pub records: usize,
    /// Cards posted (a record routed to several webhooks counts once per webhook).
    pub posted: usize,
    /// Of those, degraded cards for events that failed validation.
    pub degraded: usize,
    /// Records (with rules: cards per webhook) recognised as updates already posted.
    pub duplicates: usize,
    /// Later pages folded into page 1.
    pub folded: usize,
    /// Records that failed (reported for redelivery).
    pub failed: usize,
    /// Records routed nowhere by the rules (absent when none).
    #[serde(skip_serializing_if = "is_zero")]
    pub dropped: usize,
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

/// A successful invocation's response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Response {
    /// For SQS: the messages to redeliver (`ReportBatchItemFailures`).
    Batch(SqsBatchResponse),
    /// For everything else: what was done.
    Summary(Summary),
}

/// Why an invocation failed. Lambda retries it, then moves it to the dead-letter destination.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The input holds no record at all.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// Some records were not events, or their cards were not delivered.
    #[error(
        "{failed} of {records} records failed ({unusable} not an event, {undelivered} not delivered); see the per-record log lines"
    )]
    Records {
        /// Records in the invocation.
        records: usize,
        /// Records that failed.
        failed: usize,
        /// Of those, records holding no event.
        unusable: usize,
        /// Of those, cards not delivered.
        undelivered: usize,
    },
}

impl From<HandlerError> for Diagnostic {
    /// Stable `errorType`s for alarms and metric filters.
    fn from(error: HandlerError) -> Self {
        let error_type = match &error {
            HandlerError::Envelope(_) => "delibird.NoEvent",
            HandlerError::Records { undelivered: 0, .. } => "delibird.NotAnEvent",
            HandlerError::Records { .. } => "delibird.DeliveryFailed",
        };
        Diagnostic { error_type: error_type.to_owned(), error_message: error.to_string() }
    }
}

/// Handles one invocation: any envelope delibird accepts, every record concurrently.
pub async fn handle(event: LambdaEvent<Value>, deps: &Deps) -> Result<Response, HandlerError> {
    let deadline = deadline_of(&event.context);
    let records = envelope::parse_value(&event.payload).inspect_err(|error| {
        tracing::error!(request_id = %event.context.request_id, error = %error, "invocation holds no record");
    })?;
    let outcomes = futures::future::join_all(records.iter().map(|record| process(record, deps, deadline))).await;
    let summary = summarise(&outcomes);
    tracing::info!(
        request_id = %event.context.request_id,
        records = summary.records,
        posted = summary.posted,
        degraded = summary.degraded,
        duplicates = summary.duplicates,
        folded = summary.folded,
        failed = summary.failed,
        dropped = summary.dropped,
        "invocation done"
    );
    if records.iter().all(|record| record.transport == Transport::Sqs) {
        let mut failed_ids: Vec<String> = records
            .iter()
            .zip(&outcomes)
            .filter(|(_, outcome)| outcome.is_failure())
            .map(|(record, _)| record.message_id.clone().unwrap_or_default())
            .collect();
        failed_ids.dedup();
        let mut response = SqsBatchResponse::default();
        response.batch_item_failures = failed_ids
            .into_iter()
            .map(|item_identifier| {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = item_identifier;
                failure
            })
            .collect();
        return Ok(Response::Batch(response));
    }
    if summary.failed > 0 {
        let count = |f: fn(&Outcome) -> bool| outcomes.iter().filter(|outcome| f(outcome)).count();
        return Err(HandlerError::Records {
            records: summary.records,
            failed: summary.failed,
            unusable: count(|o| matches!(o, Outcome::Unusable(_))),
            undelivered: count(Outcome::is_undelivered),
        });
    }
    Ok(Response::Summary(summary))
}

/// Counts the outcomes of one invocation.
pub fn summarise(outcomes: &[Outcome]) -> Summary {
    outcomes.iter().fold(Summary { records: outcomes.len(), ..Summary::default() }, |mut summary, outcome| {
        match outcome {
            Outcome::Posted { problems, .. } => {
                summary.posted += 1;
                summary.degraded += usize::from(problems.is_some());
            }
            Outcome::Duplicate => summary.duplicates += 1,
            Outcome::Folded => summary.folded += 1,
            Outcome::Dropped { .. } => summary.dropped += 1,
            Outcome::Routed { problems, sent, .. } => {
                for sent in sent {
                    match sent.posting {
                        Posting::Posted(_) => {
                            summary.posted += 1;
                            summary.degraded += usize::from(problems.is_some());
                        }
                        Posting::Duplicate => summary.duplicates += 1,
                        Posting::Undelivered(_) => {}
                    }
                }
                summary.failed += usize::from(outcome.is_failure());
            }
            Outcome::Unusable(_) | Outcome::Undelivered(_) => summary.failed += 1,
        }
        summary
    })
}

/// One record through the pipeline, logged as one line.
pub async fn process(record: &Record, deps: &Deps, deadline: Instant) -> Outcome {
    let location = record.location.to_string();
    let message_id = record.message_id.as_deref().unwrap_or("");
    let raw = match &record.event {
        Ok(raw) => raw,
        Err(error) => {
            tracing::error!(location, message_id, outcome = "not_an_event", error = %error, "record failed");
            return Outcome::Unusable(error.clone());
        }
    };
    let (event, problems) = match health::check(raw) {
        Either::Left(event) => (event, None),
        Either::Right(salvaged) => (salvaged.event, Some(salvaged.errors)),
    };
    let errors = problems.as_ref().map(|problems| problems.summary(LOGGED_ERRORS, LOGGED_ERRORS_CHARS));
    let notification = match identify(&event, deps.folding) {
        Identity::Post(notification) => notification,
        Identity::FoldedPage => {
            let page = event.page.map(|p| p.number).unwrap_or_default();
            tracing::info!(location, message_id, outcome = "folded_page", event_arn = %event.arn, page, "record folded");
            return Outcome::Folded;
        }
    };
    let webhook = match (&deps.routing, &deps.webhook) {
        (Some(router), _) => {
            let found = Found { location: &location, message_id, raw, problems, errors, notification };
            return routed(router, event, found, deps, deadline).await;
        }
        (None, Some(webhook)) => webhook,
        (None, None) => {
            // Deps' constructors never leave it so; a hand-built Deps might.
            tracing::error!(location, message_id, outcome = "dropped", event_arn = %event.arn, "no webhook and no rules: record dropped");
            return Outcome::Dropped { rules: Vec::new() };
        }
    };
    let claimed = match deps.dedup.claim(&notification, SystemTime::now(), CLAIM_LEASE).await {
        Ok(Claim::Claimed) => true,
        Ok(claim @ (Claim::Delivered | Claim::InFlight)) => {
            let state = if claim == Claim::Delivered { "delivered" } else { "in_flight" };
            tracing::info!(
                location, message_id, outcome = "duplicate", event_arn = %event.arn,
                notification = %notification.id(), already = state, "record skipped"
            );
            return Outcome::Duplicate;
        }
        Err(error) => {
            // Availability over deduplication: a store outage may cost a duplicate, never a card.
            tracing::warn!(location, message_id, error = chain(&error), "dedup store unavailable; posting without it");
            false
        }
    };
    let enriched = enrich(event, &deps.directory()).await;
    let card = render_body(&enriched, problems.as_ref(), &deps.card);
    let event = &enriched.event;
    match deliver(&deps.client, webhook, &card, &deps.retry, &deps.pacer, deadline).await {
        Ok(delivery) => {
            if claimed {
                settle(&deps.dedup, &notification, true).await;
            }
            tracing::info!(
                location,
                message_id,
                outcome = if problems.is_some() { "posted_degraded" } else { "posted" },
                event_arn = %event.arn,
                event_type = %event.type_code,
                notification = %notification.id(),
                attempts = delivery.attempts,
                validation_errors = errors,
                "record posted"
            );
            Outcome::Posted { delivery, problems }
        }
        Err(error) => {
            if claimed {
                settle(&deps.dedup, &notification, false).await;
            }
            tracing::error!(
                location,
                message_id,
                outcome = "undelivered",
                event_arn = %event.arn,
                event_type = %event.type_code,
                notification = %notification.id(),
                attempts = error.attempts(),
                error = chain(&error),
                validation_errors = errors,
                "record failed"
            );
            Outcome::Undelivered(error)
        }
    }
}

/// What [`process`] found in a record, for [`routed`].
struct Found<'a> {
    location: &'a str,
    message_id: &'a str,
    raw: &'a Value,
    problems: Option<ValidationErrors>,
    errors: Option<String>,
    notification: Notification,
}

/// A record whose event the rules route: to each of its webhooks once, concurrently, each with
/// its own claim; one log line for all of them.
async fn routed(
    router: &Router,
    event: health::HealthEvent,
    found: Found<'_>,
    deps: &Deps,
    deadline: Instant,
) -> Outcome {
    let Found { location, message_id, raw, problems, errors, notification } = found;
    // The account is looked up before routing only when a rule reads it; else after the claims,
    // as without rules, so duplicates cost no lookup.
    let looked_up = router.reads_accounts();
    let enriched = if looked_up { enrich(event, &deps.directory()).await } else { EnrichedEvent::bare(event) };
    let route = router.route(&rules::view(raw, &enriched, problems.is_some(), &deps.card));
    let rule_names: Vec<String> = route.rules.iter().map(|name| (*name).to_owned()).collect();
    let (event_arn, event_type) = (enriched.event.arn.to_string(), enriched.event.type_code.clone());
    let shown_rules = rule_names.join(",");
    if route.spaces.is_empty() {
        tracing::info!(
            location, message_id, outcome = "dropped", event_arn, event_type, notification = %notification.id(),
            rules = shown_rules, unmatched = route.unmatched, "record dropped"
        );
        return Outcome::Dropped { rules: rule_names };
    }
    let now = SystemTime::now();
    let claims = futures::future::join_all(route.spaces.iter().map(|space| async {
        let notification = space.notification(&notification);
        let claim = deps.dedup.claim(&notification, now, CLAIM_LEASE).await;
        (*space, notification, claim)
    }))
    .await;
    // Per space: `None` a duplicate; `Some(claimed)` to post, holding a claim or not (store down).
    let steps: Vec<_> = claims
        .into_iter()
        .map(|(space, notification, claim)| {
            let step = match claim {
                Ok(Claim::Claimed) => Some(true),
                Ok(Claim::Delivered | Claim::InFlight) => None,
                Err(error) => {
                    tracing::warn!(location, message_id, webhook = %space.name, error = chain(&error), "dedup store unavailable; posting without it");
                    Some(false)
                }
            };
            (space, notification, step)
        })
        .collect();
    let postings: Vec<Posting> = if steps.iter().all(|(_, _, step)| step.is_none()) {
        steps.iter().map(|_| Posting::Duplicate).collect()
    } else {
        let enriched = if looked_up { enriched } else { enrich(enriched.event, &deps.directory()).await };
        let card = render_body(&enriched, problems.as_ref(), &deps.card);
        let card = &card;
        futures::future::join_all(steps.iter().map(|(space, notification, step)| async move {
            let Some(claimed) = step else { return Posting::Duplicate };
            let result = deliver(&deps.client, &space.url, card, &deps.retry, &space.pacer, deadline).await;
            if *claimed {
                settle(&deps.dedup, notification, result.is_ok()).await;
            }
            match result {
                Ok(delivery) => Posting::Posted(delivery),
                Err(error) => Posting::Undelivered(error),
            }
        }))
        .await
    };
    let sent: Vec<Sent> = steps
        .iter()
        .zip(postings)
        .map(|((space, ..), posting)| Sent { webhook: space.name.clone(), posting })
        .collect();

    let names = |wanted: fn(&Posting) -> bool| {
        let names: Vec<&str> = sent.iter().filter(|s| wanted(&s.posting)).map(|s| s.webhook.as_str()).collect();
        (!names.is_empty()).then(|| names.join(","))
    };
    let posted = names(|p| matches!(p, Posting::Posted(_)));
    let duplicate = names(|p| matches!(p, Posting::Duplicate));
    let failed = names(|p| matches!(p, Posting::Undelivered(_)));
    let webhooks = sent.iter().map(|s| s.webhook.as_str()).collect::<Vec<_>>().join(",");
    let attempts: u32 = sent
        .iter()
        .map(|s| match &s.posting {
            Posting::Posted(delivery) => delivery.attempts,
            Posting::Undelivered(error) => error.attempts(),
            Posting::Duplicate => 0,
        })
        .sum();
    let notification = notification.id();
    if failed.is_some() {
        let error: Vec<String> = sent
            .iter()
            .filter_map(|s| match &s.posting {
                Posting::Undelivered(error) => Some(format!("{}: {}", s.webhook, chain(error))),
                _ => None,
            })
            .collect();
        tracing::error!(
            location,
            message_id,
            outcome = "undelivered",
            event_arn,
            event_type,
            notification,
            rules = shown_rules,
            unmatched = route.unmatched,
            webhooks,
            posted,
            duplicate,
            failed,
            attempts,
            error = error.join("; "),
            validation_errors = errors,
            "record failed"
        );
    } else if posted.is_some() {
        tracing::info!(
            location,
            message_id,
            outcome = if problems.is_some() { "posted_degraded" } else { "posted" },
            event_arn,
            event_type,
            notification,
            rules = shown_rules,
            unmatched = route.unmatched,
            webhooks,
            posted,
            duplicate,
            attempts,
            validation_errors = errors,
            "record posted"
        );
    } else {
        tracing::info!(
            location,
            message_id,
            outcome = "duplicate",
            event_arn,
            event_type,
            notification,
            rules = shown_rules,
            unmatched = route.unmatched,
            webhooks,
            duplicate,
            "record skipped"
        );
    }
    Outcome::Routed { rules: rule_names, problems, sent }
}

/// Confirms a delivered claim or releases a failed one; a store error here is logged, not fatal:
/// at worst a later copy posts the update again.
async fn settle(store: &Store, notification: &Notification, delivered: bool) {
    let result = if delivered {
        store.confirm(notification, SystemTime::now()).await
    } else {
        store.release(notification).await
    };
    if let Err(error) = result {
        tracing::warn!(notification = %notification.id(), error = chain(&error), "dedup store could not record the outcome");
    }
}

/// The invocation's deadline as an `Instant`; [`DEFAULT_BUDGET`] from now when it has none.
pub fn deadline_of(context: &Context) -> Instant {
    let now = Instant::now();
    if context.deadline == 0 {
        return now + DEFAULT_BUDGET;
    }
    let epoch_ms =
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    now + Duration::from_millis(context.deadline.saturating_sub(epoch_ms))
}
