//! Grafana's relative times (its "date math"), in UTC: `now`, then any
//! number of `+N<unit>`/`-N<unit>` steps in calendar units (`y`, `M`, `w`,
//! `d`, `h`, `m`, `s`), then optionally `/<unit>`: rounded to the start of
//! that unit for a range's start, to its end for a range's end (so
//! `now-1d/d` to `now-1d/d` is all of yesterday). Weeks start on Sunday, as
//! Grafana's default (English) locale has them. Also epoch milliseconds and
//! RFC 3339 times. And the quick ranges of Grafana's time picker.

use jiff::civil::{DateTime, Weekday};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};

/// `s` as a time (ms), `now` being now; `end` rounds up (a range's end).
pub fn parse(s: &str, now: i64, end: bool) -> Option<i64> {
    let s = s.trim();
    let Some(mut rest) = s.strip_prefix("now") else {
        return s.parse::<i64>().ok().or_else(|| crate::time::parse_time(s).ok());
    };
    let mut t = TimeZone::UTC.to_datetime(Timestamp::from_millisecond(now).ok()?);
    while !rest.is_empty() {
        let (op, after) = rest.split_at(1);
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let n: i64 = if digits == 0 { 1 } else { after[..digits].parse().ok()? };
        let unit = after[digits..].chars().next()?;
        rest = &after[digits + unit.len_utf8()..];
        t = match op {
            "+" => t.checked_add(span(n, unit)?).ok()?,
            "-" => t.checked_sub(span(n, unit)?).ok()?,
            "/" if digits == 0 => round(&t, unit, end)?,
            _ => return None,
        };
    }
    Some(TimeZone::UTC.to_timestamp(t).ok()?.as_millisecond())
}

/// `n` calendar units (`None` past what a calendar holds).
fn span(n: i64, unit: char) -> Option<Span> {
    let s = Span::new();
    match unit {
        'y' => s.try_years(n),
        'M' => s.try_months(n),
        'w' => s.try_weeks(n),
        'd' => s.try_days(n),
        'h' => s.try_hours(n),
        'm' => s.try_minutes(n),
        's' => s.try_seconds(n),
        _ => return None,
    }
    .ok()
}

/// The start of `t`'s `unit`, or (for a range's end) its last millisecond.
fn round(t: &DateTime, unit: char, end: bool) -> Option<DateTime> {
    let day = t.start_of_day();
    let start = match unit {
        'y' => day.first_of_year(),
        'M' => day.first_of_month(),
        'w' => {
            let back = i64::from(day.weekday().since(Weekday::Sunday));
            day.checked_sub(span(back, 'd')?).ok()?
        }
        'd' => day,
        'h' => day.with().hour(t.hour()).build().ok()?,
        'm' => day.with().hour(t.hour()).minute(t.minute()).build().ok()?,
        's' => day.with().hour(t.hour()).minute(t.minute()).second(t.second()).build().ok()?,
        _ => return None,
    };
    if !end {
        return Some(start);
    }
    start.checked_add(span(1, unit)?).ok()?.checked_sub(Span::new().milliseconds(1)).ok()
}

