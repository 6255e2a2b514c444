//! Classic histograms: `histogram_quantile`, `histogram_quantiles` and
//! `histogram_fraction` over `le` buckets, as Prometheus computes them.

use crate::engine::numeric::{check_quantile, format_go};
use crate::engine::{Ctx, FastMap, Sample, Val};
use crate::parser::Pos;
use storage::Labels;

struct Bucket {
    upper: f64,
    count: f64,
}

/// Groups classic-histogram bucket samples by their labels without `le`
/// (the metric name stays in the key and is dropped at the end, so two
/// histograms that differ only by name collide as in Prometheus). Samples
/// without a usable `le` are left out with Prometheus's warning.
///
/// A range query meets the same series in the same order at every step: the
/// grouping found for one step's label sets serves the next while they are
/// the same sets (compared by pointer first), and each label set's bound and
/// key are worked out once per query.
fn bucket_groups(ctx: &Ctx, v: Vec<Sample>, pos: Pos) -> Vec<(Labels, Vec<Bucket>)> {
    let mut layouts = ctx.bucket_layouts.borrow_mut();
    let layout = layouts.entry(pos).or_default();
    let same = layout.inputs.len() == v.len() && v.iter().zip(&layout.inputs).all(|(s, l)| s.labels == *l);
    if !same {
        layout.inputs.clear();
        layout.slots.clear();
        layout.keys.clear();
        let mut index: FastMap<Labels, usize> = Default::default();
        let mut split = ctx.le_split.borrow_mut();
        for s in &v {
            let known = match split.get(&s.labels) {
                Some(k) => k.clone(),
                None => {
                    let raw = s.labels.get_or_empty("le").trim();
                    let parsed = raw.parse::<f64>().ok().or(if raw == "+Inf" { Some(f64::INFINITY) } else { None });
                    let k = parsed.filter(|v| !v.is_nan()).map(|le| {
                        let mut lb = s.labels.builder();
                        lb.del("le");
                        (lb.build(), le)
                    });
                    split.insert(s.labels.clone(), k.clone());
                    k
                }
            };
            let slot = known.map(|(key, le)| {
                let next = layout.keys.len();
                let g = *index.entry(key).or_insert_with_key(|k| {
                    layout.keys.push(k.clone());
                    next
                });
                (g, le)
            });
            layout.inputs.push(s.labels.clone());
            layout.slots.push(slot);
        }
    }
    let mut groups: Vec<(Labels, Vec<Bucket>)> = layout.keys.iter().map(|k| (k.clone(), Vec::new())).collect();
    for (s, slot) in v.iter().zip(&layout.slots) {
        match slot {
            Some((g, le)) => groups[*g].1.push(Bucket { upper: *le, count: s.v }),
            None => ctx.warn(format!(
                "PromQL warning: bucket label \"le\" is missing or has a malformed value of {:?} for metric name {:?} {pos}",
                s.labels.get_or_empty("le"),
                s.labels.metric_name().unwrap_or("")
            )),
        }
    }
    groups
}

/// How one step's bucket samples fell into groups (see [`bucket_groups`]).
#[derive(Default)]
pub(crate) struct BucketLayout {
    /// The step's label sets, in order.
    inputs: Vec<Labels>,
    /// Each one's group and bound (None: no usable `le`).
    slots: Vec<Option<(usize, f64)>>,
    /// Each group's labels without `le`.
    keys: Vec<Labels>,
}

/// Sorts, merges equal bounds and forces monotonic counts, as Prometheus
/// does; true when a count had to be raised (not for float noise).
fn prepare_buckets(b: &mut Vec<Bucket>) -> bool {
    b.sort_by(|x, y| x.upper.total_cmp(&y.upper));
    let mut merged: Vec<Bucket> = Vec::with_capacity(b.len());
    for x in b.drain(..) {
        match merged.last_mut() {
            Some(last) if last.upper == x.upper => last.count += x.count,
            _ => merged.push(x),
        }
    }
    *b = merged;
    if b.is_empty() {
        return false;
    }
    let mut forced = false;
    let mut prev = b[0].count;
    for x in b.iter_mut().skip(1) {
        let cur = x.count;
        if cur == prev {
            continue;
        }
        if (cur - prev).abs() <= 1e-12 * cur.abs().max(prev.abs()) {
            x.count = prev;
            continue;
        }
        if cur < prev {
            x.count = prev;
            forced = true;
            continue;
        }
        prev = cur;
    }
    forced
}

