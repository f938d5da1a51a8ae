//! What delibird keeps about each notification in each space, for the reminders and the digest:
//! the event's title, severity, times, status and link, and per account its name and how many of
//! its resources are still pending. Built from the events posted ([`Tracked::absorb`]), stored
//! with the thread (as JSON in the dedup table's thread item), and read back at each tick.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::accounts::EnrichedEvent;
use crate::card::{CardSettings, Severity, assess, event_link, event_title};
use crate::health::{Actionability, Category, EntityStatus, HealthEvent, Status};

/// One notification as its thread in one space last told it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracked {
    /// The thread's key in its space: where reminders go.
    pub thread: String,
    /// The event type in words: "EC2 instance retirement scheduled".
    pub title: String,
    /// How urgent it is, as [`Severity::label`] says it.
    pub severity: String,
    /// `eventTypeCategory`: `issue`, `scheduledChange`, `accountNotification`, `investigation`.
    pub category: String,
    /// The service, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The impacted Region, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The event in the AWS Health dashboard, when its ARN has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// `startTime`, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<i64>,
    /// `endTime`, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<i64>,
    /// `statusCode`: `open`, `upcoming`, `closed`.
    pub status: String,
    /// AWS marks it `ACTION_REQUIRED`.
    #[serde(default)]
    pub action_required: bool,
    /// Each affected account's part, by account id.
    #[serde(default)]
    pub accounts: BTreeMap<String, AccountPart>,
    /// When the thread was first told about it, seconds since the epoch: a reminder whose moment
    /// came before is not due (the first card was the reminder).
    pub first_posted: i64,
    /// When the thread was last told something, seconds since the epoch (a closed event leaves
    /// the digest 24 hours after this, when it has no `endTime`).
    pub last_posted: i64,
    /// The reminders posted so far, by their offset (`7d`, `1d`, `1h`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reminded: Vec<String>,
    /// Kept for the digest alone (a `digest_only` rule): its thread was never posted to, so the
    /// digest lists it among what it kept while it is new.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub digest_only: bool,
}

/// One account's part of a notification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountPart {
    /// `name (id)` when the account has a name, else the id.
    pub label: String,
    /// Its affected resources still pending (not resolved, not unimpaired).
    pub pending: u32,
    /// Its affected resources.
    pub total: u32,
}

/// A moment as seconds since the epoch.
pub(crate) fn epoch(at: DateTime<Utc>) -> i64 {
    at.timestamp()
}

