//! Reminders before a scheduled change: at each offset before its `startTime` (7 days, 1 day,
//! 1 hour), a short reply in the event's own thread — "Starts in 1 day: 3 of 4 resources still
//! pending" — while the event has not started or closed and something is still to do.
//!
//! Missed moments (delibird was down, or the ticks stopped): the reminder is posted once, late,
//! and says so, as long as the change has not started — a late "starts in 1 hour" is still worth
//! reading; when several moments were missed, only the latest is posted (one reply, not three).
//! Once the change has started, a missed reminder is skipped: the event's own updates say what
//! is happening now. A moment that came before the thread's first card is not a reminder at all:
//! that card told it.

use chrono::{DateTime, Duration, Utc};

use super::settings::Offset;
use super::tracked::{Tracked, moment};
use crate::card::model::{Body, Card, Fold, Glyph, Row, Section, Text};
use crate::card::{Severity, duration, relative};

/// The id of a reminder card.
pub const REMINDER_CARD_ID: &str = "aws-health-reminder";

/// A reminder posted more than this after its moment says it is late (ticks come every 15
/// minutes by default, so an on-time reminder is at most that late).
const LATE_AFTER: Duration = Duration::minutes(30);

/// One reminder that is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    /// The offset it is for (`1d`).
    pub offset: String,
    /// Every offset it settles: its own, and earlier ones whose moments were missed.
    pub settles: Vec<String>,
    /// Its moment: the start less the offset.
    pub due: DateTime<Utc>,
    /// When the change starts.
    pub start: DateTime<Utc>,
    /// When it is posted.
    pub now: DateTime<Utc>,
}

impl Reminder {
    /// True when it is posted well after its moment.
    pub fn is_late(&self) -> bool {
        self.now - self.due > LATE_AFTER
    }
}

