//! Stage 2: the AWS Health event as typed domain values, and [`validate`], which builds one from
//! JSON and reports every problem at once.
//!
//! Values AWS may extend (categories, statuses, scopes) are enums with an `Other` case that keeps
//! the text, so a new value is rendered rather than rejected. No I/O here.

mod event_time;
mod salvage;
mod validate;

use std::collections::BTreeMap;
use std::fmt;

pub use event_time::EventTime;
pub use salvage::{Checked, UNKNOWN_TYPE_CODE, check, salvage};
pub use validate::{FieldError, FieldErrorKind, ValidationErrors, validate};

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(String);

impl AccountId {
    /// The id if `text` is exactly 12 ASCII digits.
    pub fn parse(text: &str) -> Option<Self> {
        use validator::ValidateLength;
        let twelve = text.validate_length(Some(12), Some(12), None);
        (twelve && text.bytes().all(|b| b.is_ascii_digit())).then(|| Self(text.to_owned()))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The event's ARN: shared by every account and Region copy of one event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventArn(String);

impl EventArn {
    /// Wraps a non-empty ARN text (validation checks non-emptiness).
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The ARN text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Declares an enum of known wire values plus `Other(String)`, read case-insensitively.
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value delibird does not know yet, kept as it came.
            Other(String),
        }

        impl $name {
            /// Reads a wire value, ignoring case; unknown values become `Other`.
            pub fn parse(text: &str) -> Self {
                $(if text.eq_ignore_ascii_case($wire) { return Self::$variant; })+
                Self::Other(text.to_owned())
            }

            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Other(text) => text,
                }
            }
        }
    };
}

open_enum! {
    /// `eventTypeCategory`.
    Category {
        /// A problem affecting AWS services or resources.
        Issue = "issue",
        /// Information about the account (billing, security, limits).
        AccountNotification = "accountNotification",
        /// Planned maintenance or change.
        ScheduledChange = "scheduledChange",
        /// An ongoing investigation.
        Investigation = "investigation",
    }
}

open_enum! {
    /// `statusCode`.
    Status {
        /// Ongoing.
        Open = "open",
        /// Resolved.
        Closed = "closed",
        /// Scheduled for the future.
        Upcoming = "upcoming",
    }
}

open_enum! {
    /// `eventScopeCode`.
    Scope {
        /// Affects a service in a Region for everybody; reaches every account.
        Public = "PUBLIC",
        /// Affects the resources of one account.
        AccountSpecific = "ACCOUNT_SPECIFIC",
        /// Neither.
        None = "NONE",
    }
}

open_enum! {
    /// `actionability`: AWS's own urgency signal, on newer events.
    Actionability {
        /// The customer must act.
        ActionRequired = "ACTION_REQUIRED",
        /// The customer may have to act.
        ActionMayBeRequired = "ACTION_MAY_BE_REQUIRED",
        /// Nothing to do.
        Informational = "INFORMATIONAL",
    }
}

open_enum! {
    /// An affected entity's `status`.
    EntityStatus {
        /// Affected now.
        Impaired = "IMPAIRED",
        /// Not affected.
        Unimpaired = "UNIMPAIRED",
        /// Affected later or unknown yet.
        Pending = "PENDING",
        /// No longer affected.
        Resolved = "RESOLVED",
        /// AWS does not know.
        Unknown = "UNKNOWN",
    }
}

/// One entry of `eventDescription`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    /// `en_US`, `ko_KR`, …; empty when absent.
    pub language: String,
    /// The text, with real or escaped (`\n`) newlines as AWS sent it.
    pub text: String,
}

/// One entry of `affectedEntities`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    /// Instance id, ARN, account id, …
    pub value: String,
    /// `status` or `statusCode`, when present.
    pub status: Option<EntityStatus>,
    /// `lastUpdatedTime` or `lastupdatedTime`, when present.
    pub last_updated: Option<EventTime>,
    /// The resource's tags, when AWS sends them.
    pub tags: BTreeMap<String, String>,
}

/// `page` / `totalPages` of a paginated event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// This page, from 1.
    pub number: u32,
    /// How many pages the event has.
    pub total: u32,
}

/// A validated AWS Health event: the EventBridge envelope fields and the `detail`.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthEvent {
    /// EventBridge event id.
    pub id: Option<String>,
    /// `AWS Health Event` or `AWS Health Abuse Event`.
    pub detail_type: Option<String>,
    /// `aws.health`, or a test source.
    pub source: Option<String>,
    /// The account the event was delivered to (not necessarily the affected one).
    pub account: Option<AccountId>,
    /// When EventBridge emitted the event.
    pub time: Option<EventTime>,
    /// The Region the event was delivered to.
    pub region: Option<String>,
    /// `resources`, empty when absent.
    pub resources: Vec<String>,
    /// `detail.eventArn`: required.
    pub arn: EventArn,
    /// `detail.service`, e.g. `EC2`.
    pub service: Option<String>,
    /// `detail.eventTypeCode`: required.
    pub type_code: String,
    /// `detail.eventTypeCategory`.
    pub category: Option<Category>,
    /// `detail.eventScopeCode`.
    pub scope: Option<Scope>,
    /// `detail.communicationId`: shared by backup copies and pages.
    pub communication_id: Option<String>,
    /// `detail.startTime`.
    pub start: Option<EventTime>,
    /// `detail.endTime`; `""` reads as absent.
    pub end: Option<EventTime>,
    /// `detail.lastUpdatedTime`.
    pub last_updated: Option<EventTime>,
    /// `detail.statusCode`.
    pub status: Option<Status>,
    /// `detail.eventRegion`: the impacted Region.
    pub event_region: Option<String>,
    /// `detail.eventDescription`.
    pub descriptions: Vec<Description>,
    /// `detail.eventMetadata`.
    pub metadata: BTreeMap<String, String>,
    /// `detail.affectedEntities`.
    pub entities: Vec<Entity>,
    /// `detail.affectedAccount`.
    pub affected_account: Option<AccountId>,
    /// `detail.page` / `detail.totalPages`.
    pub page: Option<Page>,
    /// `detail.backupEvent`: a copy sent to the backup Region.
    pub backup: bool,
    /// `detail.actionability`.
    pub actionability: Option<Actionability>,
    /// `detail.personas`.
    pub personas: Vec<String>,
    /// Members of `detail` delibird does not know, as text (JSON for non-strings): kept and shown.
    pub extra: BTreeMap<String, String>,
}

impl HealthEvent {
    /// The account the event is about: `affectedAccount`, else the account it was delivered to.
    pub fn affected_account(&self) -> Option<&AccountId> {
        self.affected_account.as_ref().or(self.account.as_ref())
    }

    /// The impacted Region: `eventRegion`, else the Region of delivery.
    pub fn impacted_region(&self) -> Option<&str> {
        self.event_region.as_deref().or(self.region.as_deref())
    }

    /// The description in `language`, else `en_US`, else the first one.
    pub fn description(&self, language: &str) -> Option<&Description> {
        let by = |wanted: &str| self.descriptions.iter().find(|d| d.language.eq_ignore_ascii_case(wanted));
        by(language).or_else(|| by("en_US")).or_else(|| self.descriptions.first())
    }

    /// True when the event is resolved.
    pub fn is_closed(&self) -> bool {
        self.status == Some(Status::Closed)
    }
}