/// Seconds since the epoch as a moment (the epoch itself for one out of range).
pub(crate) fn moment(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

impl Tracked {
    /// A notification first told to `thread` at `now` by `event`.
    pub fn new(event: &EnrichedEvent, thread: &str, settings: &CardSettings, now: DateTime<Utc>) -> Self {
        let mut tracked = Self {
            thread: thread.to_owned(),
            title: String::new(),
            severity: String::new(),
            category: String::new(),
            service: None,
            region: None,
            link: None,
            start: None,
            end: None,
            status: String::new(),
            action_required: false,
            accounts: BTreeMap::new(),
            first_posted: epoch(now),
            last_posted: epoch(now),
            reminded: Vec::new(),
            digest_only: false,
        };
        tracked.absorb(event, settings, now);
        tracked
    }

    /// Takes in a newer update of the notification (or another account's copy): the event's facts
    /// as the update says them, and the account's part.
    pub fn absorb(&mut self, enriched: &EnrichedEvent, settings: &CardSettings, now: DateTime<Utc>) {
        let event = &enriched.event;
        let description = event.description(&settings.language).map(|d| d.text.as_str());
        let severity = assess(event, description, &settings.severity);
        let first = self.accounts.is_empty();
        if first || severity.label() != self.severity {
            // The highest severity any account's copy has, as a roll-up shows it.
            let known = severity_of(&self.severity);
            self.severity = if first { severity } else { known.max(severity) }.label().to_owned();
        }
        self.title = event_title(event);
        self.category = event.category.as_ref().map_or("issue", Category::as_str).to_owned();
        self.service = event.service.clone().or(self.service.take());
        self.region = event.impacted_region().map(str::to_owned).or(self.region.take());
        self.link = event_link(&event.arn);
        self.start = event.start.as_ref().and_then(|t| t.at()).map(epoch).or(self.start);
        self.end = event.end.as_ref().and_then(|t| t.at()).map(epoch).or(self.end);
        self.status = event.status.as_ref().map_or("open", Status::as_str).to_owned();
        self.action_required = event.actionability == Some(Actionability::ActionRequired);
        self.last_posted = epoch(now);
        if let Some(account) = event.affected_account() {
            let part = self.accounts.entry(account.to_string()).or_default();
            part.label = enriched.account_label(account);
            part.total = u32::try_from(event.entities.len()).unwrap_or(u32::MAX);
            part.pending = u32::try_from(pending(event)).unwrap_or(u32::MAX);
        }
    }

    /// True once AWS says it is over.
    pub fn is_closed(&self) -> bool {
        self.status.eq_ignore_ascii_case("closed")
    }

    /// Its severity.
    pub fn severity(&self) -> Severity {
        severity_of(&self.severity)
    }

    /// Resources still pending, over every account.
    pub fn pending(&self) -> u32 {
        self.accounts.values().map(|part| part.pending).sum()
    }

    /// Affected resources, over every account.
    pub fn total(&self) -> u32 {
        self.accounts.values().map(|part| part.total).sum()
    }

    /// True while something is left to do: a resource pending, or AWS asking for action.
    pub fn needs_action(&self) -> bool {
        !self.is_closed() && (self.pending() > 0 || self.action_required)
    }

    /// `startTime` as a moment.
    pub fn start_at(&self) -> Option<DateTime<Utc>> {
        self.start.map(moment)
    }

    /// Where it is: "payments-prod (111122223333) · us-east-1", "4 accounts · us-east-1".
    pub fn place(&self) -> String {
        let accounts = match self.accounts.len() {
            0 => None,
            1 => self.accounts.values().next().map(|part| part.label.clone()),
            n => Some(format!("{n} accounts")),
        };
        [accounts, self.region.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · ")
    }
}

/// A severity from its label; an unknown one reads as [`Severity::Info`].
fn severity_of(label: &str) -> Severity {
    [Severity::Critical, Severity::High, Severity::Warning]
        .into_iter()
        .find(|severity| severity.label() == label)
        .unwrap_or(Severity::Info)
}

/// The event's resources still pending: neither resolved nor unimpaired (a resource with no
/// status given counts as pending: AWS lists it as affected).
fn pending(event: &HealthEvent) -> usize {
    event
        .entities
        .iter()
        .filter(|entity| !matches!(entity.status, Some(EntityStatus::Resolved | EntityStatus::Unimpaired)))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health;

    fn retirement() -> serde_json::Value {
        serde_json::from_str(include_str!(
            "../../tests/fixtures/health-events/awsdocs-ec2-instance-retirement-scheduled-metadata-actionability.json"
        ))
        .unwrap()
    }

    #[test]
    fn a_scheduled_change_is_kept_with_its_start_its_accounts_and_what_is_pending() {
        let event = EnrichedEvent::bare(health::validate(&retirement()).unwrap());
        let now = moment(1_700_000_000);
        let tracked = Tracked::new(&event, "health/x", &CardSettings::default(), now);
        assert_eq!(tracked.category, "scheduledChange");
        assert!(tracked.start.is_some());
        assert_eq!((tracked.pending(), tracked.total()), (1, 1));
        assert!(tracked.needs_action());
        let text = serde_json::to_string(&tracked).unwrap();
        assert_eq!(serde_json::from_str::<Tracked>(&text).unwrap(), tracked, "stored and read back as it was");
    }

    #[test]
    fn a_resolved_resource_is_no_longer_pending_and_a_closed_event_needs_nothing() {
        let mut json = retirement();
        let event = EnrichedEvent::bare(health::validate(&json).unwrap());
        let now = moment(1_700_000_000);
        let mut tracked = Tracked::new(&event, "health/x", &CardSettings::default(), now);
        json["detail"]["affectedEntities"][0]["status"] = "RESOLVED".into();
        tracked.absorb(&EnrichedEvent::bare(health::validate(&json).unwrap()), &CardSettings::default(), now);
        assert_eq!(tracked.pending(), 0);
        json["detail"]["statusCode"] = "closed".into();
        tracked.absorb(&EnrichedEvent::bare(health::validate(&json).unwrap()), &CardSettings::default(), now);
        assert!(tracked.is_closed() && !tracked.needs_action());
    }
}