/// Grafana's quick ranges (from, to, name), the relative ones first.
pub const QUICK_RANGES: [(&str, &str, &str); 28] = [
    ("now-5m", "now", "Last 5 minutes"),
    ("now-15m", "now", "Last 15 minutes"),
    ("now-30m", "now", "Last 30 minutes"),
    ("now-1h", "now", "Last 1 hour"),
    ("now-3h", "now", "Last 3 hours"),
    ("now-6h", "now", "Last 6 hours"),
    ("now-12h", "now", "Last 12 hours"),
    ("now-24h", "now", "Last 24 hours"),
    ("now-2d", "now", "Last 2 days"),
    ("now-7d", "now", "Last 7 days"),
    ("now-30d", "now", "Last 30 days"),
    ("now-90d", "now", "Last 90 days"),
    ("now-6M", "now", "Last 6 months"),
    ("now-1y", "now", "Last 1 year"),
    ("now-2y", "now", "Last 2 years"),
    ("now-5y", "now", "Last 5 years"),
    ("now-1d/d", "now-1d/d", "Yesterday"),
    ("now-2d/d", "now-2d/d", "Day before yesterday"),
    ("now-7d/d", "now-7d/d", "This day last week"),
    ("now-1w/w", "now-1w/w", "Previous week"),
    ("now-1M/M", "now-1M/M", "Previous month"),
    ("now-1y/y", "now-1y/y", "Previous year"),
    ("now/d", "now/d", "Today"),
    ("now/d", "now", "Today so far"),
    ("now/w", "now/w", "This week"),
    ("now/w", "now", "This week so far"),
    ("now/M", "now/M", "This month"),
    ("now/y", "now/y", "This year"),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-04T15:30:45.500Z, a Friday.
    const NOW: i64 = 1_796_398_245_500;

    fn at(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn relative_times_step_in_calendar_units_and_round_to_a_units_start_or_end() {
        assert_eq!(parse("now", NOW, false), Some(NOW));
        assert_eq!(parse("now-6h", NOW, false), Some(NOW - 6 * 3_600_000));
        assert_eq!(parse("now-1M", NOW, false), Some(at("2026-11-04T15:30:45.5Z")), "a month back, not 30 days");
        assert_eq!(parse("now/d", NOW, false), Some(at("2026-12-04T00:00:00Z")));
        assert_eq!(parse("now/d", NOW, true), Some(at("2026-12-04T23:59:59.999Z")));
        // Yesterday, whole.
        assert_eq!(parse("now-1d/d", NOW, false), Some(at("2026-12-03T00:00:00Z")));
        assert_eq!(parse("now-1d/d", NOW, true), Some(at("2026-12-03T23:59:59.999Z")));
        // Weeks start on Sunday; the previous month and year.
        assert_eq!(parse("now/w", NOW, false), Some(at("2026-11-29T00:00:00Z")));
        assert_eq!(parse("now-1M/M", NOW, false), Some(at("2026-11-01T00:00:00Z")));
        assert_eq!(parse("now-1M/M", NOW, true), Some(at("2026-11-30T23:59:59.999Z")));
        assert_eq!(parse("now-1y/y", NOW, true), Some(at("2025-12-31T23:59:59.999Z")));
        assert_eq!(parse("now/h", NOW, false), Some(at("2026-12-04T15:00:00Z")));
        assert_eq!(parse("now-1d-2h", NOW, false), Some(NOW - 26 * 3_600_000), "steps add up");
        assert_eq!(parse("1700000000000", NOW, false), Some(1_700_000_000_000));
        assert_eq!(parse("2026-12-01T00:00:00Z", NOW, false), Some(at("2026-12-01T00:00:00Z")));
        for bad in ["later", "now-", "now-5x", "now/5d", "now*2", "now-99999999999y"] {
            assert_eq!(parse(bad, NOW, false), None, "{bad}");
        }
    }

    #[test]
    fn no_text_makes_it_panic() {
        // Every combination of the grammar's pieces, up to four long, and some extremes.
        let pieces = ["now", "-", "+", "/", "9", "99999999999999999999", "y", "M", "w", "d", "h", "m", "s", "x", " "];
        let mut texts = vec![String::new()];
        for _ in 0..4 {
            texts = texts.iter().flat_map(|t| pieces.iter().map(move |p| format!("{t}{p}"))).collect();
            for t in &texts {
                for end in [false, true] {
                    let _ = parse(t, NOW, end);
                    let _ = parse(t, i64::MAX, end);
                    let _ = parse(&format!("now{t}"), i64::MIN, end);
                }
            }
        }
    }

    #[test]
    fn every_quick_range_parses_and_runs_forward() {
        for (from, to, name) in QUICK_RANGES {
            let (f, t) = (parse(from, NOW, false).unwrap(), parse(to, NOW, true).unwrap());
            assert!(f < t && t <= parse("now/y", NOW, true).unwrap(), "{name}: {f} {t}");
        }
    }
}