/// The quantile, and whether the counts had to be forced monotonic.
fn bucket_quantile(q: f64, b: &mut Vec<Bucket>) -> (f64, bool) {
    if q.is_nan() {
        return (f64::NAN, false);
    }
    if q < 0.0 {
        return (f64::NEG_INFINITY, false);
    }
    if q > 1.0 {
        return (f64::INFINITY, false);
    }
    let forced = prepare_buckets(b);
    (bucket_quantile_prepared(q, b), forced)
}

fn bucket_quantile_prepared(q: f64, b: &[Bucket]) -> f64 {
    if b.last().is_none_or(|l| l.upper != f64::INFINITY) || b.len() < 2 {
        return f64::NAN;
    }
    let observations = b[b.len() - 1].count;
    if observations == 0.0 || observations.is_nan() {
        return f64::NAN;
    }
    let mut rank = q * observations;
    let idx = b[..b.len() - 1].partition_point(|x| x.count < rank);
    if idx == b.len() - 1 {
        return b[b.len() - 2].upper;
    }
    if idx == 0 && b[0].upper <= 0.0 {
        return b[0].upper;
    }
    let mut start = 0.0;
    let end = b[idx].upper;
    let mut count = b[idx].count;
    if idx > 0 {
        start = b[idx - 1].upper;
        count -= b[idx - 1].count;
        rank -= b[idx - 1].count;
    }
    start + (end - start) * (rank / count)
}

pub(super) fn histogram_quantile(ctx: &Ctx, q: f64, v: Vec<Sample>, pos: Pos) -> Val {
    let mut out = Vec::new();
    for (labels, mut b) in bucket_groups(ctx, v, pos) {
        let (value, forced) = bucket_quantile(q, &mut b);
        let name = labels.metric_name().unwrap_or("");
        if forced {
            ctx.info(format!(
                "PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name {name:?} {pos}"
            ));
        }
        out.push(Sample { labels, v: value, drop_name: true });
    }
    Val::Vector(out)
}

pub(super) fn histogram_fraction(ctx: &Ctx, lower: f64, upper: f64, v: Vec<Sample>, pos: Pos) -> Val {
    Val::Vector(
        bucket_groups(ctx, v, pos)
            .into_iter()
            .map(|(labels, mut b)| {
                let _ = prepare_buckets(&mut b);
                let f = bucket_fraction(lower, upper, &b);
                Sample { labels, v: f, drop_name: true }
            })
            .collect(),
    )
}

fn bucket_fraction(lower: f64, upper: f64, b: &[Bucket]) -> f64 {
    if b.last().is_none_or(|l| l.upper != f64::INFINITY) {
        return f64::NAN;
    }
    let count = b[b.len() - 1].count;
    if count == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    let (mut rank, mut lower_rank, mut upper_rank) = (0.0, 0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    for (i, x) in b.iter().enumerate() {
        let lb = if i > 0 { b[i - 1].upper } else { f64::NEG_INFINITY };
        let ub = x.upper;
        let interp = |v: f64| {
            if lb == f64::NEG_INFINITY {
                // No interpolation in a bucket of infinite width: a negative
                // first bucket counts whole; a positive one starts at 0.
                if ub <= 0.0 {
                    return x.count;
                }
                if v <= 0.0 {
                    return rank;
                }
                return rank + (x.count - rank) * v / ub;
            }
            rank + (x.count - rank) * (v - lb) / (ub - lb)
        };
        if !lower_set && lb >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && lb >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        if !lower_set && lb < lower && ub > lower {
            lower_rank = interp(lower);
            lower_set = true;
        }
        if !upper_set && lb < upper && ub > upper {
            upper_rank = interp(upper);
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        rank = x.count;
    }
    if !lower_set || lower_rank > count {
        lower_rank = count;
    }
    if !upper_set || upper_rank > count {
        upper_rank = count;
    }
    (upper_rank - lower_rank) / count
}

/// Experimental `histogram_quantiles(v, label, q…)`: `histogram_quantile`
/// at each quantile (with its position), the quantile written into `label`
/// (`0.0`, `0.25`, `1.0`). `pos`: where `v` is written.
pub(super) fn histogram_quantiles(ctx: &Ctx, v: Vec<Sample>, label: &str, qs: &[(f64, Pos)], pos: Pos) -> Val {
    let mut out = Vec::new();
    for (q, q_pos) in qs {
        check_quantile(ctx, *q, *q_pos);
        let mut text = format_go(*q);
        if !text.contains(['.', 'e', 'I', 'N']) {
            text.push_str(".0");
        }
        if let Val::Vector(samples) = histogram_quantile(ctx, *q, v.clone(), pos) {
            for mut s in samples {
                let mut b = s.labels.builder();
                b.set(label, text.as_str());
                s.labels = b.build();
                out.push(s);
            }
        }
    }
    Val::Vector(out)
}
