//! Stage 4: render a Health event as a Google Chat Card V2 message people read in two seconds.
//!
//! [`render`] is total: for any event it returns a message within Google's limits
//! ([`limits`]). It lays the card out at the most generous [`Budget`] that fits, cutting long
//! descriptions and entity lists with a visible "+N more". All event text is escaped
//! ([`text`]). No I/O here.

pub mod limits;
mod links;
mod severity;
pub mod text;
mod thread;
pub mod wire;

use std::fmt::Write as _;

use crate::accounts::EnrichedEvent;
use crate::health::{AccountId, Category, Entity, EntityStatus, HealthEvent, Scope, Status, ValidationErrors};
pub use links::event_link;
pub use severity::{Severity, SeverityRules, assess};
pub use thread::thread_key;
use wire::{
    Button, ButtonList, Card, CardHeader, CardWithId, DecoratedText, Icon, KnownIcon, Message, Section, TextParagraph,
    Thread, Widget,
};

/// The `cardId` of delibird's card.
pub const CARD_ID: &str = "aws-health-event";

/// How cards look: settings that come from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardSettings {
    /// Keyword lists for severity.
    pub severity: SeverityRules,
    /// The description language to prefer (`en_US` and then the first one are the fallbacks).
    pub language: String,
}

impl Default for CardSettings {
    fn default() -> Self {
        Self { severity: SeverityRules::default(), language: "en_US".to_owned() }
    }
}

/// How much of an event a card shows. [`render`] tries each of [`BUDGETS`] in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Characters of description.
    pub description: usize,
    /// Affected entities listed.
    pub entities: usize,
    /// Rows of the details section.
    pub details: usize,
    /// Validation problems listed on a degraded card.
    pub problems: usize,
    /// Characters of any one value (an entity, an account name, a tag list).
    pub value: usize,
}

/// From the full card down to one that fits whatever the event holds.
pub const BUDGETS: [Budget; 4] = [
    Budget { description: 8_000, entities: 40, details: 30, problems: 10, value: 300 },
    Budget { description: 3_000, entities: 15, details: 12, problems: 5, value: 160 },
    Budget { description: 800, entities: 5, details: 4, problems: 3, value: 100 },
    Budget { description: 200, entities: 1, details: 0, problems: 1, value: 60 },
];

/// Longest header title, in characters: the header has a fixed height.
const MAX_TITLE_CHARS: usize = 120;

/// Longest `fallbackText` delibird writes: a notification line, far below Chat's limit.
const MAX_FALLBACK_CHARS: usize = 400;

/// Renders an event — with the problems found in it, for a degraded card — as a webhook body.
pub fn render(event: &EnrichedEvent, problems: Option<&ValidationErrors>, settings: &CardSettings) -> Message {
    let compose = |budget: &Budget| compose(event, problems, settings, budget);
    BUDGETS.iter().map(compose).find(limits::within_limits).unwrap_or_else(|| compose(&BUDGETS[BUDGETS.len() - 1]))
}

/// The card at one budget.
pub fn compose(
    enriched: &EnrichedEvent,
    problems: Option<&ValidationErrors>,
    settings: &CardSettings,
    budget: &Budget,
) -> Message {
    let event = &enriched.event;
    let description = event.description(&settings.language).map(|d| d.text.as_str());
    let severity = assess(event, description, &settings.severity);
    let severity = if problems.is_some() { severity.max(Severity::Warning) } else { severity };
    let title = title(event, severity);
    let subtitle = subtitle(enriched);

    let mut sections = Vec::new();
    if let Some(problems) = problems {
        sections.push(problems_section(problems, budget));
    }
    sections.push(Section::new(None, summary_rows(enriched, severity, budget)));
    if let Some(description) = description {
        let text = text::paragraph(description, budget.description);
        if !text.is_empty() {
            sections
                .push(Section::new(Some("Description".into()), vec![Widget::TextParagraph(TextParagraph { text })]));
        }
    }
    if let Some(section) = entities_section(enriched, budget) {
        sections.push(section);
    }
    if let Some(section) = details_section(event, budget) {
        sections.push(section);
    }
    if let Some(link) = event_link(&event.arn) {
        let button = Button::link("Open in AWS Health", Icon::material("open_in_new"), link);
        sections.push(Section::new(None, vec![Widget::ButtonList(ButtonList { buttons: vec![button] })]));
    }

    Message {
        fallback_text: fallback_text(&title, &subtitle),
        cards_v2: vec![CardWithId {
            card_id: CARD_ID.to_owned(),
            card: Card { header: CardHeader { title, subtitle: Some(subtitle) }, sections },
        }],
        thread: Thread { thread_key: thread_key(event) },
    }
}

/// "EC2 instance retirement scheduled", from `service` and `eventTypeCode`.
pub fn event_title(event: &HealthEvent) -> String {
    let code = event.type_code.trim();
    let code = code.strip_prefix("AWS_").unwrap_or(code);
    let (service, rest) = match event.service.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(service) => {
            let rest = code.strip_prefix(service).and_then(|r| r.strip_prefix('_')).unwrap_or(code);
            (Some(service), rest)
        }
        None => (None, code),
    };
    let words = words(rest);
    match service {
        Some(service) if !words.is_empty() => format!("{service} {words}"),
        Some(service) => service.to_owned(),
        None => capitalised(&words),
    }
}

