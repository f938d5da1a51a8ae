//! Each space's daily digest: what is open, what is coming in the next 7 days (with its
//! countdown), what still needs action by account, and what was resolved in the last 24 hours —
//! each item opening its event in AWS Health — or nothing on a day with nothing to say. A section
//! shows its most pressing items and counts the rest, so a digest of any number of events stays
//! within Google Chat's limits. No I/O here.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::reminders::still_to_do;
use super::tracked::{Tracked, moment};
use crate::card::model::{Body, Card, Fold, Glyph, Item, Row, Section, Style, Text, Width};
use crate::card::{Severity, relative};

/// The id of a digest card.
pub const DIGEST_CARD_ID: &str = "aws-health-digest";

/// Items a section shows before "+N more": four sections of 12 rows stay far below Chat's 100
/// widgets and 32,000 bytes.
const SECTION_ITEMS: usize = 12;

/// How far ahead "coming up" looks.
const AHEAD: Duration = Duration::days(7);

/// How far back "resolved" looks.
const BEHIND: Duration = Duration::hours(24);

/// Characters of an event title or account label shown in one row.
const TITLE_CHARS: usize = 100;

/// What a digest holds, before it becomes a card.
#[derive(Debug, Default)]
pub struct Digest<'a> {
    /// Open issues and investigations that have started, most severe first.
    pub open: Vec<&'a Tracked>,
    /// Changes starting within 7 days, soonest first.
    pub coming: Vec<&'a Tracked>,
    /// Per account label, the events still needing its action.
    pub actions: BTreeMap<String, Vec<&'a Tracked>>,
    /// Events closed in the last 24 hours, latest first.
    pub resolved: Vec<&'a Tracked>,
    /// Events a `digest_only` rule kept for the digest, updated in the last 24 hours, latest
    /// first: listed once whatever else they are, so that a quiet space loses none.
    pub kept: Vec<&'a Tracked>,
}

impl<'a> Digest<'a> {
    /// What the events of one space say at `now`.
    pub fn of(events: impl IntoIterator<Item = &'a Tracked>, now: DateTime<Utc>) -> Self {
        let mut digest = Digest::default();
        for tracked in events {
            if tracked.digest_only && moment(tracked.last_posted) <= now && now - moment(tracked.last_posted) <= BEHIND
            {
                digest.kept.push(tracked);
            }
            let start = tracked.start_at();
            let started = start.is_none_or(|start| start <= now);
            if tracked.is_closed() {
                let ended = tracked.end.map_or(moment(tracked.last_posted), moment);
                if ended <= now && now - ended <= BEHIND {
                    digest.resolved.push(tracked);
                }
                continue;
            }
            if started && matches!(tracked.category.as_str(), "issue" | "investigation") {
                digest.open.push(tracked);
            }
            if start.is_some_and(|start| start > now && start - now <= AHEAD) {
                digest.coming.push(tracked);
            }
            if tracked.needs_action() {
                for (id, part) in &tracked.accounts {
                    if part.pending > 0 || tracked.action_required {
                        let label = if part.label.is_empty() { id.clone() } else { part.label.clone() };
                        digest.actions.entry(label).or_default().push(tracked);
                    }
                }
            }
        }
        digest.open.sort_by_key(|t| (std::cmp::Reverse(t.severity()), std::cmp::Reverse(t.last_posted)));
        digest.coming.sort_by_key(|t| t.start);
        digest.resolved.sort_by_key(|t| std::cmp::Reverse(t.end.unwrap_or(t.last_posted)));
        digest.kept.sort_by_key(|t| std::cmp::Reverse(t.last_posted));
        for events in digest.actions.values_mut() {
            events.sort_by_key(|t| t.start.unwrap_or(i64::MAX));
        }
        digest
    }

    /// True when it has nothing to say.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
            && self.coming.is_empty()
            && self.actions.is_empty()
            && self.resolved.is_empty()
            && self.kept.is_empty()
    }
}

