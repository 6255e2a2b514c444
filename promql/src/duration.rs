//! Prometheus's duration notation (`1h30m`, `15s`, `500ms`, `2w`), shared by
//! the config, the HTTP API and the engine, and the civil date of a day
//! number that PromQL's date functions use.

/// Units, longest first where they share a prefix, with their milliseconds.
pub(crate) const UNITS: [(&str, i64); 7] = [
    ("ms", 1),
    ("s", 1000),
    ("m", 60_000),
    ("h", 3_600_000),
    ("d", 86_400_000),
    ("w", 604_800_000),
    ("y", 31_536_000_000),
];

/// Canonical order; each unit at most once, larger first.
const ORDER: [&str; 7] = ["y", "w", "d", "h", "m", "s", "ms"];

/// Position of a unit in the canonical order (larger units first).
pub(crate) fn unit_rank(u: &str) -> usize {
    ORDER.iter().position(|o| *o == u).unwrap_or(0)
}

/// The (year, month, day) of a day number since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parses one or more `<digits><unit>` groups (or `0` alone) into milliseconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err("empty duration string".into());
    }
    let bad = || format!("not a valid duration string: {s:?}");
    let mut rest = s;
    let mut total: i64 = 0;
    let mut last_rank: Option<usize> = None;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let n: i64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let (unit, mult) = UNITS.iter().find(|(u, _)| rest.starts_with(u)).ok_or_else(bad)?;
        let rank = ORDER.iter().position(|o| o == unit).unwrap_or(0);
        if last_rank.is_some_and(|r| r >= rank) {
            return Err(bad());
        }
        last_rank = Some(rank);
        rest = &rest[unit.len()..];
        total = n
            .checked_mul(*mult)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("duration out of range: {s:?}"))?;
    }
    Ok(total)
}

/// Formats milliseconds as Prometheus prints durations (`1m30s`, `15s`, `0s`;
/// years and weeks only when exact, as `90d`).
pub fn format_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut rest = ms.unsigned_abs();
    let mut out = if ms < 0 { String::from("-") } else { String::new() };
    for unit in ORDER {
        let mult = UNITS.iter().find(|(u, _)| *u == unit).map_or(1, |(_, m)| *m as u64);
        // Years and weeks only when they divide what is left: `90d`, not `12w6d`.
        if matches!(unit, "y" | "w") && !rest.is_multiple_of(mult) {
            continue;
        }
        if rest >= mult {
            out.push_str(&format!("{}{unit}", rest / mult));
            rest %= mult;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_format() {
        assert_eq!(parse_duration("15s"), Ok(15_000));
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration("1m500ms"), Ok(60_500));
        assert_eq!(parse_duration("0"), Ok(0));
        for bad in ["", "1", "s", "1x", "30m1h", "1.5s", "-1s", "1s1s", "99999999999999999999y"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(format_duration(90_000), "1m30s");
        assert_eq!(format_duration(1_500), "1s500ms");
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(90 * 86_400_000), "90d");
        assert_eq!(format_duration(14 * 86_400_000), "2w");
        assert_eq!(format_duration(365 * 86_400_000 + 3_600_000), "365d1h");
    }
}
