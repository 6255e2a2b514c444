//! The rate family: Prometheus's extrapolated `rate`, `increase` and
//! `delta`, the part of their extrapolation series scraped together share
//! ([`RateTimes`]), and the anchored and smoothed ranges' edges.

use crate::engine::Ctx;
use crate::parser::{Expr, Pos, VectorSelector};
use storage::Labels;

/// Prometheus's `extrapolatedRate`. `may_reset`: whether the window may hold
/// a counter reset (false only when the caller knows it holds none, which
/// spares the scan).
pub(crate) fn extrapolated_rate(
    points: &[(i64, f64)],
    range_start: i64,
    range_end: i64,
    range_ms: i64,
    counter: bool,
    rate: bool,
    may_reset: bool,
) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let first = points[0];
    let last = points[points.len() - 1];
    let mut result = last.1 - first.1;
    if counter && may_reset {
        let mut prev = first.1;
        for p in &points[1..] {
            if p.1 < prev {
                result += prev;
            }
            prev = p.1;
        }
    }
    let times = RateTimes::new(first.0, last.0, points.len(), range_start, range_end, range_ms, rate);
    Some(times.apply(result, first.1, counter))
}

/// The part of Prometheus's rate extrapolation that depends on the window
/// and its samples' times alone: series scraped together share it, so a
/// range query works it out once per step for all of them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RateTimes {
    sampled: f64,
    to_start: f64,
    to_end: f64,
    rate: bool,
    range_ms: i64,
    /// The factor when the start is not moved to the counter's zero.
    factor: f64,
}

impl RateTimes {
    /// For `n` (≥ 2) samples from `first_t` to `last_t` in `(range_start, range_end]`.
    pub(crate) fn new(
        first_t: i64,
        last_t: i64,
        n: usize,
        range_start: i64,
        range_end: i64,
        range_ms: i64,
        rate: bool,
    ) -> Self {
        let mut to_start = (first_t - range_start) as f64 / 1000.0;
        let mut to_end = (range_end - last_t) as f64 / 1000.0;
        let sampled = (last_t - first_t) as f64 / 1000.0;
        let avg = sampled / (n - 1) as f64;
        let threshold = avg * 1.1;
        if to_start >= threshold {
            to_start = avg / 2.0;
        }
        if to_end >= threshold {
            to_end = avg / 2.0;
        }
        let mut t = RateTimes { sampled, to_start, to_end, rate, range_ms, factor: 0.0 };
        t.factor = t.factor_from(to_start);
        t
    }

    fn factor_from(&self, to_start: f64) -> f64 {
        let mut factor = (self.sampled + to_start + self.to_end) / self.sampled;
        if self.rate {
            factor /= self.range_ms as f64 / 1000.0;
        }
        factor
    }

    /// The rate (or increase, or delta) of a window whose values rose by
    /// `result` from `first_v`: a counter's start is not extrapolated below zero.
    #[inline]
    pub(crate) fn apply(&self, result: f64, first_v: f64, counter: bool) -> f64 {
        if counter && result > 0.0 && first_v >= 0.0 {
            // Whether the counter's zero lies inside the extrapolated start,
            // decided without a division where the products leave no doubt
            // (a margin far above their rounding; normal numbers only), as
            // for a counter that started long before the window.
            let (lhs, rhs) = (first_v * self.sampled, self.to_start * result);
            if lhs.is_normal() && rhs.is_normal() && lhs > rhs * (1.0 + 1e-9) {
                return result * self.factor;
            }
            let to_zero = self.sampled * (first_v / result);
            if to_zero < self.to_start {
                return result * self.factor_from(to_zero);
            }
        }
        result * self.factor
    }
}

/// The selector of an anchored or smoothed range argument.
pub(crate) fn extended_selector(e: &Expr) -> Option<&VectorSelector> {
    match e {
        Expr::Paren(x) => extended_selector(x),
        Expr::MatrixSelector { vs, .. } if vs.anchored || vs.smoothed => Some(vs),
        _ => None,
    }
}

