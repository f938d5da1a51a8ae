//! What can be wrong with configuration: each [`ConfigError`] names its variable and says what
//! ([`ConfigProblem`]); [`ConfigErrors`] is every one found. None ever quotes a secret.

use std::sync::Arc;

use crate::accounts::AliasError;
use crate::kept::{KeptError, WebhookUrlError};
use crate::problems::Problems;
use crate::rules::RulesError;
use crate::schedule::{DigestAtError, OffsetError};

/// One variable that is missing or wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {kind}")]
pub struct ConfigError {
    /// The variable's name.
    pub variable: &'static str,
    /// What is wrong, never quoting a secret.
    pub kind: ConfigProblem,
}

/// Every configuration problem found (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigErrors(pub Problems<ConfigError>);

/// What is wrong with one variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigProblem {
    /// A switch that is neither on nor off.
    #[error("expected 1 or 0, found {found:?}")]
    NotASwitch {
        /// The value, cut to 20 characters.
        found: String,
    },
    /// Not a whole number.
    #[error("expected a whole number, found {found:?}")]
    NotANumber {
        /// The value, cut to 20 characters.
        found: String,
    },
    /// A number outside what the variable allows.
    #[error("expected {min} to {max}, found {found}")]
    OutOfRange {
        /// The least allowed.
        min: u64,
        /// The most allowed.
        max: u64,
        /// The number given.
        found: u64,
    },
    /// Not one of the words the variable takes.
    #[error("expected {}, found {found:?}", .expected.join(" or "))]
    NotOneOf {
        /// The words it takes.
        expected: &'static [&'static str],
        /// The value, cut to 20 characters.
        found: String,
    },
    /// An item of a list of roles that is not an IAM role ARN.
    #[error(
        "expected IAM role ARNs, one per organization, comma-separated (arn:aws:iam::ACCOUNT:role/NAME; \
         arn:aws-us-gov:… and arn:aws-cn:… in GovCloud and China): item {item} is {found:?}"
    )]
    NotARoleArn {
        /// Which item, from 1.
        item: usize,
        /// The item, cut to 20 characters.
        found: String,
    },
    /// A role given twice in a list of roles, one per organization.
    #[error("item {item} repeats item {first}: give each organization's role once")]
    RepeatedRole {
        /// Which item, from 1.
        item: usize,
        /// The item it repeats.
        first: usize,
    },
    /// Lower than another variable it must not be below.
    #[error("must not be below {other}")]
    Below {
        /// The other variable.
        other: &'static str,
    },
    /// A file the variable names that cannot be read.
    #[error("cannot read {path}: {source}")]
    Unreadable {
        /// The file.
        path: String,
        /// Why.
        source: Shared<std::io::Error>,
    },
    /// Account names that cannot be used.
    #[error("{}{source}", .file.as_ref().map_or(String::new(), |f| format!("{f}: ")))]
    Aliases {
        /// The file they were read from (`@path`), when they were.
        file: Option<String>,
        /// What is wrong with them.
        source: Shared<AliasError>,
    },
    /// One reminder offset that is not one (`DELIBIRD_REMINDERS`).
    #[error(transparent)]
    Offset(#[from] OffsetError),
    /// The digest's time or zone is not one (`DELIBIRD_DIGEST_AT`, `DELIBIRD_DIGEST_TZ`).
    #[error(transparent)]
    DigestAt(#[from] DigestAtError),
    /// Both `DELIBIRD_WEBHOOK_URL` and `DELIBIRD_WEBHOOK_SECRET`: which one is meant is unclear.
    #[error("set only one of DELIBIRD_WEBHOOK_URL and DELIBIRD_WEBHOOK_SECRET")]
    BothWebhooks,
    /// A webhook URL that is not one (`DELIBIRD_WEBHOOK_URL`), never quoting it.
    #[error(transparent)]
    Webhook(#[from] WebhookUrlError),
    /// Not where a secret is kept (`DELIBIRD_WEBHOOK_SECRET`): an SSM parameter or a Secrets
    /// Manager secret; never quoting the value, which may be the URL itself.
    #[error("expected ssm:/parameter/name or a Secrets Manager secret ARN")]
    NotASecretSource {
        /// What is wrong with the text as a place a URL is kept, when it says more than that it
        /// is another kind of place (`ssm:` without a name, say).
        #[source]
        source: Option<KeptError>,
    },
    /// Delivering, and neither a webhook nor rules naming webhooks.
    #[error("required (or DELIBIRD_WEBHOOK_SECRET, or DELIBIRD_RULES)")]
    NoWebhook,
    /// `DELIBIRD_RULES` names neither a file nor an SSM parameter.
    #[error("expected a file's path or ssm:/parameter/name")]
    NotARulesSource,
    /// One problem of the rules file `DELIBIRD_RULES` names (each is a problem of its own).
    #[error("{file}: {source}")]
    Rules {
        /// The file.
        file: String,
        /// What is wrong, where (boxed: a rules error is large beside the other problems).
        #[source]
        source: Box<RulesError>,
    },
}

/// An error a configuration error holds as its source: shared, so that configuration errors can
/// be cloned, and equal to another when it says the same.
#[derive(Debug)]
pub struct Shared<E>(pub Arc<E>);

impl<E> Shared<E> {
    /// Shares `error`.
    pub fn new(error: E) -> Self {
        Self(Arc::new(error))
    }
}

impl<E> Clone for Shared<E> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<E: std::fmt::Display> PartialEq for Shared<E> {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_string() == other.0.to_string()
    }
}

impl<E: std::fmt::Display> Eq for Shared<E> {}

impl<E: std::fmt::Display> std::fmt::Display for Shared<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<E: std::error::Error> std::error::Error for Shared<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}
