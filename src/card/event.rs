//! What an event's card says: its headline, its facts (severity, account, Region, service,
//! times), its description, the resources it affects and its details — worked out once, in
//! words, for any channel to lay out. No markup and no I/O here.

use chrono::{DateTime, Utc};

use super::model::{Body, Card, Fold, Glyph, ListKind, Row, Section, Style, Text, Width};
use super::names::{self, event_title, humanised, service_name};
use super::{CARD_ID, CardSettings, Severity, assess, duration, event_link, relative, text, thread_key};
use crate::accounts::EnrichedEvent;
use crate::health::{
    AccountId, Actionability, Category, Entity, EntityStatus, EventTime, HealthEvent, Scope, Status, ValidationErrors,
};

/// Longest header title, in characters: the header has a fixed height.
const MAX_TITLE_CHARS: usize = 120;

/// The card of an event — with the problems found in it, for a degraded card.
pub fn card(enriched: &EnrichedEvent, problems: Option<&ValidationErrors>, settings: &CardSettings) -> Card {
    let event = &enriched.event;
    let description = event.description(&settings.language).map(|d| d.text.as_str());
    let severity = assess(event, description, &settings.severity);
    let severity = if problems.is_some() { severity.max(Severity::Warning) } else { severity };
    let now = settings.clock.now();

    let mut sections = Vec::new();
    if let Some(problems) = problems {
        sections.push(problems_section(problems));
    }
    sections.push(Section { header: None, fold: Fold::Open, body: Body::Rows(summary_rows(enriched, severity, now)) });
    if let Some(description) = description {
        sections.push(Section {
            header: Some("Description".into()),
            fold: Fold::Open,
            body: Body::Prose(description.to_owned()),
        });
    }
    if let Some(section) = entities_section(enriched, now) {
        sections.push(section);
    }
    sections.push(details_section(event));
    if let Some(url) = event_link(&event.arn) {
        sections.push(Section {
            header: None,
            fold: Fold::Open,
            body: Body::Link { label: "Open in AWS Health", url },
        });
    }
    Card {
        id: CARD_ID,
        title: title(event, severity, problems),
        subtitle: subtitle(enriched, problems),
        severity,
        thread: thread_key(event),
        sections,
    }
}

/// "🟠 EC2 instance retirement scheduled", "✅ Resolved: EC2 operational issue", and
/// "(incomplete)" after the title of a degraded card, so that notifications say it too.
fn title(event: &HealthEvent, severity: Severity, problems: Option<&ValidationErrors>) -> String {
    let name = text::plain(&event_title(event), MAX_TITLE_CHARS);
    let name = if name.is_empty() { "AWS Health event".to_owned() } else { name };
    let title =
        if event.is_closed() { format!("✅ Resolved: {name}") } else { format!("{} {name}", severity.emoji()) };
    if problems.is_some() { format!("{title} (incomplete)") } else { title }
}

/// "Open issue · ap-southeast-2 · payments-prod (111122223333)"; "… · Public event" for public
/// events, whose one thread every account shares; led by "2 unreadable fields" on a degraded card.
fn subtitle(enriched: &EnrichedEvent, problems: Option<&ValidationErrors>) -> String {
    let event = &enriched.event;
    let mut parts = Vec::new();
    if let Some(problems) = problems {
        parts.push(unreadable(problems.errors().len()));
    }
    parts.push(state(event));
    if let Some(region) = event.impacted_region() {
        parts.push(text::plain(region, 40));
    }
    if event.scope == Some(Scope::Public) {
        parts.push("Public event".to_owned());
    } else if let Some(account) = event.affected_account() {
        parts.push(text::plain(&enriched.account_label(account), 80));
    }
    parts.retain(|part| !part.is_empty());
    parts.join(" · ")
}

fn unreadable(count: usize) -> String {
    if count == 1 { "1 unreadable field".to_owned() } else { format!("{count} unreadable fields") }
}

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

