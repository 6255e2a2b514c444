//! Grafana's reducers (calculations) over a series' values, as its
//! `fieldReducer.ts` computes them: what legends, stat panels and the
//! `byValue` override matcher show. A NaN (a stale or missing point) is
//! Grafana's null: counted by `count`, skipped by the others.

/// A legend column's title: the reducer's name in Grafana (`Last *` is the
/// last value that is not null).
pub fn calc_title(c: &str) -> String {
    let name = match c {
        "lastNotNull" | "current" => "Last *",
        "last" => "Last",
        "firstNotNull" => "First *",
        "first" => "First",
        "min" => "Min",
        "max" => "Max",
        "mean" | "avg" => "Mean",
        "median" => "Median",
        "variance" => "Variance",
        "stdDev" => "StdDev",
        "sum" | "total" => "Total",
        "count" => "Count",
        "range" => "Range",
        "delta" => "Delta",
        "step" => "Step",
        "diff" => "Difference",
        "diffperc" => "Difference percent",
        "logmin" => "Min (above zero)",
        "allIsZero" => "All Zeros",
        "allIsNull" => "All Nulls",
        "changeCount" => "Change Count",
        "distinctCount" => "Distinct Count",
        other => {
            return match percentile(other) {
                Some(p) => {
                    let th = match p {
                        4..=20 => "th",
                        _ if p % 10 == 1 => "st",
                        _ if p % 10 == 2 => "nd",
                        _ if p % 10 == 3 => "rd",
                        _ => "th",
                    };
                    format!("{p}{th} %")
                }
                None => other.to_string(),
            }
        }
    };
    name.to_string()
}

/// `p1` … `p99`: the percentile asked for.
fn percentile(id: &str) -> Option<u32> {
    id.strip_prefix('p').and_then(|n| n.parse().ok()).filter(|n| (1..=99).contains(n))
}

/// A series reduced as Grafana's reducer `how` reduces it; `None` where
/// Grafana has null (no value to reduce). An unknown reducer is `lastNotNull`.
pub fn reduce(points: &[(i64, f64)], how: &str) -> Option<f64> {
    let vals: Vec<f64> = points.iter().map(|p| p.1).filter(|v| !v.is_nan()).collect();
    let first = vals.first().copied();
    let last = vals.last().copied();
    let max = vals.iter().copied().reduce(f64::max);
    let min = vals.iter().copied().reduce(f64::min);
    let sorted = || {
        let mut s = vals.clone();
        s.sort_by(f64::total_cmp);
        s
    };
    match how {
        "last" => points.last().map(|p| p.1).filter(|v| !v.is_nan()),
        "first" => points.first().map(|p| p.1).filter(|v| !v.is_nan()),
        "firstNotNull" => first,
        "min" => min,
        "max" => max,
        "mean" | "avg" => (!vals.is_empty()).then(|| vals.iter().sum::<f64>() / vals.len() as f64),
        "sum" | "total" => Some(vals.iter().sum()),
        "count" => Some(points.len() as f64),
        "range" => Some(max? - min?),
        "diff" => Some(last? - first?),
        "diffperc" => Some((last? - first?) / first? * 100.0),
        "delta" => Some(delta(&vals)),
        "step" => vals.windows(2).map(|w| w[1] - w[0]).reduce(f64::min),
        "logmin" => vals.iter().copied().filter(|v| *v > 0.0).reduce(f64::min),
        "allIsZero" => Some(f64::from(u8::from(!vals.is_empty() && vals.iter().all(|v| *v == 0.0)))),
        "allIsNull" => Some(f64::from(u8::from(vals.is_empty()))),
        "changeCount" => Some(points.windows(2).filter(|w| w[0].1.to_bits() != w[1].1.to_bits()).count() as f64),
        "distinctCount" => {
            let mut bits: Vec<u64> = points.iter().map(|p| p.1.to_bits()).collect();
            bits.sort_unstable();
            bits.dedup();
            Some(bits.len() as f64)
        }
        "variance" | "stdDev" => {
            // Welford's running variance over the values, divided by their count.
            let (mut mean, mut square_sum) = (0.0, 0.0);
            for (k, v) in vals.iter().enumerate() {
                let old = mean;
                mean += (v - old) / (k + 1) as f64;
                square_sum += (v - old) * (v - mean);
            }
            let variance = if vals.is_empty() { 0.0 } else { square_sum / vals.len() as f64 };
            Some(if how == "stdDev" { variance.sqrt() } else { variance })
        }
        "median" => {
            let s = sorted();
            let mid = s.len() / 2;
            match s.len() {
                0 => None,
                n if n % 2 == 0 => Some((s[mid - 1] + s[mid]) / 2.0),
                _ => Some(s[mid]),
            }
        }
        other => match percentile(other) {
            Some(p) => {
                let s = sorted();
                // JavaScript's Math.round: halves round up.
                let k = ((s.len().checked_sub(1)? as f64) * f64::from(p) / 100.0 + 0.5).floor() as usize;
                s.get(k).copied()
            }
            None => last,
        },
    }
}

