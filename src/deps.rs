//! Start-up wiring: from a validated [`Config`] to the [`Deps`] every invocation uses — the HTTP
//! client, the channel, the spaces cards go to (the webhooks resolved from where they are kept,
//! the rules read and compiled), the account directory, the dedup store. Built once per cold
//! start and kept across warm invocations. The AWS SDK's configuration is loaded once, and only
//! when something needs AWS.

use std::time::Duration;

use crate::accounts::{EveryOrganization, Layered, StaticAliases};
use crate::card::CardSettings;
use crate::chat::{CHAT_INTERVAL, GoogleChat};
use crate::config::{Config, RulesConfig};
use crate::dedup::{DynamoStore, Folding, MemoryStore, Store};
use crate::kept::{Kept, WebhookUrl};
use crate::problems::Problems;
use crate::rules::{Context as RulesContext, DEFAULT_WEBHOOK, RuleSet, RulesErrors};
use crate::schedule::ScheduleSettings;
use crate::secret::{self, SecretError};
use crate::spaces::{self, ResolveError, Sources, Space, Spaces, WebhookError};
use crate::webhook::{RetryPolicy, http_client};

/// What the handler needs, built once at start and kept across warm invocations.
#[derive(Debug)]
pub struct Deps {
    /// The one HTTP client (connection pool) for every webhook.
    pub client: reqwest::Client,
    /// The chat service cards are posted to.
    pub channel: GoogleChat,
    /// Where cards go: one space, or the routing rules and their spaces.
    pub spaces: Spaces,
    /// Account names from configuration: they win.
    pub aliases: StaticAliases,
    /// Account names from AWS Organizations (one organization per lookup role), when configured.
    pub organizations: Option<EveryOrganization>,
    /// How cards look.
    pub card: CardSettings,
    /// How hard delivery tries.
    pub retry: RetryPolicy,
    /// Where delivered updates are remembered.
    pub dedup: Store,
    /// Whether backup-Region copies and later pages fold into one notification.
    pub folding: Folding,
    /// Reminders before scheduled changes and the daily digest, which ticks post.
    pub schedule: ScheduleSettings,
    /// The function's name when running in Lambda (`AWS_LAMBDA_FUNCTION_NAME`): each invocation
    /// then writes its metrics (Embedded Metric Format) in its summary line.
    pub metrics: Option<String>,
}