fn problems_section(problems: &ValidationErrors) -> Section {
    let errors = problems.errors();
    let lead = Text(Vec::new())
        .then(
            Style::Strong,
            format!("delibird could not read {} field{} of this event", errors.len(), plural(errors.len())),
            Width::Whole,
        )
        .and("; the card shows what it could read.");
    let items = errors.iter().map(ToString::to_string).collect();
    Section { header: Some("⚠ Invalid event".into()), fold: Fold::Open, body: Body::Bullets { lead, items } }
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// A time as the card shows it: "Sat, 20 Jul 2024 15:00 UTC (in 3 days)", or the text as it came.
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

fn summary_rows(enriched: &EnrichedEvent, severity: Severity, now: DateTime<Utc>) -> Vec<Row> {
    let event = &enriched.event;
    let mut rows = vec![severity_row(event, severity)];
    if let Some(account) = event.affected_account() {
        rows.push(account_row(enriched, account));
    }
    if let Some(region) = event.impacted_region() {
        let delivered = event.region.as_deref().filter(|delivered| *delivered != region);
        let note = match (event.backup, delivered) {
            (true, Some(to)) => Some(Text::words("Backup copy delivered to ").append(Text::event(to, Width::At(40)))),
            (true, None) => Some(Text::words("Backup-Region copy")),
            (false, Some(to)) => Some(Text::words("Delivered to ").append(Text::event(to, Width::At(40)))),
            (false, None) => None,
        };
        rows.push(Row::new("Region", Text::event(region, Width::At(60)), Glyph::Region).noted(note));
    }
    if let Some(service) = event.service.as_deref().filter(|s| !s.trim().is_empty()) {
        let code = Text(Vec::new()).then(Style::Code, event.type_code.clone(), Width::Value);
        rows.push(
            Row::new("Service", Text::event(service_name(service), Width::At(60)), Glyph::Service).noted(Some(code)),
        );
    }
    if let Some(start) = &event.start {
        let starts = ahead(start, now).unwrap_or(event.status == Some(Status::Upcoming));
        let label = if starts { "Starts" } else { "Started" };
        rows.push(Row::new(label, Text::event(when(start, now), Width::At(80)), Glyph::Time));
    }
    if let Some(end) = &event.end {
        let ends = ahead(end, now).unwrap_or(!event.is_closed());
        let label = if ends { "Ends" } else { "Ended" };
        let lasted = match (event.start.as_ref().and_then(EventTime::at), end.at()) {
            (Some(start), Some(end)) if event.is_closed() && end >= start => {
                Some(Text::words(format!("Lasted {}", duration((end - start).num_seconds().unsigned_abs()))))
            }
            _ => None,
        };
        rows.push(Row::new(label, Text::event(when(end, now), Width::At(80)), Glyph::Time).noted(lasted));
    }
    if let Some(updated) = &event.last_updated {
        rows.push(Row::new("Last updated", Text::event(when(updated, now), Width::At(80)), Glyph::Time));
    }
    if let Some(page) = event.page.filter(|page| page.total > 1) {
        let note = Some(Text::words("Each page lists other affected resources"));
        let text = format!("Page {} of {}", page.number, page.total);
        rows.push(Row::new("Paged event", text, Glyph::Pages).noted(note));
    }
    rows
}

/// "Severity: High · Open issue" (or "Status: Resolved issue"), with what AWS says about action
/// and scope under it.
fn severity_row(event: &HealthEvent, severity: Severity) -> Row {
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
        Some(Scope::Public) => {
            Some(Text::words("Public event: affects the service in this Region, not only your resources"))
        }
        Some(Scope::AccountSpecific) => Some(Text::words("Affects resources in this account")),
        Some(Scope::None) | None => None,
        Some(Scope::Other(other)) => Some(Text::words("Scope ").append(Text::event(other.clone(), Width::At(40)))),
    };
    Row::new(label, value, glyph).noted(Text::join([action, scope].into_iter().flatten(), " · "))
}

/// The affected account, with its OU path and chosen tags (whose problem it is) and the account
/// the event was delivered through; "Seen from" for a public event.
fn account_row(enriched: &EnrichedEvent, account: &AccountId) -> Row {
    let event = &enriched.event;
    let delivered_via = event.account.as_ref().filter(|delivered| *delivered != account).map(|delivered| {
        Text::words("Delivered via ").append(Text::event(enriched.account_label(delivered), Width::Value))
    });
    let (label, note) = if event.scope == Some(Scope::Public) {
        ("Seen from", delivered_via.or_else(|| Some(Text::words("One of the accounts this public event reached"))))
    } else {
        let context = enriched.accounts.get(account).and_then(|info| info.context());
        let context = context.map(|context| Text::event(context, Width::Value));
        ("Account", Text::join(context.into_iter().chain(delivered_via), " · "))
    };
    Row::new(label, Text::event(enriched.account_label(account), Width::Value), Glyph::Account).noted(note)
}

fn entities_section(enriched: &EnrichedEvent, now: DateTime<Utc>) -> Option<Section> {
    let event = &enriched.event;
    let from_resources;
    let entities: &[Entity] = if event.entities.is_empty() {
        from_resources = event
            .resources
            .iter()
            .map(|value| Entity { value: value.clone(), status: None, last_updated: None, tags: Default::default() })
            .collect::<Vec<_>>();
        &from_resources
    } else {
        &event.entities
    };
    if entities.is_empty() {
        return None;
    }
    let rows = entities.iter().map(|entity| entity_row(enriched, entity, now)).collect();
    Some(Section {
        header: Some(format!("Affected resources ({})", entities.len())),
        fold: Fold::After(3),
        body: Body::List {
            kind: ListKind::Entities,
            rows,
            more: Some("open the event in AWS Health for the full list"),
        },
    })
}