/// The digest card of `space` at `now` (its local `day`, in `zone`), in its own thread
/// `digest/<day>`, one a day.
pub fn card(digest: &Digest<'_>, space: &str, day: NaiveDate, zone: &str, now: DateTime<Utc>) -> Card {
    let mut counts = Vec::new();
    let mut count = |n: usize, one: &str, many: &str| {
        if n > 0 {
            counts.push(if n == 1 { format!("1 {one}") } else { format!("{n} {many}") });
        }
    };
    count(digest.open.len(), "open issue", "open issues");
    count(digest.coming.len(), "change coming", "changes coming");
    count(digest.actions.len(), "account with actions", "accounts with actions");
    count(digest.resolved.len(), "resolved", "resolved");
    count(digest.kept.len(), "notice", "notices");
    let title = if counts.is_empty() {
        "📋 Daily digest: nothing open, nothing coming".to_owned()
    } else {
        format!("📋 Daily digest: {}", counts.join(", "))
    };
    let mut sections = Vec::new();
    let mut section = |header: String, items: Vec<Item>, total: usize| {
        if total > 0 {
            sections.push(Section {
                header: Some(header),
                fold: Fold::Open,
                body: Body::Items { items, hidden: total.saturating_sub(SECTION_ITEMS) },
            });
        }
    };
    let open = digest.open.iter().take(SECTION_ITEMS).map(|t| open_item(t, now)).collect();
    section(format!("Open issues ({})", digest.open.len()), open, digest.open.len());
    let coming = digest.coming.iter().take(SECTION_ITEMS).map(|t| coming_item(t, now)).collect();
    section(format!("Coming up in the next 7 days ({})", digest.coming.len()), coming, digest.coming.len());
    let actions =
        digest.actions.iter().take(SECTION_ITEMS).map(|(account, events)| action_item(account, events)).collect();
    section(format!("Still to do, by account ({})", digest.actions.len()), actions, digest.actions.len());
    let resolved = digest.resolved.iter().take(SECTION_ITEMS).map(|t| resolved_item(t, now)).collect();
    section(format!("Resolved in the last 24 hours ({})", digest.resolved.len()), resolved, digest.resolved.len());
    let kept = digest.kept.iter().take(SECTION_ITEMS).map(|t| kept_item(t, now)).collect();
    section(format!("Notices for this digest only ({})", digest.kept.len()), kept, digest.kept.len());
    let severity = digest.open.iter().chain(&digest.coming).map(|t| t.severity()).max().unwrap_or(Severity::Info);
    Card {
        id: DIGEST_CARD_ID,
        title,
        subtitle: format!("{space} · {} ({zone})", day.format("%a %-d %b %Y")),
        severity,
        thread: format!("{}/{}", super::DIGEST_THREAD, day.format("%Y-%m-%d")),
        sections,
        mentions: Vec::new(),
    }
}

fn headline(tracked: &Tracked) -> Text {
    Text::default().then(Style::Strong, tracked.title.clone(), Width::At(TITLE_CHARS))
}

fn open_item(tracked: &Tracked, now: DateTime<Utc>) -> Item {
    let since = tracked.start_at().map(|start| format!("since {}", relative(start, now)));
    let note = [Some(tracked.place()), since].into_iter().flatten().filter(|s| !s.is_empty()).collect::<Vec<_>>();
    Item {
        row: Row::new(tracked.severity().label(), headline(tracked), Glyph::Severity(tracked.severity()))
            .noted(Some(Text::event(note.join(" · "), Width::At(TITLE_CHARS)))),
        link: tracked.link.clone(),
    }
}

fn coming_item(tracked: &Tracked, now: DateTime<Utc>) -> Item {
    let start = tracked.start_at().unwrap_or(now);
    let label = format!("Starts {} · {}", relative(start, now), start.format("%a %-d %b %H:%M UTC"));
    let todo = tracked.needs_action().then(|| still_to_do(tracked));
    let note = [Some(tracked.place()), todo].into_iter().flatten().filter(|s| !s.is_empty()).collect::<Vec<_>>();
    Item {
        row: Row::new(label, headline(tracked), Glyph::Time)
            .noted(Some(Text::event(note.join(" · "), Width::At(TITLE_CHARS)))),
        link: tracked.link.clone(),
    }
}

fn action_item(account: &str, events: &[&Tracked]) -> Item {
    let first = events[0];
    let pending = |t: &Tracked| t.accounts.values().find(|p| p.label == account).map_or(0, |p| p.pending);
    let mut value = headline(first).and(format!(": {}", pending_words(pending(first), first.action_required)));
    if events.len() > 1 {
        let more = events.len() - 1;
        let noun = if more == 1 { "event" } else { "events" };
        value = value.then(Style::Aside, format!(" +{more} more {noun}"), Width::Whole);
    }
    Item {
        row: Row::new(Text::event(account, Width::At(TITLE_CHARS)), value, Glyph::Account),
        link: first.link.clone(),
    }
}

