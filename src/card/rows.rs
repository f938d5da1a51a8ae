//! The facts at the top of a card, each said once, in at most four rows: how urgent and in what
//! state (severity), when, which service, and — when there is any — whose account and how the
//! event reached delibird. What the event is and where stand in the header above them. No markup
//! and no I/O here.

use chrono::{DateTime, Utc};

use super::model::{Glyph, Row, Style, Text, Width};
use super::names::{self, humanised, service_name};
use super::{Severity, duration, relative, text};
use crate::accounts::EnrichedEvent;
use crate::health::{Actionability, Category, EventTime, HealthEvent, Scope, Status};

/// The category in words: "issue", "scheduled change".
pub(crate) fn category(event: &HealthEvent) -> String {
    match &event.category {
        Some(Category::Issue) => "issue".to_owned(),
        Some(Category::AccountNotification) => "account notification".to_owned(),
        Some(Category::ScheduledChange) => "scheduled change".to_owned(),
        Some(Category::Investigation) => "investigation".to_owned(),
        Some(Category::Other(other)) => text::plain(other, 40),
        None => "event".to_owned(),
    }
}

/// "Open issue", "Upcoming scheduled change", "Resolved issue".
pub(crate) fn state(event: &HealthEvent) -> String {
    let category = category(event);
    match &event.status {
        Some(Status::Closed) => format!("Resolved {category}"),
        Some(Status::Open) => format!("Open {category}"),
        Some(Status::Upcoming) => format!("Upcoming {category}"),
        Some(Status::Other(other)) => format!("{} {category}", text::plain(other, 40)),
        None => names::capitalised(&category),
    }
}

/// A time as a card shows it: "Sat, 20 Jul 2024 15:00 UTC (in 3 days)", or the text as it came.
fn when(time: &EventTime, now: DateTime<Utc>) -> String {
    match time.at() {
        Some(at) => format!("{time} ({})", relative(at, now)),
        None => time.to_string(),
    }
}

/// Whether a time is after `now`; `None` when it could not be read.
fn ahead(time: &EventTime, now: DateTime<Utc>) -> Option<bool> {
    time.at().map(|at| at > now)
}

/// "High · Upcoming scheduled change" (or "Resolved issue"), with what AWS says about acting on
/// it, and what a public event's scope means, under it.
pub(crate) fn severity(event: &HealthEvent, severity: Severity) -> Row {
    let (label, value, glyph) = if event.is_closed() {
        let value = Text(Vec::new())
            .then(Style::Marked(severity), "Resolved", Width::Whole)
            .and(format!(" {}", category(event)));
        ("Status", value, Glyph::Resolved)
    } else {
        let value = Text(Vec::new())
            .then(Style::Marked(severity), severity.label(), Width::Whole)
            .and(format!(" · {}", state(event)));
        ("Severity", value, Glyph::Severity(severity))
    };
    let action = match &event.actionability {
        Some(Actionability::ActionRequired) => Some(Text::words("Action required")),
        Some(Actionability::ActionMayBeRequired) => Some(Text::words("Action may be required")),
        Some(Actionability::Informational) | None => None,
        Some(Actionability::Other(other)) => Some(Text::event(humanised(other), Width::At(40))),
    };
    let scope = match &event.scope {
        Some(Scope::Public) => Some(Text::words("Affects the service in this Region, not only your resources")),
        Some(Scope::AccountSpecific | Scope::None) | None => None,
        Some(Scope::Other(other)) => Some(Text::words("Scope ").append(Text::event(other.clone(), Width::At(40)))),
    };
    Row::new(label, value, glyph).noted(Text::join([action, scope].into_iter().flatten(), " · "))
}

