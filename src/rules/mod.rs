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
//! `drop_unmatched = true`, nowhere. [`Router`] adds each webhook's URL and pacer.
//! No I/O here: where a webhook's URL is kept is a [`Kept`], fetched by [`crate::spaces`], which
//! also turns webhook names into spaces.

mod error;
mod file;
pub mod schema;
pub mod sql;
mod view;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::card::Mention;
use crate::chat;
use crate::kept::{Kept, KeptError};
pub use error::{RulesError, RulesErrors, RulesProblem};
pub use sql::{Condition, MAX_CONDITION_BYTES, Position, SqlError, SqlProblem};
pub use view::view;

/// The name of the webhook set by `DELIBIRD_WEBHOOK_URL` or `DELIBIRD_WEBHOOK_SECRET`.
pub const DEFAULT_WEBHOOK: &str = "default";

/// Longest webhook name, in characters.
const MAX_NAME_CHARS: usize = 64;

/// Most mentions one rule makes: a message that calls on more people than this should call on
/// everyone (`all`).
pub const MAX_MENTIONS: usize = 20;

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
    /// Who the first message of a matching event's thread calls on, in each of `webhooks`.
    pub mentions: Vec<Mention>,
    /// `digest_only = true`: matching events go to the daily digest of `webhooks`' spaces, with no
    /// card of their own, unless another matching rule sends them there as cards.
    pub digest_only: bool,
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

/// The rules an event matched and the webhooks it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched<'a> {
    /// The names of the rules that matched, in order.
    pub rules: Vec<&'a str>,
    /// The webhooks, each once, in the order the rules named them.
    pub webhooks: Vec<&'a str>,
    /// True when no rule matched (`webhooks` is then the default, or empty when dropped).
    pub unmatched: bool,
    /// Each webhook's mentions from the rules that matched, each once, in order.
    pub mentions: Vec<(&'a str, &'a Mention)>,
    /// Of `webhooks`, those only `digest_only` rules named: the event goes to their digest alone.
    pub digest_only: Vec<&'a str>,
}

