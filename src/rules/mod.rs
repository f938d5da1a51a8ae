//! Routing: which Google Chat spaces an event goes to, decided by rules written as SQL over the
//! event, and the same SQL to query event files (`delibird query`).
//!
//! A rules file (TOML, named by `DELIBIRD_RULES`) maps short webhook names to where each URL is
//! kept — never the URL itself — and lists rules in order:
//!
//! ```toml
//! default = "platform"                       # where events no rule matches go
//!
//! [webhooks]
//! platform = "ssm:/delibird/webhooks/platform"
//! oncall   = "env:DELIBIRD_WEBHOOK_ONCALL"
//!
//! [[rule]]
//! name = "critical to on-call"
//! where = "delibird.severity = 'critical'"
//! webhooks = ["oncall"]
//! ```
//!
//! [`RuleSet::parse`] reads and compiles a file, reporting every problem at once (each bad rule
//! with its name, line and what was expected); [`RuleSet::route`] matches a [`view`] of an event
//! against every rule in order: each matching rule adds its webhooks, `stop = true` ends the
//! matching, and an event no rule matched goes to the `default` webhook or, with
//! `drop_unmatched = true`, nowhere. [`crate::spaces`] turns webhook names into spaces. No I/O
//! here: where a webhook's URL is kept is [`Kept`], fetched by [`crate::spaces`].

pub mod condition;
mod view;

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde_json::Value;
use toml::Spanned;

use crate::chat;
use crate::kept::{Kept, KeptError};

pub use condition::{
    ACCOUNT_FIELDS, Condition, DELIBIRD_FIELDS, MAX_CONDITION_BYTES, Position, ROOT_FIELDS, SEVERITIES, SqlError,
};
pub use view::view;

/// The name of the webhook set by `DELIBIRD_WEBHOOK_URL` or `DELIBIRD_WEBHOOK_SECRET`.
pub const DEFAULT_WEBHOOK: &str = "default";

/// Longest webhook name, in characters.
const MAX_NAME_CHARS: usize = 64;

/// One compiled rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Its name, shown in logs.
    pub name: String,
    /// When it matches.
    pub condition: Condition,
    /// Where matching events go; empty: nowhere (with `stop`, a filter).
    pub webhooks: Vec<String>,
    /// Whether matching ends with this rule when it matches.
    pub stop: bool,
}

/// What happens to an event no rule matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmatched {
    /// It goes to this webhook.
    Webhook(String),
    /// It is dropped (and logged).
    Drop,
}

/// A compiled rules file.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSet {
    /// Webhook name → where its URL is kept (never the URL itself: it is a secret). The webhook
    /// `default`, the environment's, is not among them: see [`RuleSet::names`].
    pub webhooks: BTreeMap<String, Kept>,
    /// Whether the name `default` (`DELIBIRD_WEBHOOK_URL` / `DELIBIRD_WEBHOOK_SECRET`) is known.
    pub default_webhook: bool,
    /// The rules, in order.
    pub rules: Vec<Rule>,
    /// What happens to events no rule matched.
    pub unmatched: Unmatched,
}

/// What the rest of the configuration says, for the checks [`RuleSet::parse`] makes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    /// Whether `DELIBIRD_WEBHOOK_URL` or `DELIBIRD_WEBHOOK_SECRET` is set (the webhook `default`).
    pub default_webhook: bool,
    /// The tag keys looked up for accounts (`DELIBIRD_ACCOUNT_TAGS`): a rule reading another tag
    /// would never see it. `None`: not checked.
    pub account_tags: Option<&'a [String]>,
}

/// One problem in a rules file. Never quotes a webhook's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RulesError {
    /// The line of the file it is on, when known.
    pub line: Option<usize>,
    /// The rule it is in, when it is in one.
    pub rule: Option<String>,
    /// What is wrong, or what was expected.
    pub problem: String,
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.rule, self.line) {
            (Some(rule), Some(line)) => write!(f, "rule {rule:?} (line {line}): {}", self.problem),
            (Some(rule), None) => write!(f, "rule {rule:?}: {}", self.problem),
            (None, Some(line)) => write!(f, "line {line}: {}", self.problem),
            (None, None) => f.write_str(&self.problem),
        }
    }
}

