//! Aggregation operators over one instant vector.

use super::{EvalError, Sample, Val};
use crate::parser::AggOp;
use storage::{Labels, LabelsBuilder, METRIC_NAME};

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

fn group_labels(l: &Labels, grouping: &[String], without: bool) -> Labels {
    if without {
        let mut lb = l.builder();
        lb.del(METRIC_NAME);
        for g in grouping {
            lb.del(g);
        }
        lb.build()
    } else {
        let mut lb = LabelsBuilder::default();
        for g in grouping {
            if let Some(v) = l.get(g) {
                lb.set(g.clone(), v.to_string());
            }
        }
        lb.build()
    }
}

/// Reads a sample's grouping labels in place, in sorted name order.
struct GroupKey<'a> {
    /// `by` names, sorted and unique (ignored for `without`).
    by: &'a [&'a str],
    without: bool,
}

impl GroupKey<'_> {
    fn for_each(&self, l: &Labels, mut f: impl FnMut(&str, &str) -> bool) -> bool {
        if self.without {
            for p in l {
                if p.name == METRIC_NAME || self.by.contains(&p.name) {
                    continue;
                }
                if !f(p.name, p.value) {
                    return false;
                }
            }
        } else {
            for n in self.by {
                if let Some(v) = l.get(n) {
                    if !f(n, v) {
                        return false;
                    }
                }
            }
        }
        true
    }

    fn hash(&self, l: &Labels) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.for_each(l, |n, v| {
            n.hash(&mut h);
            v.hash(&mut h);
            true
        });
        h.finish()
    }

    /// Whether `l`'s grouping labels are exactly the group's labels `g`.
    fn matches(&self, l: &Labels, g: &Labels) -> bool {
        let mut it = g.iter();
        self.for_each(l, |n, v| it.next().is_some_and(|p| p.name == n && p.value == v)) && it.next().is_none()
    }
}

