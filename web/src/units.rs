//! Values formatted as Grafana formats them for a unit id (`bytes`,
//! `percentunit`, `s`, `reqps`, …): scaled to the best prefix, with about
//! three significant digits unless `decimals` is given.

/// How a unit scales a value.
enum Scale {
    /// No scaling; a suffix (may be empty).
    Fixed(&'static str),
    /// Steps of `base` with these suffixes, the first for the value as it is.
    Steps { base: f64, suffixes: &'static [&'static str] },
    /// Durations, the value given in the named unit.
    Time { seconds_per_unit: f64 },
    /// ×100 and a `%`.
    PercentUnit,
    /// Grafana's `short`: ×1000 steps with " K", " Mil", " Bil", " Tri".
    Short,
}

const IEC_BYTES: &[&str] = &[" B", " KiB", " MiB", " GiB", " TiB", " PiB", " EiB"];
const SI_BYTES: &[&str] = &[" B", " kB", " MB", " GB", " TB", " PB", " EB"];
const IEC_BITS: &[&str] = &[" b", " Kib", " Mib", " Gib", " Tib", " Pib"];
const SI_BITS: &[&str] = &[" b", " kb", " Mb", " Gb", " Tb", " Pb"];

fn scale_of(unit: &str) -> Scale {
    let si = |suffix: &'static str| -> Scale {
        // A count per second and the like: SI prefixes before the suffix.
        let suffixes: &'static [&'static str] = match suffix {
            " req/s" => &[" req/s", "K req/s", "M req/s", "G req/s", "T req/s"],
            " ops/s" => &[" ops/s", "K ops/s", "M ops/s", "G ops/s", "T ops/s"],
            " p/s" => &[" p/s", "K p/s", "M p/s", "G p/s", "T p/s"],
            " io/s" => &[" io/s", "K io/s", "M io/s", "G io/s", "T io/s"],
            " wps" => &[" wps", "K wps", "M wps", "G wps", "T wps"],
            " rpm" => &[" rpm", "K rpm", "M rpm", "G rpm", "T rpm"],
            " Hz" => &[" Hz", " kHz", " MHz", " GHz", " THz"],
            " V" => &[" V", " kV", " MV", " GV"],
            " W" => &[" W", " kW", " MW", " GW"],
            _ => &[""],
        };
        Scale::Steps { base: 1000.0, suffixes }
    };
    match unit {
        "bytes" => Scale::Steps { base: 1024.0, suffixes: IEC_BYTES },
        "decbytes" => Scale::Steps { base: 1000.0, suffixes: SI_BYTES },
        "kbytes" => Scale::Steps { base: 1024.0, suffixes: &IEC_BYTES[1..] },
        "mbytes" => Scale::Steps { base: 1024.0, suffixes: &IEC_BYTES[2..] },
        "gbytes" => Scale::Steps { base: 1024.0, suffixes: &IEC_BYTES[3..] },
        "deckbytes" => Scale::Steps { base: 1000.0, suffixes: &SI_BYTES[1..] },
        "decmbytes" => Scale::Steps { base: 1000.0, suffixes: &SI_BYTES[2..] },
        "decgbytes" => Scale::Steps { base: 1000.0, suffixes: &SI_BYTES[3..] },
        "bits" => Scale::Steps { base: 1024.0, suffixes: IEC_BITS },
        "decbits" => Scale::Steps { base: 1000.0, suffixes: SI_BITS },
        "Bps" => Scale::Steps { base: 1000.0, suffixes: &[" B/s", " kB/s", " MB/s", " GB/s", " TB/s"] },
        "binBps" => Scale::Steps { base: 1024.0, suffixes: &[" B/s", " KiB/s", " MiB/s", " GiB/s", " TiB/s"] },
        "bps" => Scale::Steps { base: 1000.0, suffixes: &[" b/s", " kb/s", " Mb/s", " Gb/s", " Tb/s"] },
        "binbps" => Scale::Steps { base: 1024.0, suffixes: &[" b/s", " Kib/s", " Mib/s", " Gib/s", " Tib/s"] },
        "reqps" | "rps" => si(" req/s"),
        "ops" | "opm" => si(" ops/s"),
        "pps" => si(" p/s"),
        "iops" => si(" io/s"),
        "wps" => si(" wps"),
        "rotrpm" => si(" rpm"),
        "hertz" => si(" Hz"),
        "volt" => si(" V"),
        "watt" => si(" W"),
        "ns" => Scale::Time { seconds_per_unit: 1e-9 },
        "µs" | "us" => Scale::Time { seconds_per_unit: 1e-6 },
        "ms" => Scale::Time { seconds_per_unit: 1e-3 },
        "s" => Scale::Time { seconds_per_unit: 1.0 },
        "m" => Scale::Time { seconds_per_unit: 60.0 },
        "h" => Scale::Time { seconds_per_unit: 3600.0 },
        "d" => Scale::Time { seconds_per_unit: 86400.0 },
        "percent" => Scale::Fixed("%"),
        "percentunit" => Scale::PercentUnit,
        "celsius" => Scale::Fixed("°C"),
        "fahrenheit" => Scale::Fixed("°F"),
        "short" | "" => Scale::Short,
        _ => Scale::Fixed(""),
    }
}

