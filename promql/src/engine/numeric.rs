//! Float helpers the aggregations, the functions and the sliding windows
//! share: Kahan summation, quantiles, NaN-last ordering, Go's `%g`, and the
//! quantile warning.

use super::Ctx;
use crate::parser::Pos;

/// Kahan–Neumaier summation step, as Prometheus's `kahanSumInc`.
pub(crate) fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// Prometheus's quantile over plain values (linear interpolation).
pub(crate) fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    // NaNs sort last with total_cmp; Prometheus sorts them first (less than all).
    let nans = values.iter().filter(|v| v.is_nan()).count();
    values.rotate_right(nans);
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let w = rank - rank.floor();
    values[lower as usize] * (1.0 - w) + values[upper as usize] * w
}

/// Orders values ascending or descending with NaN last either way, as
/// Prometheus's topk, bottomk, sort and sort_desc place NaN.
pub(crate) fn nan_last(a: f64, b: f64, desc: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Equal,
        (true, false) => Greater,
        (false, true) => Less,
        _ if desc => b.partial_cmp(&a).unwrap_or(Equal),
        _ => a.partial_cmp(&b).unwrap_or(Equal),
    }
}

/// Prometheus's warning for a quantile outside [0, 1] (or NaN).
pub(crate) fn check_quantile(ctx: &Ctx, q: f64, pos: Pos) {
    if q.is_nan() || !(0.0..=1.0).contains(&q) {
        ctx.warn(format!("PromQL warning: quantile value should be between 0 and 1, got {} {pos}", format_go(q)));
    }
}

/// A float as Go's `%g` prints it for the values annotations show.
pub(crate) fn format_go(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v}")
    }
}