impl RuleSet {
    /// The rules `view` matches, in order until one with `stop`, and where the event goes.
    pub fn route(&self, view: &Value) -> Matched<'_> {
        let mut matched = Matched {
            rules: Vec::new(),
            webhooks: Vec::new(),
            unmatched: false,
            mentions: Vec::new(),
            digest_only: Vec::new(),
        };
        let mut as_cards: Vec<&str> = Vec::new();
        for rule in &self.rules {
            if !rule.condition.matches(view) {
                continue;
            }
            matched.rules.push(&rule.name);
            for webhook in &rule.webhooks {
                if !matched.webhooks.contains(&webhook.as_str()) {
                    matched.webhooks.push(webhook);
                }
                if !rule.digest_only && !as_cards.contains(&webhook.as_str()) {
                    as_cards.push(webhook);
                }
                for mention in &rule.mentions {
                    if !matched.mentions.contains(&(webhook.as_str(), mention)) {
                        matched.mentions.push((webhook, mention));
                    }
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
                as_cards.push(name);
            }
        }
        matched.digest_only = matched.webhooks.iter().copied().filter(|webhook| !as_cards.contains(webhook)).collect();
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
    fn a_digest_only_rule_keeps_its_webhooks_for_the_digest_unless_a_card_rule_names_them_too() {
        let text = r#"
default = "platform"

[webhooks]
platform = "env:DELIBIRD_WEBHOOK_PLATFORM"
oncall = "env:DELIBIRD_WEBHOOK_ONCALL"

[[rule]]
name = "account notifications in the digest"
where = "detail.eventTypeCategory = 'accountNotification'"
webhooks = ["platform"]
digest_only = true

[[rule]]
name = "critical to on-call and platform"
where = "delibird.severity = 'critical'"
webhooks = ["oncall", "platform"]
"#;
        let rules = parse(text, false).unwrap();
        let notice = json!({"detail": {"eventTypeCategory": "accountNotification"}, "delibird": {"severity": "info"}});
        let quiet = rules.route(&notice);
        assert_eq!((quiet.webhooks, quiet.digest_only), (vec!["platform"], vec!["platform"]));
        let critical =
            json!({"detail": {"eventTypeCategory": "accountNotification"}, "delibird": {"severity": "critical"}});
        let loud = rules.route(&critical);
        assert_eq!(loud.webhooks, ["platform", "oncall"]);
        assert!(loud.digest_only.is_empty(), "a card rule naming the webhook wins: {:?}", loud.digest_only);
        let other = rules.route(&json!({"detail": {"eventTypeCategory": "issue"}, "delibird": {"severity": "high"}}));
        assert!(other.unmatched && other.digest_only.is_empty(), "the default takes cards");
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

    #[test]
    fn a_rule_reading_an_unknown_field_is_refused_with_the_rule_languages_problem() {
        let text =
            "drop_unmatched = true\n[[rule]]\nname = \"ec2\"\nwhere = \"detail.servce = 'EC2'\"\nwebhooks = []\n";
        let errors = parse(text, false).unwrap_err();
        let [RulesError { line: Some(4), rule: Some(rule), kind: RulesProblem::Condition(error) }] =
            errors.0.as_slice()
        else {
            panic!("{errors}");
        };
        assert_eq!(rule, "ec2");
        let SqlProblem::NotAField { suggestion, .. } = &error.kind else { panic!("{error}") };
        assert_eq!(suggestion.as_deref(), Some("detail.service"));
    }

    #[test]
    fn a_rules_mentions_are_made_in_its_webhooks_spaces_each_once() {
        let text = "drop_unmatched = true\n[webhooks]\noncall = \"env:A\"\nteam = \"env:B\"\n\
                    [[rule]]\nname = \"critical\"\nwhere = \"delibird.severity = 'critical'\"\n\
                    webhooks = [\"oncall\"]\nmention = [\"all\", \"users/42\", \"42\", \"ALL\"]\n\
                    [[rule]]\nname = \"every\"\nwhere = \"region = 'us-east-1'\"\nwebhooks = [\"oncall\", \"team\"]\n";
        let rules = parse(text, false).unwrap();
        assert_eq!(rules.rules[0].mentions, [Mention::All, Mention::User("42".into())]);
        assert!(rules.rules[1].mentions.is_empty());
        let view = json!({"region": "us-east-1", "delibird": {"severity": "critical"}});
        let matched = rules.route(&view);
        assert_eq!(matched.webhooks, ["oncall", "team"]);
        assert_eq!(matched.mentions, [("oncall", &Mention::All), ("oncall", &Mention::User("42".into()))]);
    }

    #[test]
    fn a_mention_that_is_not_all_or_an_id_is_refused_saying_what_is() {
        let many: Vec<String> = (1..=21).map(|n| format!("\"{n}\"")).collect();
        let text = format!(
            "drop_unmatched = true\n[webhooks]\noncall = \"env:A\"\n\
             [[rule]]\nname = \"bad\"\nwhere = \"region = 'a'\"\nwebhooks = [\"oncall\"]\n\
             mention = [\"someone@example.com\", \"users/\"]\n\
             [[rule]]\nname = \"many\"\nwhere = \"region = 'a'\"\nwebhooks = [\"oncall\"]\nmention = [{}]\n\
             [[rule]]\nname = \"nowhere\"\nwhere = \"region = 'a'\"\nwebhooks = []\nmention = [\"all\"]\n",
            many.join(", ")
        );
        let errors = parse(&text, false).unwrap_err();
        let kinds: Vec<&RulesProblem> = errors.0.iter().map(|error| &error.kind).collect();
        assert_eq!(
            kinds,
            [
                &RulesProblem::BadMention { shown: "someone@example.com".into() },
                &RulesProblem::BadMention { shown: "users/".into() },
                &RulesProblem::TooManyMentions { count: 21 },
                &RulesProblem::MentionNowhere,
            ],
            "{errors}"
        );
        let shown = errors.to_string();
        assert!(shown.contains("rule \"bad\" (line 8): mention \"someone@example.com\": expected \"all\""), "{shown}");
        assert!(shown.contains("an email address is not an id"), "{shown}");
    }

    #[test]
    fn each_problem_of_a_file_is_typed() {
        let text = "default = \"nowhere\"\ndrop_unmatched = true\n[webhooks]\ndefault = \"env:X\"\n";
        let kinds: Vec<RulesProblem> = parse(text, false).unwrap_err().into_iter().map(|error| error.kind).collect();
        assert_eq!(kinds, [RulesProblem::ReservedName, RulesProblem::DefaultAndDrop]);
    }
}
