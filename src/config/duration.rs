//! Prometheus durations (`1h30m`, `15s`, `500ms`, `2w`) and byte sizes (`15MB`).

use std::time::Duration;

/// Parses a Prometheus duration: one or more `<number><unit>` with units
/// y, w, d, h, m, s, ms in that order, each at most once (`0` alone is allowed).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let ms = promql::duration::parse_duration(s)?;
    Ok(Duration::from_millis(ms as u64))
}

/// Formats a duration as Prometheus prints it (`1m30s`, `15s`, `0s`).
pub fn format_duration(d: Duration) -> String {
    promql::duration::format_duration(d.as_millis() as i64)
}

/// Parses a byte size with Prometheus's units (B, KB, MB, GB, TB, PB, EB; powers of 1024).
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    if s == "0" {
        return Ok(0);
    }
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let n: u64 = s[..digits].parse().map_err(|_| format!("invalid size {s:?}"))?;
    let mult: u64 = match &s[digits..] {
        "B" => 1,
        "KB" | "KiB" => 1 << 10,
        "MB" | "MiB" => 1 << 20,
        "GB" | "GiB" => 1 << 30,
        "TB" | "TiB" => 1 << 40,
        "PB" | "PiB" => 1 << 50,
        "EB" | "EiB" => 1 << 60,
        unit => return Err(format!("invalid size {s:?}: unknown unit {unit:?} (use B, KB, MB, GB …)")),
    };
    n.checked_mul(mult).ok_or_else(|| format!("size out of range: {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15s").unwrap(), Duration::from_secs(15));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("1m500ms").unwrap(), Duration::from_millis(60_500));
        assert_eq!(parse_duration("2w").unwrap(), Duration::from_secs(14 * 86400));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        for bad in ["", "1", "s", "1x", "30m1h", "1.5s", "-1s", "1s1s", "99999999999999999999y"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1s500ms");
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("15MB").unwrap(), 15 << 20);
        assert!(parse_bytes("100").is_err(), "a unit is required, as in Prometheus");
        assert_eq!(parse_bytes("0").unwrap(), 0);
        assert!(parse_bytes("10XB").is_err());
        assert!(parse_bytes("MB").is_err());
    }
}