/// Every problem found in a rules file (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RulesErrors(pub Vec<RulesError>);

impl fmt::Display for RulesErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

/// The rules an event matched and the webhooks it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched<'a> {
    /// The names of the rules that matched, in order.
    pub rules: Vec<&'a str>,
    /// The webhooks, each once, in the order the rules named them.
    pub webhooks: Vec<&'a str>,
    /// True when no rule matched (`webhooks` is then the default, or empty when dropped).
    pub unmatched: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    default: Option<Spanned<String>>,
    #[serde(default)]
    drop_unmatched: bool,
    #[serde(default)]
    webhooks: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default, rename = "rule")]
    rules: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Spanned<String>,
    #[serde(rename = "where")]
    condition: Spanned<String>,
    webhooks: Vec<String>,
    #[serde(default)]
    stop: bool,
}

impl RuleSet {
    /// Reads and compiles a rules file, reporting every problem at once.
    pub fn parse(text: &str, context: &Context<'_>) -> Result<Self, RulesErrors> {
        let line_of = |offset: usize| text.get(..offset).map_or(1, |before| before.matches('\n').count() + 1);
        let raw: RawFile = toml::from_str(text).map_err(|error| {
            RulesErrors(vec![RulesError {
                line: error.span().map(|span| line_of(span.start)),
                rule: None,
                problem: format!("not a valid rules file: {}", without_quoted_values(error.message().trim())),
            }])
        })?;
        let mut errors = Vec::new();
        let mut webhooks = BTreeMap::new();
        for (name, value) in &raw.webhooks {
            let line = Some(line_of(name.span().start));
            let name = name.get_ref();
            let problem = if name == DEFAULT_WEBHOOK {
                Some(format!(
                    "webhook {DEFAULT_WEBHOOK:?}: that name is DELIBIRD_WEBHOOK_URL / DELIBIRD_WEBHOOK_SECRET; choose another"
                ))
            } else if !valid_name(name) {
                Some(format!(
                    "webhook {:?}: a name is 1 to {MAX_NAME_CHARS} letters, digits, '-' or '_'",
                    name.chars().take(MAX_NAME_CHARS).collect::<String>()
                ))
            } else {
                match kept(value.get_ref()) {
                    Ok(kept) => {
                        webhooks.insert(name.clone(), kept);
                        None
                    }
                    Err(problem) => Some(format!("webhook {name:?}: {problem}")),
                }
            };
            if let Some(problem) = problem {
                errors.push(RulesError { line, rule: None, problem });
            }
        }
        let known = |name: &str| {
            raw.webhooks.keys().any(|k| k.get_ref() == name) || (name == DEFAULT_WEBHOOK && context.default_webhook)
        };
        let unknown = |name: &str| {
            let mut problem = format!("webhook {name:?} is not in [webhooks]");
            if name == DEFAULT_WEBHOOK {
                problem.push_str(" (\"default\" is DELIBIRD_WEBHOOK_URL / DELIBIRD_WEBHOOK_SECRET, which is not set)");
            }
            problem
        };

        let mut rules = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for raw_rule in &raw.rules {
            let name = raw_rule.name.get_ref().trim().to_owned();
            let line = Some(line_of(raw_rule.name.span().start));
            let fail = |problem: String| RulesError { line, rule: Some(name.clone()), problem };
            if name.is_empty() {
                errors.push(RulesError { line, rule: None, problem: "a rule needs a name".into() });
            } else if seen.contains(&name) {
                errors.push(fail("another rule has the same name".into()));
            }
            seen.push(name.clone());
            for webhook in &raw_rule.webhooks {
                if !known(webhook) {
                    errors.push(fail(unknown(webhook)));
                }
            }
            let condition = match Condition::compile(raw_rule.condition.get_ref()) {
                Ok(condition) => condition,
                Err(error) => {
                    // The line of the file the error is on: where the string starts, plus the
                    // lines before the error within it (a multi-line string starts on the next).
                    let start = raw_rule.condition.span().start;
                    let multi_line = text.get(start..).is_some_and(|s| s.starts_with("\"\"\"") || s.starts_with("'''"));
                    let first = line_of(start) + usize::from(multi_line && text[start + 3..].starts_with('\n'));
                    let line = first + usize::try_from(error.position.line.saturating_sub(1)).unwrap_or(0);
                    errors.push(RulesError {
                        line: Some(line),
                        rule: Some(name.clone()),
                        problem: format!("where, {}: {}", error.position, error.problem),
                    });
                    continue;
                }
            };
            if let Some(tags) = context.account_tags {
                for field in condition.fields() {
                    if let Some(key) = field.strip_prefix("delibird.account.tags.")
                        && !tags.iter().any(|t| t == key)
                    {
                        errors.push(fail(format!(
                            "reads {field}, but DELIBIRD_ACCOUNT_TAGS does not name {key}: it would always be NULL"
                        )));
                    }
                }
            }
            rules.push(Rule { name, condition, webhooks: dedup(&raw_rule.webhooks), stop: raw_rule.stop });
        }

        let unmatched = match (&raw.default, raw.drop_unmatched) {
            (Some(name), true) => {
                errors.push(RulesError {
                    line: Some(line_of(name.span().start)),
                    rule: None,
                    problem: "set either default or drop_unmatched = true, not both".into(),
                });
                Unmatched::Drop
            }
            (Some(name), false) => {
                if !known(name.get_ref()) {
                    errors.push(RulesError {
                        line: Some(line_of(name.span().start)),
                        rule: None,
                        problem: format!("default: {}", unknown(name.get_ref())),
                    });
                }
                Unmatched::Webhook(name.get_ref().clone())
            }
            (None, true) => Unmatched::Drop,
            (None, false) if context.default_webhook => Unmatched::Webhook(DEFAULT_WEBHOOK.to_owned()),
            (None, false) => {
                errors.push(RulesError {
                    line: None,
                    rule: None,
                    problem: "events no rule matches need somewhere to go: set default = \"NAME\" (a webhook of \
                              [webhooks]), drop_unmatched = true, or DELIBIRD_WEBHOOK_URL / DELIBIRD_WEBHOOK_SECRET"
                        .into(),
                });
                Unmatched::Drop
            }
        };
        if !errors.is_empty() {
            return Err(RulesErrors(errors));
        }
        Ok(Self { webhooks, default_webhook: context.default_webhook, rules, unmatched })
    }

