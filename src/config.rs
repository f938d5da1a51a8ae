//! Configuration from `DELIBIRD_*` environment variables, read once at start. Every missing or
//! bad variable is reported at once; no message ever contains the webhook URL.
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
//! | `DELIBIRD_ACCOUNT_LOOKUP` | `organizations`: names from AWS Organizations too (configured names win) | static only |
//! | `DELIBIRD_ACCOUNT_LOOKUP_ROLE_ARN` | role to assume for Organizations calls | the function's own role |
//! | `DELIBIRD_ACCOUNT_TAGS` | account tag keys to show, comma-separated (`Owner,Team`) | none |
//! | `DELIBIRD_ACCOUNT_OU` | `0`: do not look up OU paths | 1 |
//! | `DELIBIRD_ACCOUNT_CACHE_TTL_S` | how long names, OUs and tags are trusted | 3600 |
//! | `DELIBIRD_ACCOUNT_LOOKUP_TIMEOUT_MS` | most one lookup may take before the card goes without | 3000 |

use std::num::NonZeroU32;
use std::time::Duration;

use crate::accounts::{OrgSettings, StaticAliases};
use crate::card::{CardSettings, SeverityRules};
use crate::dedup::Folding;
use crate::problems::Problems;
use crate::rules::{Context, RuleSet};
use crate::webhook::{CHAT_INTERVAL, RetryPolicy, WebhookUrl};

/// Where the webhook URL comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookSource {
    /// Given directly.
    Url(WebhookUrl),
    /// An SSM parameter (SecureString), by name.
    Ssm(String),
    /// A Secrets Manager secret, by ARN: the secret string is the URL, or JSON with `url`.
    SecretsManager(String),
}

/// Everything delibird reads from its environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The webhook, when configured.
    pub webhook: Option<WebhookSource>,
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
    /// Routing rules, when configured (read only when delivering: [`Webhook::Required`]).
    pub rules: Option<RulesConfig>,
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
    /// A role to assume first (when delibird runs outside the management or delegated account).
    pub role_arn: Option<String>,
    /// Cache, tags, OU path, time budget.
    pub settings: OrgSettings,
}

/// Whether configuration must name a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Webhook {
    /// Delivering: a webhook is required, unless routing rules (`DELIBIRD_RULES`) name them.
    Required,
    /// Sending somewhere else (`--webhook-url`): a webhook is read if present.
    Optional,
    /// Only rendering: the webhook variables are not read at all.
    Ignored,
}

/// One variable that is missing or wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    /// The variable's name.
    pub variable: &'static str,
    /// What is wrong, never quoting a secret.
    pub problem: String,
}

/// Every configuration problem found (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigErrors(pub Problems<ConfigError>);

impl Config {
    /// Reads the process environment.
    pub fn from_env(webhook: Webhook) -> Result<Self, ConfigErrors> {
        Self::from_vars(|name| std::env::var(name).ok(), webhook)
    }

    /// Reads variables through `var` (a map in tests), reporting every problem at once.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>, webhook: Webhook) -> Result<Self, ConfigErrors> {
        let var = |name: &str| var(name).filter(|value| !value.trim().is_empty());
        // Shared by the small parsers below, each of which may report a problem.
        let errors = std::cell::RefCell::new(Vec::new());
        let fail =
            |variable: &'static str, problem: String| errors.borrow_mut().push(ConfigError { variable, problem });

