//! What an event's card says: its headline, its facts (severity, account, Region, service,
//! times), its description, the resources it affects and its details — worked out once, in
//! words, for any channel to lay out. No markup and no I/O here.

use chrono::{DateTime, Utc};

use super::model::{Body, Card, Fold, Glyph, ListKind, Row, Section, Style, Text, Width};
use super::names::{self, event_title, humanised};
use super::{CARD_ID, CardSettings, Severity, assess, link_section, relative, rows, text, thread_key};
use crate::accounts::EnrichedEvent;
use crate::health::{AccountId, Entity, EntityStatus, HealthEvent, Scope, ValidationErrors};

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
    sections.push(Section { header: None, fold: Fold::Open, body: Body::Rows(rows::facts(enriched, severity, now)) });
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
    sections.extend(link_section(&event.arn));
    Card {
        id: CARD_ID,
        title: title(event, severity, problems),
        subtitle: subtitle(enriched, problems),
        severity,
        thread: thread_key(event),
        sections,
        mentions: Vec::new(),
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

/// Where: "payments-prod (111122223333) · ap-southeast-2", "Public event · af-south-1" (a
/// public event's one thread every account shares); led by "2 unreadable fields" on a degraded
/// card; the state ("Open issue") when the event says neither account nor Region.
fn subtitle(enriched: &EnrichedEvent, problems: Option<&ValidationErrors>) -> String {
    let event = &enriched.event;
    let mut parts = Vec::new();
    if let Some(problems) = problems {
        parts.push(unreadable(problems.errors().len()));
    }
    if event.scope == Some(Scope::Public) {
        parts.push("Public event".to_owned());
    } else if let Some(account) = event.affected_account() {
        parts.push(text::plain(&enriched.account_label(account), 80));
    }
    if let Some(region) = event.impacted_region() {
        parts.push(text::plain(region, 40));
    }
    parts.retain(|part| !part.is_empty());
    if parts.len() == usize::from(problems.is_some()) {
        parts.push(rows::state(event));
    }
    parts.join(" · ")
}

fn unreadable(count: usize) -> String {
    if count == 1 { "1 unreadable field".to_owned() } else { format!("{count} unreadable fields") }
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

/// What the rest of the card does not say: the ARN, the ids, personas, metadata and any field
/// delibird does not know. (The type code is under the service, actionability under the
/// severity; a card says each fact once.)
pub(crate) fn details_section(event: &HealthEvent) -> Section {
    let mut rows: Vec<(String, String)> = Vec::new();
    rows.push(("Event ARN".into(), event.arn.to_string()));
    if event.service.as_deref().is_none_or(|s| s.trim().is_empty()) {
        rows.push(("Event type code".into(), event.type_code.clone()));
    }
    if let Some(id) = &event.communication_id {
        rows.push(("Communication ID".into(), id.clone()));
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
