//! The date functions (`year()`, `month()`, `day_of_month()`,
//! `day_of_week()`, `day_of_year()`, `days_in_month()`, `hour()`,
//! `minute()`) of a Unix time in seconds, in UTC.
//!
//! The calendar is the proleptic Gregorian one over the whole range of
//! `i64` seconds, as Go's `time` computes it for Prometheus; the
//! conversion is [`crate::duration::civil_from_days`] (no allocation, one
//! per sample).

use crate::duration::civil_from_days;

/// Whether `name` is one of the date functions.
pub(super) fn is_date_function(name: &str) -> bool {
    matches!(
        name,
        "days_in_month" | "day_of_month" | "day_of_week" | "day_of_year" | "hour" | "minute" | "month" | "year"
    )
}

/// A Unix time's calendar fields in UTC.
struct CivilTime {
    year: i64,
    /// 1..=12
    month: i64,
    /// 1..=31
    day: i64,
    hour: i64,
    minute: i64,
    /// Days since 1970-01-01.
    days: i64,
}

impl CivilTime {
    fn from_unix_seconds(secs: i64) -> Self {
        let days = secs.div_euclid(86_400);
        let second_of_day = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        CivilTime { year, month, day, hour: second_of_day / 3600, minute: second_of_day % 3600 / 60, days }
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// The date function `part` of `v` seconds since the epoch (NaN for a
/// value that is not a finite time).
pub(super) fn date_part(part: &str, v: f64) -> f64 {
    if !v.is_finite() {
        return f64::NAN;
    }
    let c = CivilTime::from_unix_seconds(v.floor() as i64);
    match part {
        "year" => c.year as f64,
        "month" => c.month as f64,
        "day_of_month" => c.day as f64,
        "hour" => c.hour as f64,
        "minute" => c.minute as f64,
        "day_of_week" => (c.days + 4).rem_euclid(7) as f64,
        "day_of_year" => {
            let cum = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
            (cum[(c.month - 1) as usize] + c.day + if c.month > 2 && is_leap(c.year) { 1 } else { 0 }) as f64
        }
        "days_in_month" => match c.month {
            2 if is_leap(c.year) => 29.0,
            2 => 28.0,
            4 | 6 | 9 | 11 => 30.0,
            _ => 31.0,
        },
        _ => f64::NAN,
    }
}