/// Go's `sort.Search(n, pred)` over the first `n` points: the first index
/// where `pred` holds, or `n`.
fn search(points: &[(i64, f64)], n: usize, pred: impl Fn(i64) -> bool) -> usize {
    points[..n].partition_point(|p| !pred(p.0))
}

/// The straight line between two samples at `t`; for counters, a fall
/// between them counts as a reset from zero.
fn interpolate(a: (i64, f64), b: (i64, f64), t: i64, counter: bool) -> f64 {
    let y1 = if counter && b.1 < a.1 { 0.0 } else { a.1 };
    y1 + (b.1 - y1) * (t - a.0) as f64 / (b.0 - a.0) as f64
}

/// The value at a range's start: the sample at or before it, or (smoothed)
/// the line through the samples on either side.
fn edge_left(p: &[(i64, f64)], first: usize, start: i64, smoothed: bool, counter: bool) -> f64 {
    if smoothed && p[first].0 < start {
        interpolate(p[first], p[first + 1], start, counter)
    } else {
        p[first].1
    }
}

/// The value at a range's end: the last sample, or (smoothed) the line
/// through the samples on either side.
fn edge_right(p: &[(i64, f64)], last: usize, end: i64, smoothed: bool, counter: bool) -> f64 {
    if smoothed && last > 0 && p[last].0 > end {
        interpolate(p[last - 1], p[last], end, counter)
    } else {
        p[last].1
    }
}

/// Prometheus's `extendedRate`: rate, increase or delta of an anchored or
/// smoothed range `(start, end]` from the samples `p` around it (the
/// lookback before, and for smoothed after).
pub(super) fn extended_rate(
    p: &[(i64, f64)],
    start: i64,
    end: i64,
    range: i64,
    smoothed: bool,
    counter: bool,
    rate: bool,
) -> Option<f64> {
    let (first, last) = edge_samples(p, start, end, smoothed)?;
    if smoothed && p[first].0 > end {
        return None;
    }
    let left = edge_left(p, first, start, smoothed, counter);
    let right = edge_right(p, last, end, smoothed, counter);
    let mut result = right - left;
    if counter {
        // Resets strictly inside: the edges handle their own.
        let mut prev = left;
        for x in inside(p, first, last, start, end) {
            if x.1 < prev {
                result += prev;
            }
            prev = x.1;
        }
        if right < prev {
            result += prev;
        }
    }
    if rate {
        result /= range as f64 / 1000.0;
    }
    Some(result)
}

/// Prometheus's `extendFloats`: an anchored or smoothed range as samples,
/// with one at its start and one at its end (picked or interpolated), and
/// the samples strictly between.
pub(crate) fn extend_floats(p: &[(i64, f64)], start: i64, end: i64, smoothed: bool) -> Vec<(i64, f64)> {
    let Some((first, last)) = edge_samples(p, start, end, smoothed) else { return Vec::new() };
    let inner = inside(p, first, last, start, end);
    let mut out = Vec::with_capacity(inner.len() + 2);
    out.push((start, edge_left(p, first, start, smoothed, false)));
    out.extend_from_slice(inner);
    out.push((end, edge_right(p, last, end, smoothed, false)));
    out
}

/// The samples Prometheus takes for an anchored or smoothed range's edges
/// `(start, end]` among the samples `p` around it: the last one at or before
/// the start (else the first), and the last one (smoothed: the first at or
/// after the end). None when no sample falls after the start.
fn edge_samples(p: &[(i64, f64)], start: i64, end: i64, smoothed: bool) -> Option<(usize, usize)> {
    let mut last = p.len().checked_sub(1)?;
    let first = search(p, last, |t| t > start).saturating_sub(1);
    if smoothed {
        last = search(p, last, |t| t >= end);
    }
    (p[last].0 > start).then_some((first, last))
}