fn pending_words(pending: u32, action_required: bool) -> String {
    match (pending, action_required) {
        (0, _) => "action required".to_owned(),
        (1, _) => "1 resource pending".to_owned(),
        (n, _) => format!("{n} resources pending"),
    }
}

fn resolved_item(tracked: &Tracked, now: DateTime<Utc>) -> Item {
    let ended = moment(tracked.end.unwrap_or(tracked.last_posted));
    Item {
        row: Row::new(format!("Resolved {}", relative(ended, now)), headline(tracked), Glyph::Resolved)
            .noted(Some(Text::event(tracked.place(), Width::At(TITLE_CHARS)))),
        link: tracked.link.clone(),
    }
}

fn kept_item(tracked: &Tracked, now: DateTime<Utc>) -> Item {
    let label = format!("{} · {}", tracked.severity().label(), relative(moment(tracked.last_posted), now));
    Item {
        row: Row::new(label, headline(tracked), Glyph::Severity(tracked.severity()))
            .noted(Some(Text::event(tracked.place(), Width::At(TITLE_CHARS)))),
        link: tracked.link.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tracked::AccountPart;
    use super::*;
    use crate::chat::{self, limits};

    fn event(n: usize, category: &str, status: &str, start: i64, pending: u32) -> Tracked {
        Tracked {
            thread: format!("health/arn:aws:health:us-east-1::event/EC2/X/{n}"),
            title: format!("EC2 event number {n}"),
            severity: "High".into(),
            category: category.into(),
            service: Some("EC2".into()),
            region: Some("us-east-1".into()),
            link: Some(format!("https://health.aws.amazon.com/health/home#/event-log?eventID={n}")),
            start: Some(start),
            end: None,
            status: status.into(),
            action_required: false,
            accounts: [(
                format!("{:012}", n % 40),
                AccountPart { label: format!("team-{} ({:012})", n % 40, n % 40), pending, total: 2 },
            )]
            .into(),
            first_posted: start - 86_400 * 10,
            last_posted: start - 3_600,
            reminded: Vec::new(),
            digest_only: false,
        }
    }

    #[test]
    fn an_event_kept_for_the_digest_alone_is_listed_while_it_is_new() {
        let now: DateTime<Utc> = "2026-12-03T09:00:00Z".parse().unwrap();
        let mut notice = event(7, "accountNotification", "open", now.timestamp() - 86_400 * 30, 0);
        notice.digest_only = true;
        notice.last_posted = now.timestamp() - 3_600;
        let digest = Digest::of([&notice], now);
        assert_eq!(digest.kept.len(), 1);
        let text = serde_json::to_string(&chat::render(&card(&digest, "quiet", now.date_naive(), "UTC", now))).unwrap();
        assert!(text.contains("Notices for this digest only (1)") && text.contains("EC2 event number 7"), "{text}");
        notice.last_posted = now.timestamp() - 86_400 * 2;
        assert!(Digest::of([&notice], now).is_empty(), "listed once, the day after it came");
    }

    #[test]
    fn a_day_with_nothing_to_say_has_no_digest() {
        let now: DateTime<Utc> = "2026-12-03T09:00:00Z".parse().unwrap();
        let old = event(1, "issue", "closed", now.timestamp() - 86_400 * 5, 0);
        assert!(Digest::of([&old], now).is_empty());
    }

    #[test]
    fn five_hundred_open_events_make_one_digest_within_googles_limits() {
        let now: DateTime<Utc> = "2026-12-03T09:00:00Z".parse().unwrap();
        let events: Vec<Tracked> = (0..500)
            .map(|n| match n % 3 {
                0 => event(n, "issue", "open", now.timestamp() - 3_600, 0),
                1 => event(n, "scheduledChange", "upcoming", now.timestamp() + 3_600 * (n as i64 % 150), 1),
                _ => event(n, "issue", "closed", now.timestamp() - 600, 0),
            })
            .collect();
        let digest = Digest::of(&events, now);
        assert_eq!((digest.open.len(), digest.resolved.len()), (167, 166));
        let message = chat::render(&card(&digest, "default", now.date_naive(), "UTC", now));
        assert!(limits::within_limits(&message), "{} bytes", limits::message_bytes(&message));
        let text = serde_json::to_string(&message).unwrap();
        assert!(text.contains("+155 more") && text.contains("Open issues (167)"), "{text}");
        assert!(text.contains("openLink"), "items open their events");
    }
}