/// One entity: its status and when it changed above, its `Name` tag and value (an account's name,
/// an ARN's resource part when the ARN names the event's own account and Region), its other tags
/// below.
fn entity_row(enriched: &EnrichedEvent, entity: &Entity, now: DateTime<Utc>) -> Row {
    let account = AccountId::parse(entity.value.trim());
    let value = match &account {
        Some(id) => enriched.account_label(id),
        None => short_value(&enriched.event, &entity.value).to_owned(),
    };
    let (status, glyph) = match &entity.status {
        Some(EntityStatus::Impaired) => (Text::words("Impaired"), Glyph::Impaired),
        Some(EntityStatus::Unimpaired) => (Text::words("Unimpaired"), Glyph::Unimpaired),
        Some(EntityStatus::Pending) => (Text::words("Pending"), Glyph::Pending),
        Some(EntityStatus::Resolved) => (Text::words("Resolved"), Glyph::Resolved),
        Some(EntityStatus::Unknown) => (Text::words("Unknown"), Glyph::Unknown),
        Some(EntityStatus::Other(other)) => (Text::event(other.clone(), Width::At(40)), Glyph::Unknown),
        None if account.is_some() => (Text::words("Affected"), Glyph::Account),
        None => (Text::words("Affected"), Glyph::Resource),
    };
    let label = match &entity.last_updated {
        Some(at) => {
            let when = at.at().map_or_else(|| at.to_string(), |t| relative(t, now));
            status.and(" · updated ").append(Text::event(when, Width::At(60)))
        }
        None => status,
    };
    let is_name = |key: &str| key.trim().eq_ignore_ascii_case("name");
    let name = entity.tags.iter().find(|(key, value)| is_name(key) && !value.trim().is_empty());
    let text = match name {
        Some((_, name)) => Text(Vec::new())
            .then(Style::Strong, name.clone(), Width::Value)
            .and(" · ")
            .append(Text::event(value, Width::Value)),
        None => Text::event(value, Width::Value),
    };
    let tags = entity
        .tags
        .iter()
        .filter(|(key, _)| !is_name(key))
        .map(|(key, value)| format!("{key}: {value}"))
        .collect::<Vec<_>>()
        .join(" · ");
    let note = (!tags.is_empty()).then(|| Text::event(tags, Width::Value));
    Row::new(label, text, glyph).noted(note)
}

/// `instance/i-1234567890abcdef0` for `arn:aws:ec2:us-east-1:123456789012:instance/i-…` when the
/// ARN's Region and account are the event's own (the card shows them already); else the value.
fn short_value<'a>(event: &HealthEvent, value: &'a str) -> &'a str {
    let parts: Vec<&str> = value.trim().splitn(6, ':').collect();
    let [arn, _, _, region, account, resource] = parts[..] else { return value };
    let own_region = region.is_empty() || event.impacted_region() == Some(region);
    let own_account = account.is_empty() || event.affected_account().is_some_and(|a| a.as_str() == account);
    if arn == "arn" && own_region && own_account && !resource.trim().is_empty() { resource } else { value }
}

fn details_section(event: &HealthEvent) -> Section {
    let mut rows: Vec<(String, String)> = Vec::new();
    rows.push(("Event ARN".into(), event.arn.to_string()));
    rows.push(("Event type code".into(), event.type_code.clone()));
    if let Some(id) = &event.communication_id {
        rows.push(("Communication ID".into(), id.clone()));
    }
    if let Some(actionability) = &event.actionability {
        rows.push(("Actionability".into(), humanised(actionability.as_str())));
    }
    if !event.personas.is_empty() {
        rows.push(("Personas".into(), event.personas.iter().map(|p| humanised(p)).collect::<Vec<_>>().join(", ")));
    }
    let readable = |(key, value): (&String, &String)| (humanised(key), names::yes_no(value).to_owned());
    rows.extend(event.metadata.iter().map(readable));
    rows.extend(event.extra.iter().map(readable));
    if let Some(id) = &event.id {
        let source = event.source.as_deref().unwrap_or("unknown source");
        rows.push(("EventBridge event".into(), format!("{id} from {source}")));
    }
    let rows = rows
        .into_iter()
        .map(|(label, value)| Row::bare(Text::event(label, Width::At(60)), Text::event(value, Width::Value)))
        .collect();
    Section {
        header: Some("Details".into()),
        fold: Fold::After(0),
        body: Body::List { kind: ListKind::Details, rows, more: None },
    }
}