        let allow_loopback = match var("DELIBIRD_ALLOW_LOOPBACK_WEBHOOK").as_deref().map(str::trim) {
            None | Some("0" | "false") => false,
            Some("1" | "true") => true,
            Some(_) => {
                fail("DELIBIRD_ALLOW_LOOPBACK_WEBHOOK", "expected 1 or 0".into());
                false
            }
        };
        let rules_var = if webhook == Webhook::Required { var("DELIBIRD_RULES") } else { None };
        let webhook_vars = if webhook == Webhook::Ignored {
            (None, None)
        } else {
            (var("DELIBIRD_WEBHOOK_URL"), var("DELIBIRD_WEBHOOK_SECRET"))
        };
        let source = match webhook_vars {
            (Some(_), Some(_)) => {
                fail("DELIBIRD_WEBHOOK_URL", "set only one of DELIBIRD_WEBHOOK_URL and DELIBIRD_WEBHOOK_SECRET".into());
                None
            }
            (Some(url), None) => match WebhookUrl::parse(&url, allow_loopback) {
                Ok(url) => Some(WebhookSource::Url(url)),
                Err(error) => {
                    fail("DELIBIRD_WEBHOOK_URL", error.to_string());
                    None
                }
            },
            (None, Some(secret)) => match secret_source(&secret) {
                Some(source) => Some(source),
                None => {
                    fail(
                        "DELIBIRD_WEBHOOK_SECRET",
                        "expected ssm:/parameter/name or a Secrets Manager secret ARN".into(),
                    );
                    None
                }
            },
            (None, None) if webhook == Webhook::Required && rules_var.is_none() => {
                fail("DELIBIRD_WEBHOOK_URL", "required (or DELIBIRD_WEBHOOK_SECRET, or DELIBIRD_RULES)".into());
                None
            }
            (None, None) => None,
        };
        let aliases = match var("DELIBIRD_ACCOUNT_ALIASES") {
            None => StaticAliases::default(),
            Some(text) => match read_aliases(&text) {
                Ok(aliases) => aliases,
                Err(problem) => {
                    fail("DELIBIRD_ACCOUNT_ALIASES", problem);
                    StaticAliases::default()
                }
            },
        };
        let severity = SeverityRules::from_lists(
            var("DELIBIRD_SEVERITY_CRITICAL_KEYWORDS").as_deref(),
            var("DELIBIRD_SEVERITY_HIGH_KEYWORDS").as_deref(),
            var("DELIBIRD_SEVERITY_WARNING_KEYWORDS").as_deref(),
        );
        let switch = |name: &'static str| match var(name).as_deref().map(str::trim) {
            None | Some("1" | "true") => true,
            Some("0" | "false") => false,
            Some(_) => {
                fail(name, "expected 1 or 0".into());
                true
            }
        };
        let folding = Folding {
            backup_copies: switch("DELIBIRD_FOLD_BACKUP_COPIES"),
            later_pages: switch("DELIBIRD_FOLD_PAGES"),
        };
        let dedup_table = var("DELIBIRD_DEDUP_TABLE").map(|table| table.trim().to_owned());
        let ou_path = switch("DELIBIRD_ACCOUNT_OU");
        let lookup = match var("DELIBIRD_ACCOUNT_LOOKUP").as_deref().map(str::trim) {
            None | Some("static") => false,
            Some("organizations") => true,
            Some(_) => {
                fail("DELIBIRD_ACCOUNT_LOOKUP", "expected organizations or static".into());
                false
            }
        };
        let role_arn = var("DELIBIRD_ACCOUNT_LOOKUP_ROLE_ARN").map(|arn| arn.trim().to_owned());
        if role_arn.as_deref().is_some_and(|arn| !(arn.starts_with("arn:") && arn.contains(":role/"))) {
            fail(
                "DELIBIRD_ACCOUNT_LOOKUP_ROLE_ARN",
                "expected an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)".into(),
            );
        }
        let tag_keys: Vec<String> = var("DELIBIRD_ACCOUNT_TAGS")
            .map(|keys| keys.split(',').map(str::trim).filter(|k| !k.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        let language = var("DELIBIRD_LANGUAGE").unwrap_or_else(|| "en_US".into()).trim().to_owned();

        let defaults = RetryPolicy::default();
        let millis = |name: &'static str, default: Duration, max: u64| -> Duration {
            number(var(name), 1, max).map_or_else(
                |problem| {
                    fail(name, problem);
                    default
                },
                |value| value.map_or(default, Duration::from_millis),
            )
        };
        let request_timeout = millis("DELIBIRD_HTTP_TIMEOUT_MS", defaults.request_timeout, 900_000);
        let base = millis("DELIBIRD_RETRY_BASE_MS", defaults.base, 900_000);
        let cap = millis("DELIBIRD_RETRY_CAP_MS", defaults.cap, 900_000);
        let deadline_margin = millis("DELIBIRD_DEADLINE_MARGIN_MS", defaults.deadline_margin, 900_000);
        let webhook_interval = match number(var("DELIBIRD_WEBHOOK_INTERVAL_MS"), 0, 60_000) {
            Ok(value) => value.map_or(CHAT_INTERVAL, Duration::from_millis),
            Err(problem) => {
                fail("DELIBIRD_WEBHOOK_INTERVAL_MS", problem);
                CHAT_INTERVAL
            }
        };
        let dedup_ttl = match number(var("DELIBIRD_DEDUP_TTL_DAYS"), 1, 3_650) {
            Ok(days) => Duration::from_secs(days.unwrap_or(30) * 86_400),
            Err(problem) => {
                fail("DELIBIRD_DEDUP_TTL_DAYS", problem);
                Duration::ZERO
            }
        };
        let max_attempts = match number(var("DELIBIRD_RETRY_MAX_ATTEMPTS"), 1, 20) {
            Ok(value) => value.and_then(|n| NonZeroU32::new(u32::try_from(n).ok()?)).unwrap_or(defaults.max_attempts),
            Err(problem) => {
                fail("DELIBIRD_RETRY_MAX_ATTEMPTS", problem);
                defaults.max_attempts
            }
        };
        let org_defaults = OrgSettings::default();
        let ttl = match number(var("DELIBIRD_ACCOUNT_CACHE_TTL_S"), 1, 86_400) {
            Ok(seconds) => seconds.map_or(org_defaults.ttl, Duration::from_secs),
            Err(problem) => {
                fail("DELIBIRD_ACCOUNT_CACHE_TTL_S", problem);
                org_defaults.ttl
            }
        };
        let budget = millis("DELIBIRD_ACCOUNT_LOOKUP_TIMEOUT_MS", org_defaults.budget, 60_000);
        let organizations =
            lookup.then_some(OrgLookup { role_arn, settings: OrgSettings { ttl, tag_keys, ou_path, budget } });
        if cap < base {
            fail("DELIBIRD_RETRY_CAP_MS", "must not be below DELIBIRD_RETRY_BASE_MS".into());
        }
        let rules = rules_var.and_then(|text| {
            let text = text.trim();
            if let Some(name) = text.strip_prefix("ssm:") {
                if name.starts_with('/') && name.len() > 1 {
                    return Some(RulesConfig::Ssm(name.to_owned()));
                }
                fail("DELIBIRD_RULES", "expected a file's path or ssm:/parameter/name".into());
                return None;
            }
            let file = match std::fs::read_to_string(text) {
                Ok(file) => file,
                Err(error) => {
                    fail("DELIBIRD_RULES", format!("cannot read {text}: {error}"));
                    return None;
                }
            };
            let tags = organizations.as_ref().map_or(&[][..], |lookup| &lookup.settings.tag_keys[..]);
            let context = Context { default_webhook: source.is_some(), account_tags: Some(tags) };
            match RuleSet::parse(&file, &context) {
                Ok(rules) => Some(RulesConfig::Loaded(rules)),
                Err(errors) => {
                    for error in errors.0 {
                        fail("DELIBIRD_RULES", format!("{text}: {error}"));
                    }
                    None
                }
            }
        });

        let errors = errors.into_inner();
        if !errors.is_empty() {
            return Err(ConfigErrors(Problems(errors)));
        }
        Ok(Self {
            webhook: source,
            allow_loopback,
            aliases,
            card: CardSettings { severity, language, clock: crate::card::Clock::System },
            retry: RetryPolicy { max_attempts, base, cap, request_timeout, deadline_margin },
            webhook_interval,
            dedup_table,
            dedup_ttl,
            folding,
            organizations,
            rules,
        })
    }
}