/// `INSTANCE_RETIREMENT_SCHEDULED` → `instance retirement scheduled`, keeping acronyms.
fn words(code: &str) -> String {
    const ACRONYMS: &[&str] = &[
        "API", "AMI", "AZ", "DNS", "EBS", "EC2", "ECS", "EKS", "ELB", "IAM", "IP", "KMS", "RDS", "S3", "SSL", "TLS",
        "VPC", "VPN",
    ];
    code.split(['_', ' '])
        .filter(|word| !word.is_empty())
        .map(|word| if ACRONYMS.contains(&word) { word.to_owned() } else { word.to_lowercase() })
        .collect::<Vec<_>>()
        .join(" ")
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}

fn title(event: &HealthEvent, severity: Severity) -> String {
    let name = text::plain(&event_title(event), MAX_TITLE_CHARS);
    let name = if name.is_empty() { "AWS Health event".to_owned() } else { name };
    if event.is_closed() { format!("✅ Resolved: {name}") } else { format!("{} {name}", severity.emoji()) }
}

/// "Open issue · ap-southeast-2 · payments-prod (111122223333)".
fn subtitle(enriched: &EnrichedEvent) -> String {
    let event = &enriched.event;
    let mut parts = vec![state(event)];
    if let Some(region) = event.impacted_region() {
        parts.push(text::plain(region, 40));
    }
    if let Some(account) = event.affected_account() {
        parts.push(text::plain(&enriched.account_label(account), 80));
    }
    parts.retain(|part| !part.is_empty());
    parts.join(" · ")
}

/// "Open issue", "Upcoming scheduled change", "Resolved".
fn state(event: &HealthEvent) -> String {
    let category = match &event.category {
        Some(Category::Issue) => "issue".to_owned(),
        Some(Category::AccountNotification) => "account notification".to_owned(),
        Some(Category::ScheduledChange) => "scheduled change".to_owned(),
        Some(Category::Investigation) => "investigation".to_owned(),
        Some(Category::Other(other)) => text::plain(other, 40),
        None => "event".to_owned(),
    };
    match &event.status {
        Some(Status::Closed) => format!("Resolved {category}"),
        Some(Status::Open) => format!("Open {category}"),
        Some(Status::Upcoming) => format!("Upcoming {category}"),
        Some(Status::Other(other)) => format!("{} {category}", text::plain(other, 40)),
        None => capitalised(&category),
    }
}

fn fallback_text(title: &str, subtitle: &str) -> String {
    text::plain(&format!("{title} — {subtitle}"), MAX_FALLBACK_CHARS)
}

fn problems_section(problems: &ValidationErrors, budget: &Budget) -> Section {
    let errors = problems.errors();
    let mut html = format!(
        "<b>delibird could not read {} field{} of this event</b>; the card shows what it could read.",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    );
    for error in errors.iter().take(budget.problems) {
        let _ = write!(html, "<br>• {}", text::line(&error.to_string(), budget.value));
    }
    if errors.len() > budget.problems {
        let _ = write!(html, "<br><i>+{} more</i>", errors.len() - budget.problems);
    }
    Section::new(Some("⚠ Invalid event".into()), vec![Widget::TextParagraph(TextParagraph { text: html })])
}

fn summary_rows(enriched: &EnrichedEvent, severity: Severity, budget: &Budget) -> Vec<Widget> {
    let event = &enriched.event;
    let mut rows = Vec::new();
    let level = format!(
        "<font color=\"{}\"><b>{}</b></font> · {}",
        severity.colour(),
        severity.label(),
        text::escape(&state(event))
    );
    let scope = match &event.scope {
        Some(Scope::Public) => {
            Some("Public event: affects the service in this Region, not only your resources".to_owned())
        }
        Some(Scope::AccountSpecific) => Some("Affects resources in this account".to_owned()),
        Some(Scope::None) | None => None,
        Some(Scope::Other(other)) => Some(format!("Scope {}", text::line(other, 40))),
    };
    let icon = if event.is_closed() { "check_circle" } else { severity.icon() };
    rows.push(DecoratedText::labelled("Severity", level, Icon::material(icon)).with_bottom_label(scope));

    if let Some(account) = event.affected_account() {
        let delivered_via =
            event.account.as_ref().filter(|delivered| *delivered != account).map(|delivered| {
                format!("Delivered via {}", text::line(&enriched.account_label(delivered), budget.value))
            });
        let label = text::line(&enriched.account_label(account), budget.value);
        rows.push(
            DecoratedText::labelled("Account", label, Icon::KnownIcon(KnownIcon::Person))
                .with_bottom_label(delivered_via),
        );
    }
    if let Some(region) = event.impacted_region() {
        let delivered = event.region.as_deref().filter(|delivered| *delivered != region);
        let note = match (event.backup, delivered) {
            (true, Some(to)) => Some(format!("Backup copy delivered to {}", text::line(to, 40))),
            (true, None) => Some("Backup-Region copy".to_owned()),
            (false, Some(to)) => Some(format!("Delivered to {}", text::line(to, 40))),
            (false, None) => None,
        };
        rows.push(
            DecoratedText::labelled("Region", text::line(region, 60), Icon::KnownIcon(KnownIcon::MapPin))
                .with_bottom_label(note),
        );
    }
    if let Some(service) = event.service.as_deref().filter(|s| !s.trim().is_empty()) {
        let code = Some(format!("<code>{}</code>", text::line(&event.type_code, budget.value)));
        rows.push(
            DecoratedText::labelled("Service", text::line(service, 60), Icon::material("cloud"))
                .with_bottom_label(code),
        );
    }
    let end_label = if event.is_closed() { "Ended" } else { "Ends" };
    for (label, time) in [("Starts", &event.start), (end_label, &event.end), ("Last updated", &event.last_updated)] {
        if let Some(time) = time {
            let label = if label == "Starts" && event.status != Some(Status::Upcoming) { "Started" } else { label };
            rows.push(DecoratedText::labelled(
                label,
                text::line(&time.to_string(), 60),
                Icon::KnownIcon(KnownIcon::Clock),
            ));
        }
    }
    if let Some(page) = event.page.filter(|page| page.total > 1) {
        let note = Some("Each page lists other affected resources".to_owned());
        let text = format!("Page {} of {}", page.number, page.total);
        rows.push(
            DecoratedText::labelled("Paged event", text, Icon::KnownIcon(KnownIcon::Description))
                .with_bottom_label(note),
        );
    }
    rows.into_iter().map(Widget::DecoratedText).collect()
}