/// When: the time that matters now on the row — when it starts (upcoming), when it ended
/// (resolved), else when it started — and the others under it.
pub(crate) fn when_row(event: &HealthEvent, now: DateTime<Utc>) -> Option<Row> {
    let start = event.start.as_ref();
    let end = event.end.as_ref();
    let starts = start.map(|start| ahead(start, now).unwrap_or(event.status == Some(Status::Upcoming)));
    let ends = end.map(|end| ahead(end, now).unwrap_or(!event.is_closed()));
    let said = |word: &str, time: &EventTime| Text::event(format!("{word} {}", when(time, now)), Width::At(90));
    let lasted = match (start.and_then(EventTime::at), end.and_then(EventTime::at)) {
        (Some(start), Some(end)) if event.is_closed() && end >= start => {
            Some(Text::words(format!("Lasted {}", duration((end - start).num_seconds().unsigned_abs()))))
        }
        _ => None,
    };
    let updated = event
        .last_updated
        .as_ref()
        .filter(|updated| Some(*updated) != start && Some(*updated) != end)
        .map(|updated| said("Updated", updated));
    let (value, notes) = match (start, end) {
        (Some(start), Some(end)) if event.is_closed() || ends == Some(false) => (
            said("Ended", end),
            vec![Some(said(if starts == Some(true) { "Starts" } else { "Started" }, start)), lasted],
        ),
        (Some(start), end) => {
            let word = if starts == Some(true) { "Starts" } else { "Started" };
            let end = end.map(|end| said(if ends == Some(true) { "Ends" } else { "Ended" }, end));
            (said(word, start), vec![end, updated])
        }
        (None, Some(end)) => (said(if ends == Some(true) { "Ends" } else { "Ended" }, end), vec![updated]),
        (None, None) => (updated?, vec![]),
    };
    Some(Row::new("When", value, Glyph::Time).noted(Text::join(notes.into_iter().flatten(), " · ")))
}

/// The service in words, its event type code under it.
pub(crate) fn service(event: &HealthEvent) -> Option<Row> {
    let service = event.service.as_deref().filter(|s| !s.trim().is_empty())?;
    let code = Text(Vec::new()).then(Style::Code, event.type_code.clone(), Width::Value);
    Some(Row::new("Service", Text::event(service_name(service), Width::At(60)), Glyph::Service).noted(Some(code)))
}

/// Whose account it is beyond its name (its OU path and chosen tags), and how the event reached
/// delibird (through another account, as a backup-Region copy, as one page of several); `None`
/// when there is nothing to say that the header does not.
pub(crate) fn context(enriched: &EnrichedEvent) -> Option<Row> {
    let event = &enriched.event;
    let account = event.affected_account();
    let public = event.scope == Some(Scope::Public);
    let owner = account
        .filter(|_| !public)
        .and_then(|account| enriched.accounts.get(account))
        .and_then(|info| info.context())
        .map(|context| Text::event(context, Width::Value));
    let delivered_via =
        event.account.as_ref().filter(|delivered| Some(*delivered) != account || public).map(|delivered| {
            let word = if public { "Seen from " } else { "Delivered via " };
            Text::words(word).append(Text::event(enriched.account_label(delivered), Width::Value))
        });
    let region = event.impacted_region();
    let copy = match (event.backup, event.region.as_deref().filter(|delivered| Some(*delivered) != region)) {
        (true, Some(to)) => Some(Text::words("Backup copy delivered to ").append(Text::event(to, Width::At(40)))),
        (true, None) => Some(Text::words("Backup-Region copy")),
        (false, Some(to)) => Some(Text::words("Delivered to ").append(Text::event(to, Width::At(40)))),
        (false, None) => None,
    };
    let page = event.page.filter(|page| page.total > 1).map(|page| {
        Text::words(format!("Page {} of {}: each page lists other affected resources", page.number, page.total))
    });
    let delivery = Text::join([delivered_via, copy, page].into_iter().flatten(), " · ");
    match (owner, delivery) {
        (Some(owner), delivery) => Some(Row::new("Account", owner, Glyph::Account).noted(delivery)),
        (None, Some(delivery)) => Some(Row::new("Delivery", delivery, Glyph::Account)),
        (None, None) => None,
    }
}

/// The facts rows of an event's card, at most four.
pub(crate) fn facts(enriched: &EnrichedEvent, severity_of: Severity, now: DateTime<Utc>) -> Vec<Row> {
    let event = &enriched.event;
    [Some(severity(event, severity_of)), when_row(event, now), service(event), context(enriched)]
        .into_iter()
        .flatten()
        .collect()
}