    /// The rules `view` matches, in order until one with `stop`, and where the event goes.
    pub fn route(&self, view: &Value) -> Matched<'_> {
        let mut matched = Matched { rules: Vec::new(), webhooks: Vec::new(), unmatched: false };
        for rule in &self.rules {
            if !rule.condition.matches(view) {
                continue;
            }
            matched.rules.push(&rule.name);
            for webhook in &rule.webhooks {
                if !matched.webhooks.contains(&webhook.as_str()) {
                    matched.webhooks.push(webhook);
                }
            }
            if rule.stop {
                break;
            }
        }
        if matched.rules.is_empty() {
            matched.unmatched = true;
            if let Unmatched::Webhook(name) = &self.unmatched {
                matched.webhooks.push(name);
            }
        }
        matched
    }

    /// Every webhook name the rules know, `default` first when known.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.default_webhook.then_some(DEFAULT_WEBHOOK).into_iter().chain(self.webhooks.keys().map(String::as_str))
    }

    /// True when some webhook's URL is fetched from AWS.
    pub fn needs_aws(&self) -> bool {
        self.webhooks.values().any(Kept::is_aws)
    }

    /// True when some rule reads `delibird.account.…`, which needs the account looked up first.
    pub fn reads_accounts(&self) -> bool {
        self.rules.iter().flat_map(|rule| rule.condition.fields()).any(|field| field.starts_with("delibird.account"))
    }
}

fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME_CHARS).contains(&name.chars().count())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn dedup(names: &[String]) -> Vec<String> {
    let mut unique: Vec<String> = Vec::new();
    for name in names {
        if !unique.contains(name) {
            unique.push(name.clone());
        }
    }
    unique
}

/// Where a webhook's URL is kept, from its value in `[webhooks]`; the error never quotes the
/// value (it might be the URL, a secret).
fn kept(value: &str) -> Result<Kept, String> {
    match Kept::parse(value, &chat::ENDPOINT, true) {
        Ok(Kept::Url(_)) | Err(KeptError::Url(_)) => {
            Err("the value looks like a URL, and a webhook URL is a secret: it does not belong in the rules file. \
                    Keep it in an environment variable (env:VAR), an SSM SecureString (ssm:/name) or Secrets Manager \
                    (the secret's ARN), and name that here"
                .into())
        }
        Ok(kept) => Ok(kept),
        Err(error) => Err(error.to_string()),
    }
}

/// A TOML error message with every double-quoted value replaced by `"…"`: serde quotes the
/// values it could not use, and a value in a rules file may be a webhook URL.
fn without_quoted_values(message: &str) -> String {
    let mut shown = String::with_capacity(message.len());
    let mut quoted = false;
    for c in message.chars() {
        match (c, quoted) {
            ('"', false) => {
                shown.push_str("\"…");
                quoted = true;
            }
            ('"', true) => {
                shown.push('"');
                quoted = false;
            }
            (c, false) => shown.push(c),
            (_, true) => {}
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const FILE: &str = r#"
default = "platform"

[webhooks]
platform = "env:DELIBIRD_WEBHOOK_PLATFORM"
payments = "ssm:/delibird/webhooks/payments"
oncall = "arn:aws:secretsmanager:us-east-1:111122223333:secret:oncall-AbCdEf"

[[rule]]
name = "ignore lifecycle notices"
where = "detail.eventTypeCode = 'AWS_LAMBDA_PLANNED_LIFECYCLE_EVENT'"
webhooks = []
stop = true

[[rule]]
name = "critical to on-call"
where = "delibird.severity = 'critical'"
webhooks = ["oncall"]

[[rule]]
name = "payments"
where = "delibird.account.name LIKE 'payments-%'"
webhooks = ["payments", "payments"]
"#;

    fn parse(text: &str, default_webhook: bool) -> Result<RuleSet, RulesErrors> {
        RuleSet::parse(text, &Context { default_webhook, account_tags: None })
    }

    fn event(code: &str, severity: &str, account: &str) -> Value {
        json!({"detail": {"eventTypeCode": code},
               "delibird": {"severity": severity, "account": {"id": "111122223333", "name": account}}})
    }

    #[test]
    fn rules_fan_out_stop_and_fall_back_to_the_default() {
        let rules = parse(FILE, false).unwrap();
        assert_eq!(rules.webhooks["platform"], Kept::Env("DELIBIRD_WEBHOOK_PLATFORM".into()));
        assert!(rules.needs_aws() && rules.reads_accounts());

        let both = rules.route(&event("AWS_RISK_CREDENTIALS_EXPOSED", "critical", "payments-prod"));
        assert_eq!(both.rules, ["critical to on-call", "payments"]);
        assert_eq!(both.webhooks, ["oncall", "payments"]);

        let noisy = rules.route(&event("AWS_LAMBDA_PLANNED_LIFECYCLE_EVENT", "critical", "payments-prod"));
        assert_eq!((noisy.rules, noisy.webhooks, noisy.unmatched), (vec!["ignore lifecycle notices"], vec![], false));

        let other = rules.route(&event("AWS_EC2_OPERATIONAL_ISSUE", "high", "data-prod"));
        assert_eq!((other.rules, other.webhooks, other.unmatched), (vec![], vec!["platform"], true));
    }

    #[test]
    fn every_problem_is_reported_at_once_with_rule_names_and_lines() {
        let text = r#"
[webhooks]
bad = "https://chat.googleapis.com/v1/spaces/A/messages?key=K&token=SECRET-TOKEN"
also_bad = "nope"

[[rule]]
name = "broken"
where = "detail.service = "
webhooks = ["bad"]

[[rule]]
name = "unknown webhook"
where = "region = 'us-east-1'"
webhooks = ["nowhere"]
"#;
        let errors = parse(text, false).unwrap_err();
        let shown = errors.to_string();
        assert!(!shown.contains("SECRET-TOKEN") && !shown.contains("googleapis.com/v1"), "{shown}");
        assert_eq!(errors.0.len(), 5, "{shown}");
        assert!(shown.contains("line 3: webhook \"bad\": the value looks like a URL"), "{shown}");
        assert!(shown.contains("line 4: webhook \"also_bad\": expected env:VAR"), "{shown}");
        assert!(
            shown.contains("rule \"broken\" (line 8): where, line 1, column 18: Expected: an expression"),
            "{shown}"
        );
        assert!(
            shown.contains("rule \"unknown webhook\" (line 12): webhook \"nowhere\" is not in [webhooks]"),
            "{shown}"
        );
        assert!(shown.contains("need somewhere to go"), "{shown}");
    }

    #[test]
    fn a_toml_error_never_quotes_a_value() {
        let text = "[[rule]]\nname = \"x\"\nwhere = \"region = 'a'\"\nwebhooks = \"https://chat.googleapis.com/?token=SECRET\"\n";
        let shown = parse(text, true).unwrap_err().to_string();
        assert!(shown.starts_with("line 4: not a valid rules file"), "{shown}");
        assert!(!shown.contains("SECRET"), "{shown}");
    }

    #[test]
    fn the_environment_webhook_is_the_default_unless_the_file_says_otherwise() {
        let text = "[[rule]]\nname = \"x\"\nwhere = \"region = 'a'\"\nwebhooks = [\"default\"]\n";
        let rules = parse(text, true).unwrap();
        assert_eq!(rules.unmatched, Unmatched::Webhook("default".into()));
        let shown = parse(text, false).unwrap_err().to_string();
        assert!(shown.contains("DELIBIRD_WEBHOOK_URL / DELIBIRD_WEBHOOK_SECRET, which is not set"), "{shown}");
        let dropping = format!("drop_unmatched = true\n{text}");
        assert_eq!(parse(&dropping, true).unwrap().unmatched, Unmatched::Drop);
    }

    #[test]
    fn a_rule_reading_a_tag_that_is_not_looked_up_is_refused() {
        let text = "drop_unmatched = true\n[[rule]]\nname = \"team\"\nwhere = \"delibird.account.tags.Team = 'a'\"\nwebhooks = []\n";
        let tags = ["Owner".to_owned()];
        let context = Context { default_webhook: false, account_tags: Some(&tags) };
        let shown = RuleSet::parse(text, &context).unwrap_err().to_string();
        assert!(shown.contains("DELIBIRD_ACCOUNT_TAGS does not name Team"), "{shown}");
    }

    #[test]
    fn a_multi_line_condition_reports_the_line_of_the_file() {
        let text = "drop_unmatched = true\n[[rule]]\nname = \"m\"\nwhere = \"\"\"\ndetail.service = 'EC2'\n  AND region LIKE\n\"\"\"\nwebhooks = []\n";
        let shown = parse(text, false).unwrap_err().to_string();
        assert!(shown.starts_with("rule \"m\" (line 7): where, line 3, column 1"), "{shown}");
    }
}