fn secret_source(text: &str) -> Option<WebhookSource> {
    let text = text.trim();
    if let Some(name) = text.strip_prefix("ssm:") {
        return name.starts_with('/').then(|| WebhookSource::Ssm(name.to_owned())).filter(|_| name.len() > 1);
    }
    text.starts_with("arn:")
        .then_some(())
        .filter(|()| text.split(':').nth(2) == Some("secretsmanager"))
        .map(|()| WebhookSource::SecretsManager(text.to_owned()))
}

fn read_aliases(text: &str) -> Result<StaticAliases, String> {
    let (json, origin) = match text.trim().strip_prefix('@') {
        Some(path) => {
            (std::fs::read_to_string(path).map_err(|error| format!("cannot read {path}: {error}"))?, Some(path))
        }
        None => (text.to_owned(), None),
    };
    StaticAliases::from_json(&json).map_err(|error| match origin {
        Some(path) => format!("{path}: {error}"),
        None => error.to_string(),
    })
}

/// An optional whole number within `min..=max`.
fn number(text: Option<String>, min: u64, max: u64) -> Result<Option<u64>, String> {
    use validator::ValidateRange;
    let Some(text) = text else { return Ok(None) };
    let value: u64 = text
        .trim()
        .parse()
        .map_err(|_| format!("expected a whole number, found {:?}", text.chars().take(20).collect::<String>()))?;
    if value.validate_range(Some(min), Some(max), None, None) {
        Ok(Some(value))
    } else {
        Err(format!("expected {min} to {max}, found {value}"))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)], webhook: Webhook) -> Result<Config, ConfigErrors> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::from_vars(|name| vars.get(name).cloned(), webhook)
    }

    #[test]
    fn reports_every_bad_variable_at_once() {
        let errors = config(
            &[
                ("DELIBIRD_WEBHOOK_URL", "https://example.com/hook?token=SECRET"),
                ("DELIBIRD_ACCOUNT_ALIASES", "{\"12\": \"x\"}"),
                ("DELIBIRD_RETRY_MAX_ATTEMPTS", "0"),
                ("DELIBIRD_HTTP_TIMEOUT_MS", "soon"),
            ],
            Webhook::Required,
        )
        .unwrap_err();
        let variables: Vec<&str> = errors.0.iter().map(|e| e.variable).collect();
        assert_eq!(
            variables,
            [
                "DELIBIRD_WEBHOOK_URL",
                "DELIBIRD_ACCOUNT_ALIASES",
                "DELIBIRD_HTTP_TIMEOUT_MS",
                "DELIBIRD_RETRY_MAX_ATTEMPTS"
            ]
        );
        assert!(!errors.to_string().contains("SECRET"));
    }

    #[test]
    fn requires_a_webhook_only_when_delivering() {
        assert!(config(&[], Webhook::Optional).is_ok());
        let errors = config(&[], Webhook::Required).unwrap_err();
        assert_eq!(errors.0[0].variable, "DELIBIRD_WEBHOOK_URL");
    }

    #[test]
    fn rendering_ignores_the_webhook_variables() {
        let bad = [("DELIBIRD_WEBHOOK_URL", "https://example.com/x")];
        assert!(config(&bad, Webhook::Optional).is_err());
        assert_eq!(config(&bad, Webhook::Ignored).unwrap().webhook, None);
    }

    #[test]
    fn reads_dedup_and_folding_settings() {
        let config = config(
            &[
                ("DELIBIRD_DEDUP_TABLE", "delibird-dedup"),
                ("DELIBIRD_DEDUP_TTL_DAYS", "7"),
                ("DELIBIRD_FOLD_PAGES", "0"),
                ("DELIBIRD_WEBHOOK_INTERVAL_MS", "250"),
            ],
            Webhook::Optional,
        )
        .unwrap();
        assert_eq!(config.dedup_table.as_deref(), Some("delibird-dedup"));
        assert_eq!(config.dedup_ttl, Duration::from_secs(7 * 86_400));
        assert_eq!(config.folding, Folding { backup_copies: true, later_pages: false });
        assert_eq!(config.webhook_interval, Duration::from_millis(250));
        assert!(
            super::Config::from_vars(|n| (n == "DELIBIRD_FOLD_PAGES").then(|| "maybe".into()), Webhook::Optional)
                .is_err()
        );
    }

    #[test]
    fn reads_the_organizations_lookup() {
        let loaded = config(
            &[
                ("DELIBIRD_ACCOUNT_LOOKUP", "organizations"),
                ("DELIBIRD_ACCOUNT_LOOKUP_ROLE_ARN", "arn:aws:iam::111122223333:role/delibird-accounts"),
                ("DELIBIRD_ACCOUNT_TAGS", "Owner, Team"),
                ("DELIBIRD_ACCOUNT_CACHE_TTL_S", "600"),
            ],
            Webhook::Optional,
        )
        .unwrap();
        let lookup = loaded.organizations.unwrap();
        assert_eq!(lookup.role_arn.as_deref(), Some("arn:aws:iam::111122223333:role/delibird-accounts"));
        assert_eq!(lookup.settings.tag_keys, ["Owner", "Team"]);
        assert_eq!(lookup.settings.ttl, Duration::from_secs(600));
        let bad = [("DELIBIRD_ACCOUNT_LOOKUP", "ldap"), ("DELIBIRD_ACCOUNT_LOOKUP_ROLE_ARN", "delibird")];
        assert_eq!(config(&bad, Webhook::Optional).unwrap_err().0.len(), 2);
    }

    #[test]
    fn reads_secret_sources() {
        let ssm = config(&[("DELIBIRD_WEBHOOK_SECRET", "ssm:/delibird/webhook")], Webhook::Required).unwrap();
        assert_eq!(ssm.webhook, Some(WebhookSource::Ssm("/delibird/webhook".into())));
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:delibird-AbCdEf";
        let sm = config(&[("DELIBIRD_WEBHOOK_SECRET", arn)], Webhook::Required).unwrap();
        assert_eq!(sm.webhook, Some(WebhookSource::SecretsManager(arn.into())));
        assert!(config(&[("DELIBIRD_WEBHOOK_SECRET", "/no/prefix")], Webhook::Required).is_err());
    }

    fn rules_file(name: &str, text: &str) -> String {
        let path = std::env::temp_dir().join(format!("delibird-config-{}-{name}.toml", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    #[test]
    fn rules_make_the_webhook_optional_and_are_compiled_with_the_rest() {
        let path = rules_file("good", "drop_unmatched = true\n[webhooks]\noncall = \"env:HOOK\"\n");
        let loaded = config(&[("DELIBIRD_RULES", &path)], Webhook::Required).unwrap();
        assert!(matches!(loaded.rules, Some(RulesConfig::Loaded(_))), "{:?}", loaded.rules);
        assert_eq!(loaded.webhook, None);
        let ssm = config(&[("DELIBIRD_RULES", "ssm:/delibird/rules")], Webhook::Required).unwrap();
        assert_eq!(ssm.rules, Some(RulesConfig::Ssm("/delibird/rules".into())));
        assert_eq!(config(&[("DELIBIRD_RULES", &path)], Webhook::Ignored).unwrap().rules, None, "render ignores them");
    }

    #[test]
    fn every_bad_rule_is_reported_with_the_other_problems() {
        let path = rules_file(
            "bad",
            "drop_unmatched = true\n[[rule]]\nname = \"a\"\nwhere = \"region =\"\nwebhooks = []\n\
             [[rule]]\nname = \"b\"\nwhere = \"delibird.account.tags.Team = 'x'\"\nwebhooks = []\n",
        );
        let errors =
            config(&[("DELIBIRD_RULES", &path), ("DELIBIRD_RETRY_MAX_ATTEMPTS", "0")], Webhook::Required).unwrap_err();
        let variables: Vec<&str> = errors.0.iter().map(|e| e.variable).collect();
        assert_eq!(variables, ["DELIBIRD_RETRY_MAX_ATTEMPTS", "DELIBIRD_RULES", "DELIBIRD_RULES"]);
        let shown = errors.to_string();
        assert!(shown.contains("rule \"a\" (line 4): where, line 1, column 9: Expected: an expression"), "{shown}");
        assert!(shown.contains("DELIBIRD_ACCOUNT_TAGS does not name Team"), "{shown}");
        assert!(config(&[("DELIBIRD_RULES", "/no/such/rules.toml")], Webhook::Required).is_err());
    }

    #[test]
    fn refuses_loopback_unless_allowed() {
        let url = ("DELIBIRD_WEBHOOK_URL", "http://127.0.0.1:9/v1/spaces/A/messages?token=t");
        assert!(config(&[url], Webhook::Required).is_err());
        assert!(config(&[url, ("DELIBIRD_ALLOW_LOOPBACK_WEBHOOK", "1")], Webhook::Required).is_ok());
    }
}
