//! When reminders and digests are due: the reminder offsets (`DELIBIRD_REMINDERS`, `7d,1d,1h`)
//! and the digest's local time (`DELIBIRD_DIGEST_AT`, `09:00`, in `DELIBIRD_DIGEST_TZ`).

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// How long before a scheduled change starts its thread is reminded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offset {
    /// As written: `7d`, `1d`, `1h`, `30m`.
    pub label: String,
    /// In seconds.
    pub seconds: i64,
}

/// What is wrong with one offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("item {item} ({found}): expected a whole number of minutes, hours or days, 30m, 12h, 7d")]
pub struct OffsetError {
    /// Its place in the list, from 1.
    pub item: usize,
    /// What was written (short: it is no secret).
    pub found: String,
}

/// `7d,1d,1h`: offsets, largest first, each once; empty text is none.
pub fn parse_offsets(text: &str) -> Result<Vec<Offset>, Vec<OffsetError>> {
    let mut offsets = Vec::new();
    let mut errors = Vec::new();
    for (at, item) in text.split(',').map(str::trim).filter(|item| !item.is_empty()).enumerate() {
        let (number, unit) = item.split_at(item.len() - item.chars().last().map_or(0, char::len_utf8));
        let scale = match unit {
            "m" => Some(60),
            "h" => Some(3_600),
            "d" => Some(86_400),
            _ => None,
        };
        match (number.parse::<u32>().ok().filter(|n| (1..=9_999).contains(n)), scale) {
            (Some(n), Some(scale)) => offsets.push(Offset { label: item.to_owned(), seconds: i64::from(n) * scale }),
            _ => errors.push(OffsetError { item: at + 1, found: item.chars().take(20).collect() }),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    offsets.sort_by_key(|offset| std::cmp::Reverse(offset.seconds));
    offsets.dedup_by_key(|offset| offset.seconds);
    Ok(offsets)
}

/// The daily digest's local time in its time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestAt {
    /// The local time of day.
    pub time: NaiveTime,
    /// The IANA time zone it is in.
    pub zone: Tz,
}

impl fmt::Display for DigestAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.time.format("%H:%M"), self.zone.name())
    }
}

impl DigestAt {
    /// `HH:MM` in the IANA zone `zone` (`Europe/Berlin`; empty is UTC).
    pub fn parse(time: &str, zone: &str) -> Result<Self, DigestAtError> {
        let time = NaiveTime::parse_from_str(time.trim(), "%H:%M").map_err(|_| DigestAtError::Time)?;
        let zone = match zone.trim() {
            "" => Tz::UTC,
            name => name.parse::<Tz>().map_err(|_| DigestAtError::Zone(name.chars().take(40).collect()))?,
        };
        Ok(Self { time, zone })
    }

    /// The local day `now` is in.
    pub fn day(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.zone).date_naive()
    }

    /// The moment of the digest of `day` (on a day the clocks skip its time, the first moment
    /// after the gap; on one they repeat it, the first of the two).
    pub fn moment(&self, day: NaiveDate) -> DateTime<Utc> {
        let local = day.and_time(self.time);
        match self.zone.from_local_datetime(&local) {
            chrono::LocalResult::Single(at) | chrono::LocalResult::Ambiguous(at, _) => at.with_timezone(&Utc),
            chrono::LocalResult::None => {
                let later = local + chrono::Duration::hours(1);
                self.zone
                    .from_local_datetime(&later)
                    .earliest()
                    .map_or_else(|| later.and_utc(), |at| at.with_timezone(&Utc))
            }
        }
    }

    /// The latest digest moment at or before `now`, and its day.
    pub fn last_due(&self, now: DateTime<Utc>) -> (NaiveDate, DateTime<Utc>) {
        let today = self.day(now);
        let at = self.moment(today);
        if at <= now {
            return (today, at);
        }
        let yesterday = today.pred_opt().unwrap_or(today);
        (yesterday, self.moment(yesterday))
    }
}

/// What is wrong with the digest's time or zone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestAtError {
    /// Not `HH:MM`.
    #[error("expected a time of day as HH:MM, 09:00")]
    Time,
    /// Not an IANA time zone.
    #[error("{0} is not an IANA time zone; expected one such as Europe/Berlin or UTC")]
    Zone(String),
}

/// Reminders and the digest, as configured.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScheduleSettings {
    /// Reminder offsets, largest first; none: no reminders.
    pub reminders: Vec<Offset>,
    /// When each space's digest is due; `None`: no digest.
    pub digest: Option<DigestAt>,
    /// Whether a digest with nothing to say is posted all the same (`DELIBIRD_DIGEST_EMPTY=post`).
    pub empty_digest: bool,
}

impl ScheduleSettings {
    /// The defaults of the command line: `7d,1d,1h`, 09:00 UTC, quiet days quiet.
    pub fn standard() -> Self {
        Self {
            reminders: parse_offsets("7d,1d,1h").unwrap_or_default(),
            digest: DigestAt::parse("09:00", "UTC").ok(),
            empty_digest: false,
        }
    }

    /// True when a tick has anything to do.
    pub fn is_on(&self) -> bool {
        !self.reminders.is_empty() || self.digest.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_read_largest_first_and_every_wrong_one_is_named() {
        let offsets = parse_offsets("1h, 7d,1d,30m").unwrap();
        let labels: Vec<&str> = offsets.iter().map(|o| o.label.as_str()).collect();
        assert_eq!(labels, ["7d", "1d", "1h", "30m"]);
        assert_eq!(parse_offsets("").unwrap(), []);
        let errors = parse_offsets("7d,1w,x,0h").unwrap_err();
        assert_eq!(errors.iter().map(|e| e.item).collect::<Vec<_>>(), [2, 3, 4]);
        assert!(errors[0].to_string().contains("item 2 (1w)"), "{}", errors[0]);
    }

    #[test]
    fn the_digest_is_due_at_its_local_time_in_its_zone_across_daylight_saving() {
        let berlin = DigestAt::parse("09:00", "Europe/Berlin").unwrap();
        let winter: DateTime<Utc> = "2026-12-03T08:00:00Z".parse().unwrap();
        assert_eq!(berlin.last_due(winter).1, winter, "09:00 CET is 08:00 UTC");
        let summer: DateTime<Utc> = "2026-07-03T07:30:00Z".parse().unwrap();
        assert_eq!(berlin.last_due(summer).1, "2026-07-03T07:00:00Z".parse::<DateTime<Utc>>().unwrap());
        let before: DateTime<Utc> = "2026-12-03T07:59:00Z".parse().unwrap();
        assert_eq!(berlin.last_due(before).0.to_string(), "2026-12-02", "before 09:00: yesterday's");
        assert_eq!(DigestAt::parse("9am", "UTC"), Err(DigestAtError::Time));
        assert!(matches!(DigestAt::parse("09:00", "Mars/Olympus"), Err(DigestAtError::Zone(_))));
    }
}
