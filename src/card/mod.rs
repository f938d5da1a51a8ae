//! Stage 4: render a Health event as a Google Chat Card V2 message people read in two seconds.
//!
//! [`render`] is total: for any event it returns a message within Google's limits
//! ([`limits`]). It lays the card out at the most generous [`Budget`] that fits, cutting long
//! descriptions and entity lists with a visible "+N more". All event text is escaped
//! ([`text`]). No I/O here.

mod clock;
pub mod limits;
mod links;
mod names;
mod severity;
pub mod text;
mod thread;
pub mod wire;

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::accounts::EnrichedEvent;
use crate::health::{
    AccountId, Actionability, Category, Entity, EntityStatus, EventTime, HealthEvent, Scope, Status, ValidationErrors,
};
pub use clock::{Clock, duration, relative};
pub use links::event_link;
pub use names::{event_title, humanised, service_name};
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
    /// Where "now" comes from, for relative times ("starts in 3 days"): the system clock, or a
    /// fixed instant for reproducible cards.
    pub clock: Clock,
}

impl Default for CardSettings {
    fn default() -> Self {
        Self { severity: SeverityRules::default(), language: "en_US".to_owned(), clock: Clock::System }
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

/// Lines of description a card shows before Chat's "show more": a long description would push
/// the affected resources and the link far down the conversation.
const DESCRIPTION_LINES: u32 = 12;

/// Characters in one line of card text, about, at Chat's usual card width.
const LINE_CHARS: usize = 70;

/// Longest `fallbackText` delibird writes: a notification line, far below Chat's limit.
const MAX_FALLBACK_CHARS: usize = 400;

/// Renders an event — with the problems found in it, for a degraded card — as a webhook message.
pub fn render(event: &EnrichedEvent, problems: Option<&ValidationErrors>, settings: &CardSettings) -> Message {
    render_body(event, problems, settings).message
}

/// A rendered message and its webhook body: the JSON Chat receives, written once, when
/// [`render_body`] checked its size against Google's limit, and posted as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The message.
    pub message: Message,
    /// `message` as compact JSON.
    pub body: Vec<u8>,
}

impl From<Message> for Rendered {
    fn from(message: Message) -> Self {
        let body = json(&message);
        Self { message, body }
    }
}

/// A message as compact JSON. It holds only strings, numbers, booleans and lists, which always
/// serialize; were that ever to fail, the empty body would be refused by Chat with a 400 and
/// reported, rather than panic.
fn json(message: &Message) -> Vec<u8> {
    serde_json::to_vec(message).unwrap_or_default()
}

/// [`render`], with the body: the message at the most generous budget whose JSON is within
/// Google's limits, else at the smallest.
pub fn render_body(event: &EnrichedEvent, problems: Option<&ValidationErrors>, settings: &CardSettings) -> Rendered {
    let facts = Facts::of(event, problems, settings);
    let [generous @ .., smallest] = &BUDGETS;
    for budget in generous {
        let message = facts.compose(budget);
        let body = json(&message);
        if limits::within_limits_of(&message, body.len()) {
            return Rendered { message, body };
        }
    }
    facts.compose(smallest).into()
}

/// What every budget's card shows alike, worked out once per [`render`]: the severity reads the
/// whole description, and "now" is read once so that the budgets differ only in size.
struct Facts<'a> {
    enriched: &'a EnrichedEvent,
    problems: Option<&'a ValidationErrors>,
    description: Option<&'a str>,
    now: DateTime<Utc>,
    severity: Severity,
    title: String,
    subtitle: String,
}

impl<'a> Facts<'a> {
    fn of(enriched: &'a EnrichedEvent, problems: Option<&'a ValidationErrors>, settings: &'a CardSettings) -> Self {
        let event = &enriched.event;
        let description = event.description(&settings.language).map(|d| d.text.as_str());
        let severity = assess(event, description, &settings.severity);
        let severity = if problems.is_some() { severity.max(Severity::Warning) } else { severity };
        Self {
            enriched,
            problems,
            description,
            now: settings.clock.now(),
            severity,
            title: title(event, severity, problems),
            subtitle: subtitle(enriched, problems),
        }
    }

