//! The reference time of a card: "starts in 3 days" depends on when the card is rendered, so the
//! renderer reads the time from [`CardSettings`](super::CardSettings), never from the system
//! directly, and tests, golden files and screenshots pin it. Pure, no I/O.

use chrono::{DateTime, Utc};

/// Where [`render`](super::render) reads "now" for relative times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    /// The system clock, read at each render: what the Lambda needs, since its settings are built
    /// once per container and a container lives for hours.
    #[default]
    System,
    /// A fixed instant: reproducible cards for tests, golden files and screenshots.
    Fixed(DateTime<Utc>),
}

impl Clock {
    /// The reference time.
    pub fn now(self) -> DateTime<Utc> {
        match self {
            Self::System => Utc::now(),
            Self::Fixed(at) => at,
        }
    }
}

/// `in 3 days`, `5 hours ago`, `just now`: the distance from `now` to `at` in its largest whole
/// unit, rounded down.
pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (at - now).num_seconds();
    if seconds.abs() < 60 {
        return "just now".to_owned();
    }
    let span = duration(seconds.unsigned_abs());
    if seconds > 0 { format!("in {span}") } else { format!("{span} ago") }
}

/// `2 hours 59 minutes`, `19 hours`, `3 days`, `1 minute`: a duration in words, in its largest
/// unit rounded down, with the minutes too under six hours.
pub fn duration(seconds: u64) -> String {
    let minutes = seconds / 60;
    let hours = minutes / 60;
    let days = hours / 24;
    match () {
        () if minutes < 60 => count(minutes, "minute"),
        () if hours < 6 && !minutes.is_multiple_of(60) => {
            format!("{} {}", count(hours, "hour"), count(minutes % 60, "minute"))
        }
        () if hours < 48 => count(hours, "hour"),
        () if days < 60 => count(days, "day"),
        () if days < 730 => count(days / 30, "month"),
        () => count(days / 365, "year"),
    }
}

fn count(n: u64, unit: &str) -> String {
    if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_start_three_days_ahead_is_in_3_days() {
        assert_eq!(relative(at("2024-07-20T15:00:00Z"), at("2024-07-17T12:00:00Z")), "in 3 days");
    }

    #[test]
    fn a_past_time_is_ago() {
        assert_eq!(relative(at("2023-01-27T06:02:51Z"), at("2023-01-27T10:00:00Z")), "3 hours 57 minutes ago");
    }

    #[test]
    fn under_a_minute_is_just_now() {
        assert_eq!(relative(at("2023-01-27T10:00:30Z"), at("2023-01-27T10:00:00Z")), "just now");
    }

    #[test]
    fn whole_hours_drop_the_minutes() {
        assert_eq!(duration(3 * 3600 + 59), "3 hours");
    }

    #[test]
    fn minutes_count_only_under_six_hours() {
        assert_eq!(duration(5 * 3600 + 59 * 60), "5 hours 59 minutes");
        assert_eq!(duration(19 * 3600 + 58 * 60), "19 hours");
    }

    #[test]
    fn long_spans_are_months_then_years() {
        assert_eq!(duration(90 * 86_400), "3 months");
        assert_eq!(duration(1_000 * 86_400), "2 years");
    }

    #[test]
    fn one_is_singular() {
        assert_eq!(duration(60), "1 minute");
        assert_eq!(duration(86_400 * 30 * 13), "13 months");
    }
}
