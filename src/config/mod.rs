//! Configuration from `DELIBIRD_*` environment variables, read once at start. Every missing or
//! bad variable is reported at once ([`ConfigErrors`]); no message ever contains the webhook
//! URL. A `DELIBIRD_*` variable that is set but read by nothing is a warning
//! ([`UnknownVariable`], in [`Config::warnings`]), with the variable it most likely means.
//! docs/configuration.md describes each variable for the people who set them.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `DELIBIRD_WEBHOOK_URL` | the webhook URL itself | one of the two is required to deliver |
//! | `DELIBIRD_WEBHOOK_SECRET` | `ssm:/parameter/name` (SecureString) or a Secrets Manager ARN | |
//! | `DELIBIRD_RULES` | routing rules: a TOML file's path, or `ssm:/parameter/name` (see [`crate::rules`]); the webhook is then optional | none: every card to the webhook |
//! | `DELIBIRD_ALLOW_LOOPBACK_WEBHOOK` | `1`: also accept `http://127.0.0.1:PORT/…`, `http://localhost…` | off |
//! | `DELIBIRD_ACCOUNT_ALIASES` | JSON object `{"123456789012": "name"}`, or `@path` to a file holding one | none |
//! | `DELIBIRD_SEVERITY_CRITICAL_KEYWORDS`, `…_HIGH_KEYWORDS`, `…_WARNING_KEYWORDS` | comma-separated keywords | see `SeverityRules` |
//! | `DELIBIRD_LANGUAGE` | preferred description language | `en_US` |
//! | `DELIBIRD_HTTP_TIMEOUT_MS` | one webhook request | 5000 |
//! | `DELIBIRD_RETRY_MAX_ATTEMPTS` | attempts per message, 1–20 | 6 |
//! | `DELIBIRD_RETRY_BASE_MS`, `DELIBIRD_RETRY_CAP_MS` | backoff ceiling: first, largest | 500, 8000 |
//! | `DELIBIRD_DEADLINE_MARGIN_MS` | stop retrying this long before the Lambda deadline | 1000 |
//! | `DELIBIRD_WEBHOOK_INTERVAL_MS` | least time between two posts to the webhook (Chat: 1 per second per space) | 1100 |
//! | `DELIBIRD_DEDUP_TABLE` | DynamoDB table remembering posted updates | none: in memory, per container |
//! | `DELIBIRD_DEDUP_TTL_DAYS` | how long a posted update is remembered | 30 |
//! | `DELIBIRD_FOLD_BACKUP_COPIES` | `0` posts backup-Region copies apart | 1 |
//! | `DELIBIRD_FOLD_PAGES` | `0` posts every page of a paginated event | 1 |
//! | `DELIBIRD_ROLLUP` | `0`: one thread per account for an event raised in many accounts, instead of one thread and a roll-up card per space | 1 |
//! | `DELIBIRD_ACCOUNT_LOOKUP` | `organizations`: names from AWS Organizations too (configured names win) | static only |
//! | `DELIBIRD_ACCOUNT_LOOKUP_ROLE_ARN` | roles to assume for Organizations calls, one per organization, comma-separated | the function's own role |
//! | `DELIBIRD_ACCOUNT_TAGS` | account tag keys to show, comma-separated (`Owner,Team`) | none |
//! | `DELIBIRD_ACCOUNT_OU` | `0`: do not look up OU paths | 1 |
//! | `DELIBIRD_ACCOUNT_CACHE_TTL_S` | how long names, OUs and tags are trusted | 3600 |
//! | `DELIBIRD_ACCOUNT_LOOKUP_TIMEOUT_MS` | most one lookup may take before the card goes without | 3000 |
//! | `DELIBIRD_LOG` | log filter (else `RUST_LOG`), read by [`crate::logging`] | `info` (Lambda), `warn` (CLI) |

mod error;
mod read;
mod sources;
mod variables;

use std::num::NonZeroU32;
use std::time::Duration;

pub use error::{ConfigError, ConfigErrors, ConfigProblem, Shared};
pub use variables::{UnknownVariable, VARIABLES, unknown_variables};

use crate::accounts::{OrgSettings, StaticAliases};
use crate::card::{CardSettings, Clock, SeverityRules};
use crate::chat::CHAT_INTERVAL;
use crate::dedup::Folding;
use crate::kept::Kept;
use crate::problems::Problems;
use crate::rules::RuleSet;
use crate::schedule::{DigestAt, DigestAtError, ScheduleSettings, parse_offsets};
use crate::webhook::RetryPolicy;
use read::Reader;