    /// The card at one budget.
    fn compose(&self, budget: &Budget) -> Message {
        let (enriched, now) = (self.enriched, self.now);
        let event = &enriched.event;
        let mut sections = Vec::new();
        if let Some(problems) = self.problems {
            sections.push(problems_section(problems, budget));
        }
        sections.push(Section::new(None, summary_rows(enriched, self.severity, now, budget)));
        if let Some(description) = self.description {
            let text = text::paragraph(description, budget.description);
            if !text.is_empty() {
                let max_lines = (text::lines(&text, LINE_CHARS) > DESCRIPTION_LINES).then_some(DESCRIPTION_LINES);
                let paragraph = TextParagraph { max_lines, ..TextParagraph::new(text) };
                sections.push(Section::new(Some("Description".into()), vec![Widget::TextParagraph(paragraph)]));
            }
        }
        if let Some(section) = entities_section(enriched, now, budget) {
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
            fallback_text: fallback_text(&self.title, &self.subtitle),
            cards_v2: vec![CardWithId {
                card_id: CARD_ID.to_owned(),
                card: Card {
                    header: CardHeader { title: self.title.clone(), subtitle: Some(self.subtitle.clone()) },
                    sections,
                },
            }],
            thread: Thread { thread_key: thread_key(event) },
        }
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
fn category(event: &HealthEvent) -> String {
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
fn state(event: &HealthEvent) -> String {
    let category = category(event);
    match &event.status {
        Some(Status::Closed) => format!("Resolved {category}"),
        Some(Status::Open) => format!("Open {category}"),
        Some(Status::Upcoming) => format!("Upcoming {category}"),
        Some(Status::Other(other)) => format!("{} {category}", text::plain(other, 40)),
        None => names::capitalised(&category),
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
    Section::new(Some("⚠ Invalid event".into()), vec![Widget::TextParagraph(TextParagraph::new(html))])
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

fn summary_rows(enriched: &EnrichedEvent, severity: Severity, now: DateTime<Utc>, budget: &Budget) -> Vec<Widget> {
    let event = &enriched.event;
    let public = event.scope == Some(Scope::Public);
    let mut rows = Vec::new();

    let colour = severity.colour();
    let (label, level, icon) = if event.is_closed() {
        let level = format!("<font color=\"{colour}\"><b>Resolved</b></font> {}", text::escape(&category(event)));
        ("Status", level, "check_circle")
    } else {
        let level =
            format!("<font color=\"{colour}\"><b>{}</b></font> · {}", severity.label(), text::escape(&state(event)));
        ("Severity", level, severity.icon())
    };
    let action = match &event.actionability {
        Some(Actionability::ActionRequired) => Some("Action required".to_owned()),
        Some(Actionability::ActionMayBeRequired) => Some("Action may be required".to_owned()),
        Some(Actionability::Informational) | None => None,
        Some(Actionability::Other(other)) => Some(text::line(&humanised(other), 40)),
    };
    let scope = match &event.scope {
        Some(Scope::Public) => {
            Some("Public event: affects the service in this Region, not only your resources".to_owned())
        }
        Some(Scope::AccountSpecific) => Some("Affects resources in this account".to_owned()),
        Some(Scope::None) | None => None,
        Some(Scope::Other(other)) => Some(format!("Scope {}", text::line(other, 40))),
    };
    let note = [action, scope].into_iter().flatten().collect::<Vec<_>>().join(" · ");
    rows.push(
        DecoratedText::labelled(label, level, Icon::material(icon))
            .with_bottom_label((!note.is_empty()).then_some(note)),
    );

    if let Some(account) = event.affected_account() {
        let delivered_via =
            event.account.as_ref().filter(|delivered| *delivered != account).map(|delivered| {
                format!("Delivered via {}", text::line(&enriched.account_label(delivered), budget.value))
            });
        let (label, note) = if public {
            ("Seen from", delivered_via.or_else(|| Some("One of the accounts this public event reached".to_owned())))
        } else {
            // OU path and chosen tags tell the reader whose problem it is.
            let context = enriched.accounts.get(account).and_then(|info| info.context());
            let context = context.map(|context| text::line(&context, budget.value));
            let parts: Vec<String> = context.into_iter().chain(delivered_via).collect();
            ("Account", (!parts.is_empty()).then(|| parts.join(" · ")))
        };
        let text = text::line(&enriched.account_label(account), budget.value);
        rows.push(DecoratedText::labelled(label, text, Icon::KnownIcon(KnownIcon::Person)).with_bottom_label(note));
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
            DecoratedText::labelled("Service", text::line(&service_name(service), 60), Icon::material("cloud"))
                .with_bottom_label(code),
        );
    }

    if let Some(start) = &event.start {
        let starts = ahead(start, now).unwrap_or(event.status == Some(Status::Upcoming));
        let label = if starts { "Starts" } else { "Started" };
        rows.push(DecoratedText::labelled(label, text::line(&when(start, now), 80), Icon::KnownIcon(KnownIcon::Clock)));
    }
    if let Some(end) = &event.end {
        let ends = ahead(end, now).unwrap_or(!event.is_closed());
        let label = if ends { "Ends" } else { "Ended" };
        let lasted = match (event.start.as_ref().and_then(EventTime::at), end.at()) {
            (Some(start), Some(end)) if event.is_closed() && end >= start => {
                Some(format!("Lasted {}", duration((end - start).num_seconds().unsigned_abs())))
            }
            _ => None,
        };
        rows.push(
            DecoratedText::labelled(label, text::line(&when(end, now), 80), Icon::KnownIcon(KnownIcon::Clock))
                .with_bottom_label(lasted),
        );
    }
    if let Some(updated) = &event.last_updated {
        rows.push(DecoratedText::labelled(
            "Last updated",
            text::line(&when(updated, now), 80),
            Icon::KnownIcon(KnownIcon::Clock),
        ));
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

fn entities_section(enriched: &EnrichedEvent, now: DateTime<Utc>, budget: &Budget) -> Option<Section> {
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
        .map(|entity| Widget::DecoratedText(entity_row(enriched, entity, now, budget)))
        .collect();
    let hidden = entities.len().saturating_sub(budget.entities);
    if hidden > 0 {
        let more = format!("<i>+{hidden} more — open the event in AWS Health for the full list</i>");
        widgets.push(Widget::TextParagraph(TextParagraph::new(more)));
    }
    if widgets.is_empty() {
        return None;
    }
    let header = format!("Affected resources ({})", entities.len());
    Some(Section::collapsible(header, widgets, 3))
}

/// One entity: its status and when it changed above, its `Name` tag and value (an account's name,
/// an ARN's resource part when the ARN names the event's own account and Region), its other tags
/// below.
fn entity_row(enriched: &EnrichedEvent, entity: &Entity, now: DateTime<Utc>, budget: &Budget) -> DecoratedText {
    let account = AccountId::parse(entity.value.trim());
    let value = match &account {
        Some(id) => enriched.account_label(id),
        None => short_value(&enriched.event, &entity.value).to_owned(),
    };
    let (status, icon) = match &entity.status {
        Some(EntityStatus::Impaired) => ("Impaired".to_owned(), Icon::material("error")),
        Some(EntityStatus::Unimpaired) => ("Unimpaired".to_owned(), Icon::material("check_circle")),
        Some(EntityStatus::Pending) => ("Pending".to_owned(), Icon::material("schedule")),
        Some(EntityStatus::Resolved) => ("Resolved".to_owned(), Icon::material("check_circle")),
        Some(EntityStatus::Unknown) => ("Unknown".to_owned(), Icon::material("help")),
        Some(EntityStatus::Other(other)) => (text::line(other, 40), Icon::material("help")),
        None if account.is_some() => ("Affected".to_owned(), Icon::KnownIcon(KnownIcon::Person)),
        None => ("Affected".to_owned(), Icon::material("dns")),
    };
    let top = match &entity.last_updated {
        Some(at) => {
            let when = at.at().map_or_else(|| at.to_string(), |t| relative(t, now));
            format!("{status} · updated {}", text::line(&when, 60))
        }
        None => status,
    };
    let is_name = |key: &str| key.trim().eq_ignore_ascii_case("name");
    let name = entity.tags.iter().find(|(key, value)| is_name(key) && !value.trim().is_empty());
    let text = match name {
        Some((_, name)) => format!("<b>{}</b> · {}", text::line(name, budget.value), text::line(&value, budget.value)),
        None => text::line(&value, budget.value),
    };
    let tags = entity
        .tags
        .iter()
        .filter(|(key, _)| !is_name(key))
        .map(|(key, value)| format!("{key}: {value}"))
        .collect::<Vec<_>>()
        .join(" · ");
    let bottom = (!tags.is_empty()).then(|| text::line(&tags, budget.value));
    DecoratedText::labelled(&top, text, icon).with_bottom_label(bottom)
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

fn details_section(event: &HealthEvent, budget: &Budget) -> Option<Section> {
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
    let widgets: Vec<Widget> = rows
        .iter()
        .take(budget.details)
        .map(|(label, value)| {
            Widget::DecoratedText(DecoratedText::row(&text::line(label, 60), text::line(value, budget.value)))
        })
        .collect();
    (!widgets.is_empty()).then(|| Section::collapsible("Details".into(), widgets, 0))
}
