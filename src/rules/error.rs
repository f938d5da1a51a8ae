//! What can be wrong with a rules file: each [`RulesError`] says where (line, rule) and what
//! ([`RulesProblem`]); [`RulesErrors`] is every one found. None ever quotes a webhook's value,
//! which may be its URL, a secret. No I/O here.

use std::fmt;

use super::sql::SqlError;
use super::{DEFAULT_WEBHOOK, MAX_MENTIONS, MAX_NAME_CHARS};
use crate::problems::Problems;

/// One problem in a rules file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RulesError {
    /// The line of the file it is on, when known.
    pub line: Option<usize>,
    /// The rule it is in, when it is in one.
    pub rule: Option<String>,
    /// What is wrong.
    pub kind: RulesProblem,
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.rule, self.line) {
            (Some(rule), Some(line)) => write!(f, "rule {rule:?} (line {line}): {}", self.kind),
            (Some(rule), None) => write!(f, "rule {rule:?}: {}", self.kind),
            (None, Some(line)) => write!(f, "line {line}: {}", self.kind),
            (None, None) => write!(f, "{}", self.kind),
        }
    }
}

/// Every problem found in a rules file (never empty).
pub type RulesErrors = Problems<RulesError>;

/// What is wrong in a rules file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesProblem {
    /// Not TOML, or not the shape of a rules file.
    #[error("not a valid rules file: {message}")]
    NotARulesFile {
        /// The TOML reader's words, every double-quoted value in them replaced by `"…"`.
        message: String,
    },
    /// A webhook named `default`, which is the environment's.
    #[error("webhook {DEFAULT_WEBHOOK:?}: that name is DELIBIRD_WEBHOOK_URL / DELIBIRD_WEBHOOK_SECRET; choose another")]
    ReservedName,
    /// A webhook name that is too long or has other characters.
    #[error("webhook {name:?}: a name is 1 to {MAX_NAME_CHARS} letters, digits, '-' or '_'")]
    BadName {
        /// The name, cut to its first [`MAX_NAME_CHARS`] characters.
        name: String,
    },
    /// A webhook whose value is not a place a URL is kept.
    #[error("webhook {name:?}: {problem}")]
    BadSource {
        /// The webhook.
        name: String,
        /// What is expected instead, never quoting the value.
        problem: String,
    },
    /// A rule without a name.
    #[error("a rule needs a name")]
    NoName,
    /// Two rules with one name.
    #[error("another rule has the same name")]
    DuplicateName,
    /// A webhook not in `[webhooks]`, named by a rule or by `default`.
    #[error(
        "{}webhook {name:?} is not in [webhooks]{}",
        if *.by_default { "default: " } else { "" },
        if name == DEFAULT_WEBHOOK {
            " (\"default\" is DELIBIRD_WEBHOOK_URL / DELIBIRD_WEBHOOK_SECRET, which is not set)"
        } else {
            ""
        }
    )]
    UnknownWebhook {
        /// The name.
        name: String,
        /// Whether `default = …` names it (else a rule's `webhooks`).
        by_default: bool,
    },
    /// A `where` that does not compile.
    #[error("where, {0}")]
    Condition(#[source] SqlError),
    /// A `where` reading an account tag that is never looked up.
    #[error("reads {field}, but DELIBIRD_ACCOUNT_TAGS does not name {key}: it would always be NULL")]
    UnreadTag {
        /// The field, `delibird.account.tags.KEY`.
        field: String,
        /// The tag key.
        key: String,
    },
    /// A `mention` that is neither `all` nor a numeric user id.
    #[error(
        "mention {shown:?}: expected \"all\" (everyone in the space) or a person's numeric Google Chat user id \
         (\"users/123456789012345678901\" or the digits alone); an email address is not an id"
    )]
    BadMention {
        /// The value, its first 40 characters with control characters escaped.
        shown: String,
    },
    /// More mentions in one rule than a message carries.
    #[error("{count} mentions: a rule mentions at most {MAX_MENTIONS}; mention \"all\" instead")]
    TooManyMentions {
        /// How many the rule lists.
        count: usize,
    },
    /// A `mention` on a rule that sends events nowhere.
    #[error("mention without webhooks: a mention is made in the spaces the rule's webhooks name")]
    MentionNowhere,
    /// Both `default` and `drop_unmatched = true`.
    #[error("set either default or drop_unmatched = true, not both")]
    DefaultAndDrop,
    /// Neither `default`, `drop_unmatched = true` nor the environment's webhook.
    #[error(
        "events no rule matches need somewhere to go: set default = \"NAME\" (a webhook of [webhooks]), \
         drop_unmatched = true, or DELIBIRD_WEBHOOK_URL / DELIBIRD_WEBHOOK_SECRET"
    )]
    NowhereToGo,
}