/// Everything delibird reads from its environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Where the default webhook's URL is kept, when configured (`DELIBIRD_WEBHOOK_URL`: the URL
    /// itself; `DELIBIRD_WEBHOOK_SECRET`: SSM or Secrets Manager).
    pub webhook: Option<Kept>,
    /// Whether loopback webhooks are allowed (tests, the demo).
    pub allow_loopback: bool,
    /// Account names.
    pub aliases: StaticAliases,
    /// How cards look.
    pub card: CardSettings,
    /// How hard delivery tries.
    pub retry: RetryPolicy,
    /// Least time between two posts to the webhook.
    pub webhook_interval: Duration,
    /// The DynamoDB dedup table, when configured.
    pub dedup_table: Option<String>,
    /// How long the table remembers a posted update.
    pub dedup_ttl: Duration,
    /// Whether backup-Region copies and later pages fold into one notification.
    pub folding: Folding,
    /// AWS Organizations lookups, when configured.
    pub organizations: Option<OrgLookup>,
    /// Reminders before scheduled changes and the daily digest.
    pub schedule: ScheduleSettings,
    /// Routing rules, when configured (read only when delivering: [`Webhook::Required`]).
    pub rules: Option<RulesConfig>,
    /// `DELIBIRD_*` variables set but read by nothing (filled by [`Config::from_env`], which also
    /// logs each as a warning).
    pub warnings: Vec<UnknownVariable>,
}

/// Where the routing rules are (`DELIBIRD_RULES`).
#[derive(Debug, Clone, PartialEq)]
pub enum RulesConfig {
    /// Read from a file and compiled with the rest of the configuration.
    Loaded(RuleSet),
    /// In an SSM parameter, by name: read and compiled at start.
    Ssm(String),
}

/// How to ask AWS Organizations for account names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgLookup {
    /// The roles to assume, one per organization, in the order given (when delibird runs outside
    /// the management or delegated administrator account, or serves several organizations);
    /// empty: the one organization the function's own credentials can read.
    pub role_arns: Vec<String>,
    /// Cache, tags, OU path, time budget.
    pub settings: OrgSettings,
}

/// Whether configuration must name a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Webhook {
    /// Delivering: a webhook is required, unless routing rules (`DELIBIRD_RULES`) name them.
    Required,
    /// A webhook is read when present, and none is fine.
    Optional,
    /// Only rendering: the webhook variables are not read at all.
    Ignored,
}

impl Config {
    /// Reads the process environment, and logs a warning for each `DELIBIRD_*` variable that is
    /// set but read by nothing (kept in [`Config::warnings`] too).
    pub fn from_env(webhook: Webhook) -> Result<Self, ConfigErrors> {
        Self::from_env_with(&[], webhook)
    }

    /// [`Config::from_env`] with some variables given otherwise, in the place of the
    /// environment's values: the command line's flags (`--webhook-url` is
    /// `DELIBIRD_WEBHOOK_URL`, `--rules` is `DELIBIRD_RULES`); `None` is unset.
    pub fn from_env_with(given: &[(&str, Option<&str>)], webhook: Webhook) -> Result<Self, ConfigErrors> {
        let var = |name: &str| match given.iter().find(|(variable, _)| *variable == name) {
            Some((_, value)) => value.map(str::to_owned),
            None => std::env::var(name).ok(),
        };
        let config = Self::from_vars(var, webhook);
        let names: Vec<String> = std::env::vars_os().filter_map(|(name, _)| name.into_string().ok()).collect();
        let webhooks = match &config {
            Ok(Self { rules: Some(RulesConfig::Loaded(rules)), .. }) => rules.env_webhooks(),
            _ => Vec::new(),
        };
        let warnings = unknown_variables(names.iter().map(String::as_str), &webhooks);
        for warning in &warnings {
            tracing::warn!(variable = warning.name, suggestion = warning.suggestion, "{warning}");
        }
        config.map(|config| Self { warnings, ..config })
    }

    /// Reads variables through `var` (a map in tests), reporting every problem at once. Unknown
    /// variables are not looked for: `var` cannot list them ([`unknown_variables`] does).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>, webhook: Webhook) -> Result<Self, ConfigErrors> {
        let reader = Reader::new(&var);
        let allow_loopback = reader.switch("DELIBIRD_ALLOW_LOOPBACK_WEBHOOK", false);
        let rules_var = if webhook == Webhook::Required { reader.var("DELIBIRD_RULES") } else { None };
        let fail = |variable: &'static str, problem: ConfigProblem| reader.fail(variable, problem);
        let source =
            sources::webhook_source(&|name| reader.var(name), &fail, webhook, allow_loopback, rules_var.as_ref());
        let (aliases, organizations) = accounts(&reader);
        let card = card(&reader);
        let (retry, webhook_interval) = delivery(&reader);
        let (dedup_table, dedup_ttl, folding) = dedup(&reader);
        let rules = sources::rules(rules_var, &fail, organizations.as_ref(), source.as_ref());
        let schedule = schedule(&reader);
        let config = Self {
            webhook: source,
            allow_loopback,
            aliases,
            card,
            retry,
            webhook_interval,
            dedup_table,
            dedup_ttl,
            folding,
            organizations,
            schedule,
            rules,
            warnings: Vec::new(),
        };
        Problems::or_ok(reader.into_errors(), config).map_err(ConfigErrors)
    }
}

