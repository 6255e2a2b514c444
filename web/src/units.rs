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
    /// Grafana's `simpleCountUnit`: ×1000 steps with K, M, B, T, then a
    /// space and the unit's id (`2.5K reqps`).
    Count(&'static str),
}

/// A throughput unit's id as a static string (Grafana writes the id itself after the value).
fn unit_id(unit: &str) -> &'static str {
    ["cps", "ops", "reqps", "rps", "wps", "iops", "cpm", "opm", "rpm", "wpm"]
        .into_iter()
        .find(|u| *u == unit)
        .unwrap_or("")
}

const IEC_BYTES: &[&str] = &[" B", " KiB", " MiB", " GiB", " TiB", " PiB", " EiB"];
const SI_BYTES: &[&str] = &[" B", " kB", " MB", " GB", " TB", " PB", " EB"];
const IEC_BITS: &[&str] = &[" b", " Kib", " Mib", " Gib", " Tib", " Pib"];
const SI_BITS: &[&str] = &[" b", " kb", " Mb", " Gb", " Tb", " Pb"];

fn scale_of(unit: &str) -> Scale {
    let si = |suffixes: &'static [&'static str]| Scale::Steps { base: 1000.0, suffixes };
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
        // Grafana's throughput units: counts scaled by K, M, B, T, then the unit's own id.
        "cps" | "ops" | "reqps" | "rps" | "wps" | "iops" | "cpm" | "opm" | "rpm" | "wpm" => Scale::Count(unit_id(unit)),
        "pps" => si(&[" p/s", " kp/s", " Mp/s", " Gp/s", " Tp/s"]),
        "rotrpm" => Scale::Fixed(" rpm"),
        "hertz" => si(&[" Hz", " kHz", " MHz", " GHz", " THz"]),
        "volt" => si(&[" V", " kV", " MV", " GV"]),
        "watt" => si(&[" W", " kW", " MW", " GW"]),
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
    // Negative zero (a zero drawn below the axis) reads 0, as JavaScript writes it.
    let v = if v == 0.0 { 0.0 } else { v };
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
        Scale::Count(id) => {
            let prefixes = ["", "K", "M", "B", "T"];
            let (mut x, mut i) = (v, 0);
            while x.abs() >= 1000.0 && i + 1 < prefixes.len() {
                x /= 1000.0;
                i += 1;
            }
            format!("{}{} {id}", number(x, decimals), prefixes[i])
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
            (3.0, "reqps", None, "3 reqps"),
            (2500.0, "ops", None, "2.5K ops"),
            (3.0, "rps", None, "3 rps"),
            (4_200_000.0, "iops", None, "4.2M iops"),
            (2500.0, "pps", None, "2.5 kp/s"),
            (2500.0, "rotrpm", None, "2500 rpm"),
            (0.0123, "none", None, "0.0123"),
            (f64::NAN, "bytes", None, "NaN"),
            (-2048.0, "bytes", None, "-2 KiB"),
            (-0.0, "bytes", None, "0 B"),
            (-0.0, "none", Some(1), "0.0"),
            (7.0, "unknown-unit", Some(1), "7.0"),
        ] {
            assert_eq!(format(v, unit, dec), want, "{v} {unit}");
        }
    }
}