/// Grafana's `delta`: the sum of the increases between successive values,
/// where a drop (a counter reset) adds nothing, and neither does the rise
/// right after it.
fn delta(vals: &[f64]) -> f64 {
    let (mut total, mut previous_up) = (0.0, true);
    for w in vals.windows(2) {
        if w[0] > w[1] {
            previous_up = false;
        } else {
            if previous_up {
                total += w[1] - w[0];
            }
            previous_up = true;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(vals: &[f64]) -> Vec<(i64, f64)> {
        vals.iter().enumerate().map(|(i, v)| (i as i64 * 1000, *v)).collect()
    }

    #[test]
    fn reducers_compute_as_grafana_field_reducers_do() {
        let s = series(&[3.0, f64::NAN, 5.0, 1.0, 4.0, 4.0]);
        let r = |how| reduce(&s, how);
        assert_eq!(
            (r("last"), r("lastNotNull"), r("first"), r("firstNotNull")),
            (Some(4.0), Some(4.0), Some(3.0), Some(3.0))
        );
        assert_eq!((r("min"), r("max"), r("range"), r("sum")), (Some(1.0), Some(5.0), Some(4.0), Some(17.0)));
        assert_eq!((r("mean"), r("count"), r("diff")), (Some(3.4), Some(6.0), Some(1.0)));
        assert_eq!(r("diffperc").map(|v| (v * 1000.0).round() / 1000.0), Some(33.333));
        // 3→5 up 2, 5→1 a reset (nothing), 1→4 right after it (nothing), 4→4 up 0.
        assert_eq!(r("delta"), Some(2.0));
        assert_eq!(r("step"), Some(-4.0), "the smallest difference between successive values");
        assert_eq!((r("median"), r("p50"), r("p99"), r("p1")), (Some(4.0), Some(4.0), Some(5.0), Some(1.0)));
        assert_eq!((r("changeCount"), r("distinctCount")), (Some(4.0), Some(5.0)), "NaN counts as a value here");
        assert!((r("variance").unwrap() - 1.84).abs() < 1e-12, "{:?}", r("variance"));
        assert_eq!(reduce(&series(&[f64::NAN]), "allIsNull"), Some(1.0));
        assert_eq!(reduce(&series(&[0.0, 0.0]), "allIsZero"), Some(1.0));
        assert_eq!(reduce(&series(&[0.0, 2.0, 0.5]), "logmin"), Some(0.5));
        assert_eq!(reduce(&[], "sum"), Some(0.0), "an empty sum is 0, an empty mean is null");
        assert_eq!(reduce(&[], "mean"), None);
        assert_eq!(reduce(&series(&[1.0, f64::NAN]), "last"), None, "last is null when the last point is");
    }

    #[test]
    fn legend_columns_are_titled_with_grafana_s_reducer_names() {
        let titles: Vec<String> =
            ["lastNotNull", "last", "current", "avg", "total", "diff", "p95", "p1", "p22", "p13", "weird"]
                .iter()
                .map(|c| calc_title(c))
                .collect();
        assert_eq!(
            titles,
            ["Last *", "Last", "Last *", "Mean", "Total", "Difference", "95th %", "1st %", "22nd %", "13th %", "weird"]
        );
    }
}
