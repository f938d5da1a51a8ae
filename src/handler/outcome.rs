//! What happened to one record, in one vocabulary whether or not rules route: the record held no
//! event, was a later page folded into page 1, was routed nowhere, or was sent to its spaces —
//! and what happened at each.

use crate::envelope::RecordError;
use crate::health::ValidationErrors;
use crate::webhook::{Delivery, DeliveryError};

/// What happened to one record.
#[derive(Debug)]
pub enum Outcome {
    /// The record holds no event.
    Unusable(RecordError),
    /// A later page of a paginated event, folded into page 1's notification.
    Folded,
    /// Routed by rules to no space: no rule matched and unmatched events are dropped, or the
    /// rules it matched (named here) have no webhooks.
    Dropped {
        /// The rules it matched.
        rules: Vec<String>,
    },
    /// Sent to its spaces: what happened at each.
    Sent {
        /// The rules it matched, when rules route (none: it went to their default).
        rules: Option<Vec<String>>,
        /// What was wrong with the event, for a degraded card.
        problems: Option<ValidationErrors>,
        /// Each space's outcome, in the order the rules named them.
        sent: Vec<Sent>,
    },
}

/// What happened to a record at one space.
#[derive(Debug)]
pub struct Sent {
    /// The space's name (`default` without rules).
    pub space: String,
    /// The outcome there.
    pub posting: Posting,
}

/// The outcome of one card at one space.
#[derive(Debug)]
pub enum Posting {
    /// The chat service accepted it.
    Posted(Delivery),
    /// It was in a message posted for several copies at once (an account of a roll-up), which
    /// another record of the invocation carries as posted.
    Included,
    /// The thread there says this already (or this is a late copy of an older update).
    Duplicate,
    /// A `digest_only` rule sent it there: kept for the space's daily digest, with no card.
    Digest,
    /// It could not be delivered.
    Undelivered(DeliveryError),
    /// Another invocation that is still running holds the thread: left for a retry, which will
    /// find out whether that one posted it.
    Held,
    /// Not started: the invocation's deadline was near, or an earlier update of its thread could
    /// not be delivered. Left for a retry.
    Postponed,
}

impl Posting {
    /// True when the record must be tried again for this space.
    pub fn is_failure(&self) -> bool {
        match self {
            Self::Undelivered(_) | Self::Held | Self::Postponed => true,
            Self::Posted(_) | Self::Included | Self::Duplicate | Self::Digest => false,
        }
    }
}

impl Outcome {
    /// True when the record needs another try (or the dead-letter queue): it holds no event, or
    /// some space did not get its card.
    pub fn is_failure(&self) -> bool {
        match self {
            Self::Unusable(_) => true,
            Self::Sent { .. } => self.is_undelivered(),
            Self::Folded | Self::Dropped { .. } => false,
        }
    }

    /// True when some space did not get the record's card.
    pub fn is_undelivered(&self) -> bool {
        match self {
            Self::Sent { sent, .. } => sent.iter().any(|s| s.posting.is_failure()),
            Self::Unusable(_) | Self::Folded | Self::Dropped { .. } => false,
        }
    }

    /// What happened at each space it was sent to (none when it was not sent).
    pub fn postings(&self) -> &[Sent] {
        match self {
            Self::Sent { sent, .. } => sent,
            Self::Unusable(_) | Self::Folded | Self::Dropped { .. } => &[],
        }
    }
}