/// Why the Lambda cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The default webhook's URL could not be had.
    #[error("DELIBIRD_WEBHOOK_SECRET: {0}")]
    Webhook(#[source] ResolveError),
    /// The rules kept in SSM could not be read.
    #[error("DELIBIRD_RULES: {0}")]
    RulesText(#[source] SecretError),
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
    Webhooks(#[source] Problems<WebhookError>),
    /// Something is kept in AWS and there is no AWS configuration to read it with.
    #[error("{origin}: no AWS configuration to read it with")]
    NoAws {
        /// What could not be read.
        origin: String,
    },
    /// Neither a webhook nor rules.
    #[error("DELIBIRD_WEBHOOK_URL: required (or DELIBIRD_WEBHOOK_SECRET, or DELIBIRD_RULES)")]
    NoWebhook,
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client")]
    Client(#[source] reqwest::Error),
}

impl Deps {
    /// Every card to `webhook` (paced at Chat's rate), with defaults for the rest: no aliases,
    /// default cards and retries, an in-memory dedup store, folding on.
    pub fn new(client: reqwest::Client, webhook: WebhookUrl) -> Self {
        Self {
            client,
            channel: GoogleChat,
            spaces: Spaces::one(Space::new(DEFAULT_WEBHOOK, webhook, CHAT_INTERVAL)),
            aliases: StaticAliases::default(),
            organizations: None,
            card: CardSettings::default(),
            retry: RetryPolicy::default(),
            dedup: Store::Memory(MemoryStore::new()),
            folding: Folding::default(),
            schedule: ScheduleSettings::standard(),
            metrics: None,
        }
    }

    /// What the Lambda (and the command line's `send` and `redrive`) run with. The AWS SDK is
    /// configured from the environment — once, and only when something needs it: a webhook or
    /// rules kept in SSM or Secrets Manager, a dedup table, Organizations lookups. `env` reads
    /// the `env:` webhooks of the rules.
    pub async fn start(config: Config, env: &(dyn Fn(&str) -> Option<String> + Sync)) -> Result<Self, StartError> {
        let sdk = if needs_aws(&config) { Some(aws_sdk(None).await) } else { None };
        Self::start_with(config, env, sdk.as_ref()).await
    }

    /// [`Deps::start`] with a given AWS configuration (tests point it at an emulator), or none.
    pub async fn start_with(
        config: Config,
        env: &(dyn Fn(&str) -> Option<String> + Sync),
        sdk: Option<&aws_config::SdkConfig>,
    ) -> Result<Self, StartError> {
        let channel = GoogleChat;
        let sources = Sources { env, sdk, allow_loopback: config.allow_loopback };
        let default = match &config.webhook {
            None => None,
            Some(kept) => Some(spaces::resolve(kept, &channel, sources).await.map_err(StartError::Webhook)?),
        };
        let rules = match &config.rules {
            None => None,
            Some(RulesConfig::Loaded(rules)) => Some(rules.clone()),
            Some(RulesConfig::Ssm(name)) => Some(rules_from_ssm(name, &config, default.is_some(), sdk).await?),
        };
        if let Some(rules) = &rules
            && config.schedule.digest.is_none()
            && rules.rules.iter().any(|rule| rule.digest_only)
        {
            tracing::warn!(
                "the rules send some events to the digest only, but the digest is off (DELIBIRD_DIGEST_AT is blank): \
                 those events are posted as cards instead, so that none is lost"
            );
        }
        let spaces = match (rules, default) {
            (Some(rules), default) => {
                let urls = spaces::resolve_all(&rules, default.as_ref(), &channel, sources)
                    .await
                    .map_err(StartError::Webhooks)?;
                Spaces::routed(rules, &urls, config.webhook_interval).map_err(StartError::Webhooks)?
            }
            (None, Some(url)) => Spaces::one(Space::new(DEFAULT_WEBHOOK, url, config.webhook_interval)),
            (None, None) => return Err(StartError::NoWebhook),
        };
        let metrics = env("AWS_LAMBDA_FUNCTION_NAME").filter(|name| !name.is_empty());
        let dedup = match (&config.dedup_table, sdk) {
            (Some(table), Some(sdk)) => {
                let store = DynamoStore::new(sdk, table, config.dedup_ttl);
                check_table(&store, metrics.as_deref()).await;
                Store::Dynamo(store)
            }
            _ => Store::Memory(MemoryStore::new()),
        };
        let organizations = match (&config.organizations, sdk) {
            (Some(lookup), Some(sdk)) => Some(EveryOrganization::new(sdk, &lookup.role_arns, &lookup.settings).await),
            _ => None,
        };
        let client =
            http_client(config.retry.request_timeout).map_err(|error| StartError::Client(error.without_url()))?;
        Ok(Self {
            client,
            channel,
            spaces,
            aliases: config.aliases,
            organizations,
            card: config.card,
            retry: config.retry,
            dedup,
            folding: config.folding,
            schedule: config.schedule,
            metrics,
        })
    }

    /// The account directory: configured names first, then Organizations.
    pub fn directory(&self) -> Layered<'_, StaticAliases, EveryOrganization> {
        Layered { first: &self.aliases, then: self.organizations.as_ref() }
    }

    /// Where cards go, for the start-up log line: each space's name and redacted URL, and the
    /// rules. Never a token.
    pub fn destinations(&self) -> String {
        self.spaces.describe()
    }
}

/// Checks the dedup table at start. A table that is missing or cannot be read is an ERROR naming
/// it and the AWS error, and the `StoreUnavailable` metric the collector's alarm watches: cards are
/// still posted (availability over deduplication), but somebody must fix the table.
async fn check_table(store: &DynamoStore, function: Option<&str>) {
    let Err(error) = store.check().await else { return };
    tracing::error!(
        table = store.table(),
        error = crate::logging::chain(&error),
        "dedup table unavailable: cards are posted without deduplication until it is fixed"
    );
    if let Some(function) = function {
        println!("{}", crate::metrics::store_unavailable_at_start(function));
    }
}

/// Longest one attempt at an AWS call may take, and one call with its retries: without these
/// the SDK waits for ever on a connection that stops answering (a `PutItem` held open outlived a
/// 20 s deadline by minutes). The handler bounds its store calls within the deadline too.
const AWS_ATTEMPT: Duration = Duration::from_secs(2);
const AWS_CALL: Duration = Duration::from_secs(5);
const AWS_CONNECT: Duration = Duration::from_secs(2);

/// The AWS SDK's configuration from the environment (credentials, Region, `AWS_ENDPOINT_URL`),
/// with every call bounded; in `region` when given (the command line's `redrive` takes it from
/// the queue's URL).
pub async fn aws_sdk(region: Option<&str>) -> aws_config::SdkConfig {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(AWS_CONNECT)
        .operation_attempt_timeout(AWS_ATTEMPT)
        .operation_timeout(AWS_CALL)
        .build();
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).timeout_config(timeouts);
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region.to_owned()));
    }
    loader.load().await
}

/// True when building the dependencies calls AWS.
fn needs_aws(config: &Config) -> bool {
    config.webhook.as_ref().is_some_and(Kept::is_aws)
        || match &config.rules {
            Some(RulesConfig::Ssm(_)) => true,
            Some(RulesConfig::Loaded(rules)) => rules.needs_aws(),
            None => false,
        }
        || config.dedup_table.is_some()
        || config.organizations.is_some()
}

/// The rules file kept in an SSM parameter, read and compiled.
async fn rules_from_ssm(
    name: &str,
    config: &Config,
    default_webhook: bool,
    sdk: Option<&aws_config::SdkConfig>,
) -> Result<RuleSet, StartError> {
    let origin = format!("SSM parameter {name}");
    let Some(sdk) = sdk else { return Err(StartError::NoAws { origin }) };
    let text = secret::ssm_text(name, sdk).await.map_err(StartError::RulesText)?;
    let tags = config.organizations.as_ref().map_or(&[][..], |lookup| &lookup.settings.tag_keys[..]);
    let context = RulesContext { default_webhook, account_tags: Some(tags) };
    RuleSet::parse(&text, &context).map_err(|errors| StartError::Rules { origin, errors })
}