impl RuleSet {
    /// The variables this rule set keeps webhook URLs in (`env:VAR`).
    fn env_webhooks(&self) -> Vec<&str> {
        self.webhooks
            .values()
            .filter_map(|kept| match kept {
                Kept::Env(var) => Some(var.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// Account names (`DELIBIRD_ACCOUNT_ALIASES`) and the AWS Organizations lookup.
fn accounts(reader: &Reader<'_>) -> (StaticAliases, Option<OrgLookup>) {
    let aliases = match reader.var("DELIBIRD_ACCOUNT_ALIASES") {
        None => StaticAliases::default(),
        Some(text) => read_aliases(&text).unwrap_or_else(|problem| {
            reader.fail("DELIBIRD_ACCOUNT_ALIASES", problem);
            StaticAliases::default()
        }),
    };
    let ou_path = reader.switch("DELIBIRD_ACCOUNT_OU", true);
    let lookup = reader.choice("DELIBIRD_ACCOUNT_LOOKUP", &["organizations", "static"]) == Some("organizations");
    let role_arns = role_arns(reader);
    let tag_keys = reader.list("DELIBIRD_ACCOUNT_TAGS");
    let defaults = OrgSettings::default();
    let ttl = reader.number("DELIBIRD_ACCOUNT_CACHE_TTL_S", 1, 86_400).map_or(defaults.ttl, Duration::from_secs);
    let budget = reader.millis("DELIBIRD_ACCOUNT_LOOKUP_TIMEOUT_MS", defaults.budget, 60_000);
    let organizations =
        lookup.then_some(OrgLookup { role_arns, settings: OrgSettings { ttl, tag_keys, ou_path, budget } });
    (aliases, organizations)
}

/// `DELIBIRD_ACCOUNT_LOOKUP_ROLE_ARN`: IAM role ARNs, one per organization, comma-separated; each
/// wrong or repeated one is a problem of its own.
fn role_arns(reader: &Reader<'_>) -> Vec<String> {
    let mut roles: Vec<String> = Vec::new();
    for (at, arn) in reader.list("DELIBIRD_ACCOUNT_LOOKUP_ROLE_ARN").into_iter().enumerate() {
        let item = at + 1;
        if !is_role_arn(&arn) {
            reader.fail(
                "DELIBIRD_ACCOUNT_LOOKUP_ROLE_ARN",
                ConfigProblem::NotARoleArn { item, found: read::shown(&arn) },
            );
        } else if let Some(first) = roles.iter().position(|role| *role == arn) {
            reader.fail("DELIBIRD_ACCOUNT_LOOKUP_ROLE_ARN", ConfigProblem::RepeatedRole { item, first: first + 1 });
        } else {
            roles.push(arn);
        }
    }
    roles
}

/// `arn:PARTITION:iam::ACCOUNT:role/NAME` (a path may come before the name), as the collector
/// template's `AccountLookupRoleArn` takes it: any AWS partition (`aws`, `aws-us-gov`, `aws-cn`,
/// …: assuming a role needs nothing of delibird's own per partition), IAM's characters in the
/// name, and no comma (commas separate the roles).
fn is_role_arn(arn: &str) -> bool {
    let fields: Vec<&str> = arn.splitn(6, ':').collect();
    let &["arn", partition, "iam", "", account, resource] = fields.as_slice() else { return false };
    let name_char = |c: char| c.is_ascii_alphanumeric() || "+=.@_/-".contains(c);
    partition.strip_prefix("aws").is_some_and(|rest| rest.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource
            .strip_prefix("role/")
            .is_some_and(|name| !name.is_empty() && !name.ends_with('/') && name.chars().all(name_char))
}

/// `{"123456789012": "name"}`, or `@path` to a file holding that.
fn read_aliases(text: &str) -> Result<StaticAliases, ConfigProblem> {
    let (json, file) = match text.trim().strip_prefix('@') {
        Some(path) => {
            let json = std::fs::read_to_string(path)
                .map_err(|error| ConfigProblem::Unreadable { path: path.to_owned(), source: Shared::new(error) })?;
            (json, Some(path.to_owned()))
        }
        None => (text.to_owned(), None),
    };
    StaticAliases::from_json(&json).map_err(|error| ConfigProblem::Aliases { file, source: Shared::new(error) })
}

/// How cards look: severity keywords and the description's language.
fn card(reader: &Reader<'_>) -> CardSettings {
    let severity = SeverityRules::from_lists(
        reader.var("DELIBIRD_SEVERITY_CRITICAL_KEYWORDS").as_deref(),
        reader.var("DELIBIRD_SEVERITY_HIGH_KEYWORDS").as_deref(),
        reader.var("DELIBIRD_SEVERITY_WARNING_KEYWORDS").as_deref(),
    );
    let language = reader.text("DELIBIRD_LANGUAGE").unwrap_or_else(|| "en_US".into());
    CardSettings { severity, language, clock: Clock::System }
}

/// How hard delivery tries, and how far apart posts to one space are.
fn delivery(reader: &Reader<'_>) -> (RetryPolicy, Duration) {
    let defaults = RetryPolicy::default();
    let request_timeout = reader.millis("DELIBIRD_HTTP_TIMEOUT_MS", defaults.request_timeout, 900_000);
    let base = reader.millis("DELIBIRD_RETRY_BASE_MS", defaults.base, 900_000);
    let cap = reader.millis("DELIBIRD_RETRY_CAP_MS", defaults.cap, 900_000);
    let deadline_margin = reader.millis("DELIBIRD_DEADLINE_MARGIN_MS", defaults.deadline_margin, 900_000);
    let interval =
        reader.number("DELIBIRD_WEBHOOK_INTERVAL_MS", 0, 60_000).map_or(CHAT_INTERVAL, Duration::from_millis);
    let max_attempts = reader
        .number("DELIBIRD_RETRY_MAX_ATTEMPTS", 1, 20)
        .and_then(|n| NonZeroU32::new(u32::try_from(n).ok()?))
        .unwrap_or(defaults.max_attempts);
    if cap < base {
        reader.fail("DELIBIRD_RETRY_CAP_MS", ConfigProblem::Below { other: "DELIBIRD_RETRY_BASE_MS" });
    }
    (RetryPolicy { max_attempts, base, cap, request_timeout, deadline_margin }, interval)
}

/// Where posted updates are remembered, for how long, and what folds into one notification.
fn dedup(reader: &Reader<'_>) -> (Option<String>, Duration, Folding) {
    let folding = Folding {
        backup_copies: reader.switch("DELIBIRD_FOLD_BACKUP_COPIES", true),
        later_pages: reader.switch("DELIBIRD_FOLD_PAGES", true),
        accounts: reader.switch("DELIBIRD_ROLLUP", true),
    };
    let table = reader.text("DELIBIRD_DEDUP_TABLE");
    let ttl = Duration::from_secs(reader.number("DELIBIRD_DEDUP_TTL_DAYS", 1, 3_650).unwrap_or(30) * 86_400);
    (table, ttl, folding)
}

/// Reminders (`DELIBIRD_REMINDERS`, default `7d,1d,1h`) and the digest (`DELIBIRD_DIGEST_AT`,
/// default `09:00`, in `DELIBIRD_DIGEST_TZ`, default UTC; `DELIBIRD_DIGEST_EMPTY=post` posts one
/// on a day with nothing to say). Unset is the default; set and blank is off.
fn schedule(reader: &Reader<'_>) -> ScheduleSettings {
    let standard = ScheduleSettings::standard();
    let reminders = match reader.raw("DELIBIRD_REMINDERS") {
        None => standard.reminders,
        Some(text) => parse_offsets(&text).unwrap_or_else(|errors| {
            for error in errors {
                reader.fail("DELIBIRD_REMINDERS", error.into());
            }
            Vec::new()
        }),
    };
    let zone = reader.var("DELIBIRD_DIGEST_TZ").unwrap_or_default();
    let time = reader.raw("DELIBIRD_DIGEST_AT").unwrap_or_else(|| "09:00".to_owned());
    let digest = if time.trim().is_empty() {
        // Off; the zone is still checked, so a typo is seen before the digest is turned on.
        if let Err(error) = DigestAt::parse("00:00", &zone) {
            reader.fail("DELIBIRD_DIGEST_TZ", error.into());
        }
        None
    } else {
        match DigestAt::parse(&time, &zone) {
            Ok(at) => Some(at),
            Err(error @ DigestAtError::Time) => {
                reader.fail("DELIBIRD_DIGEST_AT", error.into());
                None
            }
            Err(error) => {
                reader.fail("DELIBIRD_DIGEST_TZ", error.into());
                None
            }
        }
    };
    let empty_digest = reader.choice("DELIBIRD_DIGEST_EMPTY", &["skip", "post"]) == Some("post");
    ScheduleSettings { reminders, digest, empty_digest }
}

#[cfg(test)]
mod tests;