/// Digits after the point for about three significant digits of `v`.
fn auto_decimals(v: f64) -> usize {
    let a = v.abs();
    if a == 0.0 || a >= 100.0 {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        // 0.0123 → 4: three significant digits below one.
        ((-a.log10()).floor() as usize + 3).min(12)
    }
}

fn number(v: f64, decimals: Option<usize>) -> String {
    let d = decimals.unwrap_or_else(|| auto_decimals(v));
    let s = format!("{v:.d$}");
    if decimals.is_none() && s.contains('.') {
        // Auto decimals drop trailing zeros (Grafana shows 1.5, not 1.50).
        return s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    s
}

/// `v` in `unit`, as Grafana would show it; `decimals` fixes the digits
/// after the point. Non-finite values read `NaN`, `+Inf`, `-Inf`.
pub fn format(v: f64, unit: &str, decimals: Option<usize>) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    match scale_of(unit) {
        Scale::Fixed(suffix) => format!("{}{suffix}", number(v, decimals)),
        Scale::PercentUnit => format!("{}%", number(v * 100.0, decimals)),
        Scale::Short => {
            let suffixes = ["", " K", " Mil", " Bil", " Tri", " Quadr"];
            let (mut x, mut i) = (v, 0);
            while x.abs() >= 1000.0 && i + 1 < suffixes.len() {
                x /= 1000.0;
                i += 1;
            }
            format!("{}{}", number(x, decimals), suffixes[i])
        }
        Scale::Steps { base, suffixes } => {
            let (mut x, mut i) = (v, 0);
            while x.abs() >= base && i + 1 < suffixes.len() {
                x /= base;
                i += 1;
            }
            format!("{}{}", number(x, decimals), suffixes[i])
        }
        Scale::Time { seconds_per_unit } => {
            let s = v * seconds_per_unit;
            let a = s.abs();
            let (x, suffix) = if a == 0.0 {
                (
                    v,
                    match unit {
                        "ns" => " ns",
                        "µs" | "us" => " µs",
                        "ms" => " ms",
                        "s" => " s",
                        "m" => " min",
                        "h" => " hour",
                        _ => " day",
                    },
                )
            } else if a < 1e-6 {
                (s * 1e9, " ns")
            } else if a < 1e-3 {
                (s * 1e6, " µs")
            } else if a < 1.0 {
                (s * 1e3, " ms")
            } else if a < 60.0 {
                (s, " s")
            } else if a < 3600.0 {
                (s / 60.0, " min")
            } else if a < 86400.0 {
                (s / 3600.0, " hour")
            } else if a < 86400.0 * 365.0 {
                (s / 86400.0, " day")
            } else {
                (s / (86400.0 * 365.0), " year")
            };
            format!("{}{suffix}", number(x, decimals))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::format;

    #[test]
    fn units_scale_as_grafana_shows_them() {
        for (v, unit, dec, want) in [
            (1536.0, "bytes", None, "1.5 KiB"),
            (1536.0, "decbytes", None, "1.54 kB"),
            (5.0 * 1024.0 * 1024.0 * 1024.0, "bytes", None, "5 GiB"),
            (512.0, "bytes", None, "512 B"),
            (2048.0, "kbytes", None, "2 MiB"),
            (1e6, "bits", None, "977 Kib"),
            (1_500_000.0, "bps", None, "1.5 Mb/s"),
            (0.25, "s", None, "250 ms"),
            (90.0, "s", None, "1.5 min"),
            (0.000_012, "s", None, "12 µs"),
            (1500.0, "ms", None, "1.5 s"),
            (42.0, "percent", None, "42%"),
            (0.4234, "percentunit", None, "42.3%"),
            (0.5, "percentunit", Some(2), "50.00%"),
            (1234.0, "short", None, "1.23 K"),
            (12_345_678.0, "short", None, "12.3 Mil"),
            (3.0, "reqps", None, "3 req/s"),
            (2500.0, "ops", None, "2.5K ops/s"),
            (0.0123, "none", None, "0.0123"),
            (f64::NAN, "bytes", None, "NaN"),
            (-2048.0, "bytes", None, "-2 KiB"),
            (7.0, "unknown-unit", Some(1), "7.0"),
        ] {
            assert_eq!(format(v, unit, dec), want, "{v} {unit}");
        }
    }
}