/// The samples strictly inside `(start, end)` between the edge samples.
fn inside(p: &[(i64, f64)], first: usize, last: usize, start: i64, end: i64) -> &[(i64, f64)] {
    let from = if p[first].0 <= start { first + 1 } else { first };
    let to = if p[last].0 >= end { last } else { last + 1 };
    p.get(from..to).unwrap_or(&[])
}

/// Prometheus's info for `rate`, `increase` and `irate` over a series whose
/// name does not look like a counter's.
pub(crate) fn counter_info(ctx: &Ctx, name: &str, labels: &Labels, pos: Pos) {
    if !matches!(name, "rate" | "increase" | "irate") {
        return;
    }
    let metric = labels.metric_name().unwrap_or("");
    if !["_total", "_sum", "_count", "_bucket"].iter().any(|suf| metric.ends_with(suf)) {
        ctx.info(format!(
            "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {metric:?} {pos}"
        ));
    }
}

#[cfg(test)]
mod rate_times_tests {
    use super::RateTimes;

    proptest::proptest! {
        /// The shortcut past the division decides as the division does, bit for bit.
        #[test]
        fn the_zero_shortcut_agrees_with_the_division(
            first_v in proptest::prop_oneof![0.0..1e3f64, 0.0..1e-300f64, 1e300..f64::MAX, proptest::num::f64::POSITIVE],
            result in proptest::prop_oneof![1e-3..1e3f64, 0.0..1e-300f64, 1e300..f64::MAX, proptest::num::f64::POSITIVE],
            first_t in 0i64..60_000, n in 2usize..20, span in 1i64..60_000, rate: bool,
        ) {
            let (start, range) = (0, 60_000 + span);
            let t = RateTimes::new(first_t, first_t + span, n, start, range, range, rate);
            let mut to_start = t.to_start;
            let to_zero = t.sampled * (first_v / result);
            if to_zero < to_start {
                to_start = to_zero;
            }
            let want = result * t.factor_from(to_start);
            proptest::prop_assert_eq!(t.apply(result, first_v, true).to_bits(), want.to_bits());
        }
    }

    /// Products that compare one way while the division rounds the other
    /// (found by search): the margin sends them to the division.
    #[test]
    fn products_and_division_may_disagree_without_the_margin() {
        for (sampled, to_start, result, first_v) in [
            (357.864, 359.984, 987174.2276830492, 993022.2855002313),
            (423.285, 504.46, 714893.406218656, 851991.2770380788),
            (90.586, 105.731, 907570.6349047142, 1059306.6345694736),
        ] {
            assert!(first_v * sampled > to_start * result && sampled * (first_v / result) < to_start);
            let mut t = RateTimes { sampled, to_start, to_end: 1.0, rate: true, range_ms: 60_000, factor: 0.0 };
            t.factor = t.factor_from(to_start);
            let want = result * t.factor_from(sampled * (first_v / result));
            assert_eq!(t.apply(result, first_v, true).to_bits(), want.to_bits());
        }
    }

    #[test]
    fn near_ties_take_the_division() {
        // first_v / result × sampled within a few hundred ulps of to_start.
        for (first_t, result) in [(10_000, 30.0), (7_000, 0.3), (3_000, 7.0), (11_000, 1e-3), (1_000, 3.3)] {
            let t = RateTimes::new(first_t, first_t + 30_000, 3, 0, 60_000, 60_000, true);
            let tie = t.to_start * result / t.sampled;
            let mut first_v = f64::from_bits(tie.to_bits() - 300);
            for _ in 0..600 {
                let to_zero = t.sampled * (first_v / result);
                let want = result * t.factor_from(if to_zero < t.to_start { to_zero } else { t.to_start });
                assert_eq!(t.apply(result, first_v, true).to_bits(), want.to_bits(), "{first_v} {result}");
                first_v = f64::from_bits(first_v.to_bits() + 1);
            }
        }
    }
}
