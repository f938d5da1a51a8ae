//! What can be wrong with configuration: each [`ConfigError`] names its variable and says what
//! ([`ConfigProblem`]); [`ConfigErrors`] is every one found. None ever quotes a secret.

use std::sync::Arc;

use crate::accounts::AliasError;
use crate::problems::Problems;

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
    /// Not an IAM role ARN.
    #[error("expected an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")]
    NotARoleArn,
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
    /// A value that cannot be used, in the words of the code that read it: the webhook and the
    /// rules sources (`DELIBIRD_WEBHOOK_URL`, `DELIBIRD_WEBHOOK_SECRET`, `DELIBIRD_RULES`).
    #[error("{0}")]
    Unusable(String),
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
