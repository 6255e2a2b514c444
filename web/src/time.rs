//! Times as the Prometheus API reads and writes them: Unix seconds with a
//! fraction, or RFC 3339; durations in seconds or Prometheus notation.

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

/// RFC 3339 (`2015-07-01T20:10:51.781Z`, `…+02:00`), as Go's
/// `time.RFC3339Nano` reads it: a real calendar date and an offset required.
fn parse_rfc3339(s: &str) -> Option<i64> {
    let t: jiff::Timestamp = s.parse().ok()?;
    Some(t.as_millisecond())
}

/// Formats milliseconds since the epoch as RFC 3339 in UTC with
/// milliseconds; a time beyond the years 9999 (reachable only through a
/// Unix-seconds parameter) is written as its milliseconds.
pub fn format_rfc3339(ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        Err(_) => format!("{ms} ms since the epoch"),
    }
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
        for bad in [
            "",
            "abc",
            "2015-13-01T00:00:00Z",
            "2015-07-01",
            "NaN",
            "Inf",
            "2015-02-31T00:00:00Z",
            "2015-07-01T24:00:00Z",
            "2015-07-01T20:10:51",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
        assert_eq!(format_rfc3339(1_435_781_451_781), "2015-07-01T20:10:51.781Z");
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(parse_time("2016-02-29T12:00:00.5Z").unwrap(), 1_456_747_200_500);
        assert_eq!(parse_time("2015-07-01T20:10:51.781123456Z").unwrap(), 1_435_781_451_781);
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