/// The reminder due for `tracked` at `now`, if any: the latest of the offsets whose moments are
/// in (`since`, `now`] (any moment up to `now` without `since`), after the thread's first card,
/// and not reminded yet — while it has not started or closed and something is still to do.
pub fn due(
    tracked: &Tracked,
    offsets: &[Offset],
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<Reminder> {
    let start = tracked.start_at()?;
    if now >= start || !tracked.needs_action() {
        return None;
    }
    let first = moment(tracked.first_posted);
    let missed: Vec<(&Offset, DateTime<Utc>)> = offsets
        .iter()
        .map(|offset| (offset, start - Duration::seconds(offset.seconds)))
        .filter(|(offset, at)| {
            *at <= now
                && *at > first
                && since.is_none_or(|since| *at > since)
                && !tracked.reminded.contains(&offset.label)
        })
        .collect();
    let (offset, at) = missed.iter().max_by_key(|(_, at)| *at)?;
    Some(Reminder {
        offset: offset.label.clone(),
        settles: missed.iter().map(|(offset, _)| offset.label.clone()).collect(),
        due: *at,
        start,
        now,
    })
}

/// The reply a reminder posts in the event's thread.
pub fn card(tracked: &Tracked, reminder: &Reminder) -> Card {
    let left = (reminder.start - reminder.now).num_seconds().unsigned_abs();
    let title = format!("⏰ Starts in {}: {}", duration(left), tracked.title);
    let mut rows = vec![
        Row::new(
            "Starts",
            Text::words(format!(
                "{} ({})",
                reminder.start.format("%a %-d %b %Y %H:%M UTC"),
                relative(reminder.start, reminder.now)
            )),
            Glyph::Time,
        ),
        Row::new("Still to do", Text::words(still_to_do(tracked)), Glyph::Pending),
    ];
    if tracked.accounts.len() > 1 {
        let waiting = tracked.accounts.values().filter(|part| part.pending > 0).count();
        rows.push(Row::new(
            "Accounts",
            Text::words(format!("{waiting} of {} accounts with resources pending", tracked.accounts.len())),
            Glyph::Account,
        ));
    }
    if reminder.is_late() {
        rows.push(Row::bare(
            "Late",
            Text::words(format!(
                "this {} reminder was due {} (delibird was not running then)",
                reminder.offset,
                relative(reminder.due, reminder.now)
            )),
        ));
    }
    let mut sections = vec![Section { header: None, fold: Fold::Open, body: Body::Rows(rows) }];
    if let Some(url) = &tracked.link {
        sections.push(Section {
            header: None,
            fold: Fold::Open,
            body: Body::Link { label: "Open in AWS Health", url: url.clone() },
        });
    }
    Card {
        id: REMINDER_CARD_ID,
        title,
        subtitle: tracked.place(),
        severity: tracked.severity().max(Severity::Warning),
        thread: tracked.thread.clone(),
        sections,
        mentions: Vec::new(),
    }
}

/// "3 of 4 resources still pending", "action required".
pub fn still_to_do(tracked: &Tracked) -> String {
    let (pending, total) = (tracked.pending(), tracked.total());
    let resources = match (pending, total) {
        (0, _) => None,
        (1, 1) => Some("1 resource pending".to_owned()),
        (p, t) if p == t => Some(format!("all {t} resources pending")),
        (p, t) => Some(format!("{p} of {t} resources still pending")),
    };
    match (resources, tracked.action_required) {
        (Some(resources), true) => format!("{resources}; action required"),
        (Some(resources), false) => resources,
        (None, _) => "action required".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::settings::parse_offsets;
    use super::super::tracked::AccountPart;
    use super::*;

    fn change(start: &str, first_posted: &str) -> Tracked {
        let at = |text: &str| text.parse::<DateTime<Utc>>().unwrap().timestamp();
        Tracked {
            thread: "health/x".into(),
            title: "EC2 instance retirement scheduled".into(),
            severity: "Warning".into(),
            category: "scheduledChange".into(),
            service: Some("EC2".into()),
            region: Some("us-east-1".into()),
            link: None,
            start: Some(at(start)),
            end: None,
            status: "upcoming".into(),
            action_required: false,
            accounts: [(
                "111122223333".to_owned(),
                AccountPart { label: "payments (111122223333)".into(), pending: 3, total: 4 },
            )]
            .into(),
            first_posted: at(first_posted),
            last_posted: at(first_posted),
            reminded: Vec::new(),
            digest_only: false,
        }
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn each_offset_is_due_once_its_moment_comes() {
        let offsets = parse_offsets("7d,1d,1h").unwrap();
        let mut tracked = change("2026-12-20T10:00:00Z", "2026-12-01T10:00:00Z");
        assert_eq!(due(&tracked, &offsets, None, at("2026-12-13T09:59:00Z")), None);
        let week = due(&tracked, &offsets, None, at("2026-12-13T10:05:00Z")).unwrap();
        assert_eq!((week.offset.as_str(), week.is_late()), ("7d", false));
        tracked.reminded.push("7d".into());
        assert_eq!(due(&tracked, &offsets, None, at("2026-12-13T10:20:00Z")), None, "once");
        assert_eq!(still_to_do(&tracked), "3 of 4 resources still pending");
        let text = format!("{:?}", card(&tracked, &week));
        assert!(text.contains("Starts in 6 days"), "{text}");
    }

    #[test]
    fn missed_moments_are_one_late_reminder_before_the_start_and_none_after() {
        let offsets = parse_offsets("7d,1d,1h").unwrap();
        let tracked = change("2026-12-20T10:00:00Z", "2026-12-01T10:00:00Z");
        let late = due(&tracked, &offsets, None, at("2026-12-19T12:00:00Z")).unwrap();
        assert_eq!((late.offset.as_str(), late.settles.len(), late.is_late()), ("1d", 2, true));
        assert!(format!("{:?}", card(&tracked, &late)).contains("was due 2 hours ago"));
        assert_eq!(due(&tracked, &offsets, None, at("2026-12-20T10:00:00Z")), None, "started");
    }

    #[test]
    fn nothing_is_due_for_a_closed_event_one_with_nothing_pending_or_one_announced_late() {
        let offsets = parse_offsets("7d,1d,1h").unwrap();
        let mut closed = change("2026-12-20T10:00:00Z", "2026-12-01T10:00:00Z");
        closed.status = "closed".into();
        assert_eq!(due(&closed, &offsets, None, at("2026-12-19T10:05:00Z")), None);
        let mut done = change("2026-12-20T10:00:00Z", "2026-12-01T10:00:00Z");
        done.accounts.values_mut().for_each(|part| part.pending = 0);
        assert_eq!(due(&done, &offsets, None, at("2026-12-19T10:05:00Z")), None);
        let announced = change("2026-12-20T10:00:00Z", "2026-12-18T10:00:00Z");
        assert_eq!(due(&announced, &offsets, None, at("2026-12-19T10:05:00Z")).unwrap().settles, ["1d"], "not 7d");
    }
}
