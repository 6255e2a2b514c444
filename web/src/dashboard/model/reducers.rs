//! Grafana's reducers (calculations) over a series' values: what legends,
//! stat panels and the `byValue` override matcher compute.

/// A legend column's title, as Grafana names the reducers.
pub fn calc_title(c: &str) -> &str {
    match c {
        "lastNotNull" | "last" | "current" => "Last",
        "mean" | "avg" => "Mean",
        "max" => "Max",
        "min" => "Min",
        "sum" | "total" => "Total",
        "first" | "firstNotNull" => "First",
        "count" => "Count",
        "range" => "Range",
        "diff" | "delta" => "Delta",
        other => other,
    }
}

/// A series reduced as Grafana's reducer `how` reduces it (NaN and
/// infinities left out; `None` when nothing is left); an unknown reducer
/// is `lastNotNull`.
pub fn reduce(points: &[(i64, f64)], how: &str) -> Option<f64> {
    let vals: Vec<f64> = points.iter().map(|p| p.1).filter(|v| v.is_finite()).collect();
    let v = match how {
        "mean" | "avg" => vals.iter().sum::<f64>() / vals.len().max(1) as f64,
        "max" => vals.iter().copied().fold(f64::NAN, f64::max),
        "min" => vals.iter().copied().fold(f64::NAN, f64::min),
        "sum" | "total" => vals.iter().sum(),
        "first" | "firstNotNull" => *vals.first()?,
        "count" => vals.len() as f64,
        "range" => vals.iter().copied().fold(f64::NAN, f64::max) - vals.iter().copied().fold(f64::NAN, f64::min),
        "diff" | "delta" => vals.last()? - vals.first()?,
        _ => *vals.last()?,
    };
    (!vals.is_empty()).then_some(v)
}
