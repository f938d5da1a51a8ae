//! The cards of an event raised in many accounts at once (one `eventArn`: a Lambda runtime
//! deprecation, a certificate rotation, an issue in one Availability Zone): the **roll-up**, the
//! thread's first message, says the event once and then lists every account it was raised in;
//! a **join** reply names the accounts that arrived after it. A real change in one account's
//! state is that account's own event card, in the same thread. No markup and no I/O here.

use std::collections::BTreeMap;

use super::model::{AccountLine, Body, Card, Fold, Section, Style, Text, Width};
use super::names::event_title;
use super::{CardSettings, Severity, assess, link_section, rows, text};
use crate::accounts::EnrichedEvent;
use crate::health::{EntityStatus, HealthEvent, ValidationErrors};

/// The id of a roll-up card.
pub const ROLLUP_CARD_ID: &str = "aws-health-rollup";

/// The id of a reply naming accounts that joined.
pub const JOINED_CARD_ID: &str = "aws-health-accounts-joined";

/// One account's copy of the event, for a roll-up.
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    /// The copy, with account names.
    pub event: &'a EnrichedEvent,
    /// What was wrong with it, when it failed validation.
    pub problems: Option<&'a ValidationErrors>,
}

/// Longest header title, in characters, as an event card's.
const MAX_TITLE_CHARS: usize = 120;

/// The first message of an event's thread for several accounts at once: the event once (its
/// severity, the highest of the accounts'; when; the service; the description; the details and
/// link), then **Affected accounts (N)**. `members` is never empty.
pub fn rollup(members: &[Member<'_>], settings: &CardSettings, thread: &str) -> Card {
    let newest = newest(members);
    let event = &newest.event.event;
    let severity = severity(members, settings);
    let now = settings.clock.now();
    let mut facts = vec![rows::severity(event, severity)];
    facts.extend(rows::when_row(event, now));
    facts.extend(rows::service(event));
    let mut sections = vec![Section { header: None, fold: Fold::Open, body: Body::Rows(facts) }];
    if let Some(description) = event.description(&settings.language) {
        sections.push(Section {
            header: Some("Description".into()),
            fold: Fold::Open,
            body: Body::Prose(description.text.clone()),
        });
    }
    sections.push(accounts_section("Affected accounts", members));
    sections.push(super::event::details_section(event));
    sections.extend(link_section(&event.arn));
    let closed = members.iter().all(|member| member.event.event.is_closed());
    Card {
        id: ROLLUP_CARD_ID,
        title: title(event, severity, closed),
        subtitle: where_(members, event),
        severity,
        thread: thread.to_owned(),
        sections,
        mentions: Vec::new(),
    }
}

/// A reply naming the accounts the event was raised in since the thread's last message:
/// "➕ 12 more accounts: EC2 instance retirement scheduled". `members` is never empty.
pub fn joined(members: &[Member<'_>], settings: &CardSettings, thread: &str) -> Card {
    let newest = newest(members);
    let event = &newest.event.event;
    let severity = severity(members, settings);
    let name = text::plain(&event_title(event), MAX_TITLE_CHARS);
    let count = members.len();
    let mut sections = vec![accounts_section("Also affected", members)];
    sections.extend(link_section(&event.arn));
    Card {
        id: JOINED_CARD_ID,
        title: format!("➕ {count} more account{}: {name}", if count == 1 { "" } else { "s" }),
        subtitle: where_(members, event),
        severity,
        thread: thread.to_owned(),
        sections,
        mentions: Vec::new(),
    }
}

/// The copy updated last: its description and times stand for the event's.
fn newest<'a>(members: &[Member<'a>]) -> Member<'a> {
    let updated = |member: &Member<'_>| member.event.event.last_updated.as_ref().and_then(|time| time.at());
    let mut newest = members[0];
    for member in &members[1..] {
        if updated(member) > updated(&newest) {
            newest = *member;
        }
    }
    newest
}

/// The highest of the accounts' severities (at least warning when one copy was unreadable).
fn severity(members: &[Member<'_>], settings: &CardSettings) -> Severity {
    members
        .iter()
        .map(|member| {
            let event = &member.event.event;
            let description = event.description(&settings.language).map(|d| d.text.as_str());
            let severity = assess(event, description, &settings.severity);
            if member.problems.is_some() { severity.max(Severity::Warning) } else { severity }
        })
        .max()
        .unwrap_or(Severity::Info)
}

/// "🟠 EC2 instance retirement scheduled", "✅ Resolved: …" when it is resolved in every account.
fn title(event: &HealthEvent, severity: Severity, closed: bool) -> String {
    let name = text::plain(&event_title(event), MAX_TITLE_CHARS);
    let name = if name.is_empty() { "AWS Health event".to_owned() } else { name };
    if closed { format!("✅ Resolved: {name}") } else { format!("{} {name}", severity.emoji()) }
}

/// "300 accounts · us-east-1".
fn where_(members: &[Member<'_>], event: &HealthEvent) -> String {
    let count = members.len();
    let mut parts = vec![format!("{count} account{}", if count == 1 { "" } else { "s" })];
    if let Some(region) = event.impacted_region() {
        parts.push(text::plain(region, 40));
    }
    parts.join(" · ")
}

/// One line per account, in the order they came: its name, and what the event is for it.
fn accounts_section(header: &str, members: &[Member<'_>]) -> Section {
    let lines = members.iter().map(|member| account_line(member)).collect();
    Section { header: Some(format!("{header} ({})", members.len())), fold: Fold::Open, body: Body::Accounts(lines) }
}

/// "payments-prod (111122223333)" and "OU Production / Payments · 3 resources: 2 impaired, 1 pending".
fn account_line(member: &Member<'_>) -> AccountLine {
    let enriched = member.event;
    let event = &enriched.event;
    let Some(account) = event.affected_account() else {
        return AccountLine { name: Text::words("an account delibird could not read"), detail: None };
    };
    let name = match enriched.accounts.get(account) {
        Some(info) => {
            Text(Vec::new()).then(Style::Strong, info.name.clone(), Width::Value).and(format!(" ({account})"))
        }
        None => Text(Vec::new()).then(Style::Strong, account.to_string(), Width::Whole),
    };
    let context = enriched
        .accounts
        .get(account)
        .and_then(|info| info.context())
        .map(|context| Text::event(context, Width::Value));
    let state = Some(Text::words(resources(event)));
    let unreadable = member.problems.map(|problems| {
        let count = problems.errors().len();
        Text::words(format!("{count} unreadable field{}", if count == 1 { "" } else { "s" }))
    });
    AccountLine { name, detail: Text::join([context, state, unreadable].into_iter().flatten(), " · ") }
}

/// "3 resources: 2 impaired, 1 pending", or the event's state for the account when it lists none.
fn resources(event: &HealthEvent) -> String {
    if event.entities.is_empty() {
        return rows::state(event).to_lowercase();
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for entity in &event.entities {
        let status = match &entity.status {
            Some(EntityStatus::Impaired) => "impaired",
            Some(EntityStatus::Unimpaired) => "unimpaired",
            Some(EntityStatus::Pending) => "pending",
            Some(EntityStatus::Resolved) => "resolved",
            Some(EntityStatus::Unknown | EntityStatus::Other(_)) => "unknown",
            None => "affected",
        };
        *counts.entry(status).or_default() += 1;
    }
    let count = event.entities.len();
    let statuses: Vec<String> = counts.iter().map(|(status, n)| format!("{n} {status}")).collect();
    format!("{count} resource{}: {}", if count == 1 { "" } else { "s" }, statuses.join(", "))
}