fn entities_section(enriched: &EnrichedEvent, budget: &Budget) -> Option<Section> {
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
    let mut widgets: Vec<Widget> = entities
        .iter()
        .take(budget.entities)
        .map(|entity| Widget::DecoratedText(entity_row(enriched, entity, budget)))
        .collect();
    let hidden = entities.len().saturating_sub(budget.entities);
    if hidden > 0 {
        let more = format!("<i>+{hidden} more — open the event in AWS Health for the full list</i>");
        widgets.push(Widget::TextParagraph(TextParagraph { text: more }));
    }
    if widgets.is_empty() {
        return None;
    }
    let header = format!("Affected resources ({})", entities.len());
    Some(Section::collapsible(header, widgets, 3))
}

fn entity_row(enriched: &EnrichedEvent, entity: &Entity, budget: &Budget) -> DecoratedText {
    let value = match AccountId::parse(entity.value.trim()) {
        Some(id) => enriched.account_label(&id),
        None => entity.value.clone(),
    };
    let (status, icon) = match &entity.status {
        Some(EntityStatus::Impaired) => ("Impaired".to_owned(), "error"),
        Some(EntityStatus::Unimpaired) => ("Unimpaired".to_owned(), "check_circle"),
        Some(EntityStatus::Pending) => ("Pending".to_owned(), "schedule"),
        Some(EntityStatus::Resolved) => ("Resolved".to_owned(), "check_circle"),
        Some(EntityStatus::Unknown) => ("Unknown".to_owned(), "help"),
        Some(EntityStatus::Other(other)) => (text::line(other, 40), "help"),
        None => ("Affected".to_owned(), "dns"),
    };
    let tags = entity.tags.iter().map(|(key, value)| format!("{key}: {value}")).collect::<Vec<_>>().join(" · ");
    let bottom = if tags.is_empty() {
        entity.last_updated.as_ref().map(|at| format!("Updated {}", text::line(&at.to_string(), 60)))
    } else {
        Some(text::line(&tags, budget.value))
    };
    DecoratedText::labelled(&status, text::line(&value, budget.value), Icon::material(icon)).with_bottom_label(bottom)
}

fn details_section(event: &HealthEvent, budget: &Budget) -> Option<Section> {
    let mut rows: Vec<(String, String)> = Vec::new();
    rows.push(("Event ARN".into(), event.arn.to_string()));
    rows.push(("Event type code".into(), event.type_code.clone()));
    if let Some(id) = &event.communication_id {
        rows.push(("Communication ID".into(), id.clone()));
    }
    if let Some(actionability) = &event.actionability {
        rows.push(("Actionability".into(), actionability.as_str().to_owned()));
    }
    if !event.personas.is_empty() {
        rows.push(("Personas".into(), event.personas.join(", ")));
    }
    rows.extend(event.metadata.iter().map(|(key, value)| (key.clone(), value.clone())));
    rows.extend(event.extra.iter().map(|(key, value)| (key.clone(), value.clone())));
    if let Some(id) = &event.id {
        let source = event.source.as_deref().unwrap_or("unknown source");
        rows.push(("EventBridge event".into(), format!("{id} from {source}")));
    }
    let widgets: Vec<Widget> = rows
        .iter()
        .take(budget.details)
        .map(|(label, value)| {
            Widget::DecoratedText(DecoratedText::row(&text::line(label, 60), text::line(value, budget.value)))
        })
        .collect();
    (!widgets.is_empty()).then(|| Section::collapsible("Details".into(), widgets, 0))
}