#[derive(Default)]
struct Acc {
    /// Any input marked for delayed name removal: the output is too.
    drop_name: bool,
    count: f64,
    value: f64,
    c: f64,
    mean: f64,
    incremental: bool,
    values: Vec<Sample>,
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

pub(crate) fn eval(
    op: AggOp,
    v: Vec<Sample>,
    param: Option<Val>,
    grouping: &[String],
    without: bool,
) -> Result<Vec<Sample>, EvalError> {
    let scalar = match &param {
        Some(Val::Scalar(s)) => Some(*s),
        _ => None,
    };
    if scalar.is_some_and(f64::is_nan) {
        match op {
            AggOp::TopK | AggOp::BottomK | AggOp::LimitK => {
                return Err(EvalError::Execution("Parameter value is NaN".into()))
            }
            AggOp::LimitRatio => return Err(EvalError::Execution("Ratio value is NaN".into())),
            _ => {}
        }
    }
    // Groups are found by a hash of the grouping labels read in place, so
    // no label set is built per sample, only once per group.
    let mut by: Vec<&str> = grouping.iter().map(String::as_str).collect();
    by.sort_unstable();
    by.dedup();
    let key = GroupKey { by: &by, without };
    let mut order: Vec<Labels> = Vec::new();
    let mut accs: Vec<Acc> = Vec::new();
    let mut index: super::FastMap<u64, Vec<usize>> = Default::default();
    for s in v {
        let h = key.hash(&s.labels);
        let slot = index.entry(h).or_default();
        let k = match slot.iter().copied().find(|&k| key.matches(&s.labels, &order[k])) {
            Some(k) => k,
            None => {
                slot.push(order.len());
                order.push(group_labels(&s.labels, grouping, without));
                accs.push(Acc::default());
                order.len() - 1
            }
        };
        let acc = &mut accs[k];
        let f = s.v;
        acc.count += 1.0;
        acc.drop_name |= s.drop_name;
        match op {
            AggOp::Sum => {
                let (t, c) = kahan_inc(f, acc.value, acc.c);
                acc.value = t;
                acc.c = c;
            }
            AggOp::Avg => {
                if acc.count == 1.0 {
                    acc.value = f;
                    acc.mean = f;
                } else {
                    if !acc.incremental {
                        let (nv, nc) = kahan_inc(f, acc.value, acc.c);
                        if !nv.is_infinite() {
                            acc.value = nv;
                            acc.c = nc;
                            continue;
                        }
                        acc.incremental = true;
                        acc.mean = acc.value / (acc.count - 1.0);
                        acc.c /= acc.count - 1.0;
                    }
                    let q = (acc.count - 1.0) / acc.count;
                    let (m, c) = kahan_inc(f / acc.count, q * acc.mean, q * acc.c);
                    acc.mean = m;
                    acc.c = c;
                }
            }
            AggOp::Max => {
                if acc.count == 1.0 || acc.value < f || acc.value.is_nan() {
                    acc.value = f;
                }
            }
            AggOp::Min => {
                if acc.count == 1.0 || acc.value > f || acc.value.is_nan() {
                    acc.value = f;
                }
            }
            AggOp::Stddev | AggOp::Stdvar => {
                if acc.count == 1.0 {
                    acc.mean = f;
                    // NaN or ±Inf make the deviation NaN.
                    acc.value = 0.0 * f;
                } else {
                    let delta = f - acc.mean;
                    acc.mean += delta / acc.count;
                    acc.value += delta * (f - acc.mean);
                }
            }
            AggOp::Count | AggOp::Group => {}
            AggOp::Quantile | AggOp::TopK | AggOp::BottomK | AggOp::LimitK | AggOp::LimitRatio | AggOp::CountValues => {
                acc.values.push(s);
            }
        }
    }
    let mut out = Vec::new();
    for (g, acc) in order.into_iter().zip(accs) {
        let v = match op {
            AggOp::Sum => acc.value + acc.c,
            AggOp::Avg => {
                if acc.count == 1.0 {
                    acc.value
                } else if acc.incremental {
                    acc.mean + acc.c
                } else {
                    (acc.value + acc.c) / acc.count
                }
            }
            AggOp::Count => acc.count,
            AggOp::Group => 1.0,
            AggOp::Min | AggOp::Max => acc.value,
            AggOp::Stdvar => acc.value / acc.count,
            AggOp::Stddev => (acc.value / acc.count).sqrt(),
            AggOp::Quantile => {
                let mut vals: Vec<f64> = acc.values.iter().map(|s| s.v).collect();
                quantile(scalar.unwrap_or(f64::NAN), &mut vals)
            }
            AggOp::TopK | AggOp::BottomK | AggOp::LimitK => {
                let k = scalar.unwrap_or(0.0);
                if k.is_nan() {
                    return Err(EvalError::Execution("Parameter value is NaN".into()));
                }
                let k = if k >= acc.values.len() as f64 {
                    acc.values.len()
                } else if k < 1.0 {
                    0
                } else {
                    k as usize
                };
                let mut vals = acc.values;
                match op {
                    AggOp::TopK => vals.sort_by(|a, b| nan_last(a.v, b.v, true)),
                    AggOp::BottomK => vals.sort_by(|a, b| nan_last(a.v, b.v, false)),
                    _ => {}
                }
                out.extend(vals.into_iter().take(k));
                continue;
            }
            AggOp::LimitRatio => {
                let r = scalar.unwrap_or(0.0);
                for s in acc.values {
                    let off = (s.labels.stable_hash() as f64) / (u64::MAX as f64);
                    if (r >= 0.0 && off < r) || (r < 0.0 && off >= 1.0 + r) {
                        out.push(s);
                    }
                }
                continue;
            }
            AggOp::CountValues => {
                let label = match &param {
                    Some(Val::Str(s)) => s.clone(),
                    _ => return Err(EvalError::Execution("count_values needs a label name".into())),
                };
                if !valid_label_name(&label) {
                    return Err(EvalError::Execution(format!("invalid label name {label:?}")));
                }
                let mut counts: Vec<(String, f64)> = Vec::new();
                for s in acc.values {
                    let key = crate::engine::funcs::format_float(s.v);
                    match counts.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, c)) => *c += 1.0,
                        None => counts.push((key, 1.0)),
                    }
                }
                for (value, c) in counts {
                    let mut lb = g.builder();
                    lb.set(label.clone(), value);
                    out.push(Sample { labels: lb.build(), v: c, drop_name: false });
                }
                continue;
            }
        };
        out.push(Sample { labels: g, v, drop_name: acc.drop_name });
    }
    Ok(out)
}

fn valid_label_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
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
