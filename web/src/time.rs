//! Times as the Prometheus API reads and writes them: Unix seconds with a
//! fraction, or RFC 3339; durations in seconds or Prometheus notation.

use promql::duration::{civil_from_days, days_from_civil};

/// Parses an API time parameter into milliseconds since the epoch.
pub fn parse_time(s: &str) -> Result<i64, String> {
    let bad = || format!("cannot parse {s:?} to a valid timestamp");
    if let Ok(f) = s.parse::<f64>() {
        if !f.is_finite() || f.abs() > 9.2e15 {
            return Err(bad());
        }
        return Ok((f * 1000.0).round() as i64);
    }
    parse_rfc3339(s).ok_or_else(bad)
}

/// Parses an API duration parameter (`15`, `1.5`, `5m`, `1h30m`) into milliseconds.
pub fn parse_duration_param(s: &str) -> Result<i64, String> {
    if let Ok(f) = s.parse::<f64>() {
        if !f.is_finite() || f.abs() > 9.2e15 {
            return Err(format!("cannot parse {s:?} to a valid duration"));
        }
        return Ok((f * 1000.0).round() as i64);
    }
    promql::duration::parse_duration(s).map_err(|_| format!("cannot parse {s:?} to a valid duration"))
}

fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b't' || b[10] == b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, se) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut i = 19;
    let mut ms = 0i64;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let frac = s.get(start..i)?;
        if frac.is_empty() {
            return None;
        }
        let padded: String = frac.chars().chain(std::iter::repeat('0')).take(3).collect();
        ms = padded.parse().ok()?;
    }
    let offset_min = match s.get(i..)? {
        "Z" | "z" => 0,
        tz if tz.len() == 6 && (tz.starts_with('+') || tz.starts_with('-')) && &tz[3..4] == ":" => {
            let sign = if tz.starts_with('-') { -1 } else { 1 };
            sign * (tz[1..3].parse::<i64>().ok()? * 60 + tz[4..6].parse::<i64>().ok()?)
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    Some(((days * 86_400 + h * 3600 + mi * 60 + se - offset_min * 60) * 1000) + ms)
}

/// Formats milliseconds since the epoch as RFC 3339 in UTC with milliseconds.
pub fn format_rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", sod / 3600, sod % 3600 / 60, sod % 60, ms.rem_euclid(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_and_rfc3339() {
        assert_eq!(parse_time("1435781451.781").unwrap(), 1_435_781_451_781);
        assert_eq!(parse_time("2015-07-01T20:10:51.781Z").unwrap(), 1_435_781_451_781);
        assert_eq!(parse_time("2015-07-01T22:10:51.781+02:00").unwrap(), 1_435_781_451_781);
        assert_eq!(parse_time("1970-01-01T00:00:00Z").unwrap(), 0);
        for bad in ["", "abc", "2015-13-01T00:00:00Z", "2015-07-01", "NaN", "Inf"] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
        assert_eq!(format_rfc3339(1_435_781_451_781), "2015-07-01T20:10:51.781Z");
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_param("15").unwrap(), 15_000);
        assert_eq!(parse_duration_param("0.5").unwrap(), 500);
        assert_eq!(parse_duration_param("1m30s").unwrap(), 90_000);
        assert!(parse_duration_param("5x").is_err());
        assert!(parse_duration_param("").is_err());
    }
}
