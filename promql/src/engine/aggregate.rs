//! Aggregation operators over one instant vector.

use super::numeric::{kahan_inc, nan_last, quantile};
use super::{EvalError, Sample, Val};
use crate::parser::AggOp;
use storage::{Labels, LabelsBuilder, METRIC_NAME};

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
pub(crate) struct GroupKey<'a> {
    /// `by` names, sorted and unique (ignored for `without`).
    pub by: &'a [&'a str],
    pub without: bool,
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

    pub(crate) fn hash(&self, l: &Labels) -> u64 {
        use std::hash::{BuildHasher, Hash, Hasher};
        let mut h = foldhash::fast::FixedState::default().build_hasher();
        self.for_each(l, |n, v| {
            n.hash(&mut h);
            v.hash(&mut h);
            true
        });
        h.finish()
    }

    /// Whether `l`'s grouping labels are exactly the group's labels `g`.
    pub(crate) fn matches(&self, l: &Labels, g: &Labels) -> bool {
        let mut it = g.iter();
        self.for_each(l, |n, v| it.next().is_some_and(|p| p.name == n && p.value == v)) && it.next().is_none()
    }
}

/// A group's running figures for the operators that keep no values
/// (sum, avg, count, group, min, max, stddev, stdvar).
#[derive(Clone, Copy, Default)]
pub(crate) struct Num {
    /// Any input marked for delayed name removal: the output is too.
    pub drop_name: bool,
    pub count: f64,
    value: f64,
    c: f64,
    mean: f64,
    incremental: bool,
}

impl Num {
    /// Adds `f`, in the order Prometheus adds a group's samples.
    #[inline]
    pub(crate) fn add(&mut self, op: AggOp, f: f64) {
        self.count += 1.0;
        match op {
            AggOp::Sum => (self.value, self.c) = kahan_inc(f, self.value, self.c),
            AggOp::Avg => {
                if self.count == 1.0 {
                    self.value = f;
                    self.mean = f;
                    return;
                }
                if !self.incremental {
                    let (nv, nc) = kahan_inc(f, self.value, self.c);
                    if !nv.is_infinite() {
                        self.value = nv;
                        self.c = nc;
                        return;
                    }
                    self.incremental = true;
                    self.mean = self.value / (self.count - 1.0);
                    self.c /= self.count - 1.0;
                }
                let q = (self.count - 1.0) / self.count;
                (self.mean, self.c) = kahan_inc(f / self.count, q * self.mean, q * self.c);
            }
            AggOp::Max if self.count == 1.0 || self.value < f || self.value.is_nan() => self.value = f,
            AggOp::Min if self.count == 1.0 || self.value > f || self.value.is_nan() => self.value = f,
            AggOp::Stddev | AggOp::Stdvar => {
                if self.count == 1.0 {
                    self.mean = f;
                    // NaN or ±Inf make the deviation NaN.
                    self.value = 0.0 * f;
                } else {
                    let delta = f - self.mean;
                    self.mean += delta / self.count;
                    self.value += delta * (f - self.mean);
                }
            }
            _ => {}
        }
    }

    /// The group's value (for the operators [`Num::add`] serves).
    pub(crate) fn result(&self, op: AggOp) -> f64 {
        match op {
            AggOp::Sum => self.value + self.c,
            AggOp::Avg if self.count == 1.0 => self.value,
            AggOp::Avg if self.incremental => self.mean + self.c,
            AggOp::Avg => (self.value + self.c) / self.count,
            AggOp::Count => self.count,
            AggOp::Group => 1.0,
            AggOp::Stdvar => self.value / self.count,
            AggOp::Stddev => (self.value / self.count).sqrt(),
            _ => self.value,
        }
    }
}

/// Whether an operator is served by [`Num`] alone.
pub(crate) fn is_numeric(op: AggOp) -> bool {
    matches!(
        op,
        AggOp::Sum | AggOp::Avg | AggOp::Count | AggOp::Group | AggOp::Min | AggOp::Max | AggOp::Stddev | AggOp::Stdvar
    )
}

#[derive(Default)]
struct Acc {
    num: Num,
    values: Vec<Sample>,
}

/// An aggregation node's groups, kept from step to step of a range query:
/// the group of each position of the previous step's input, so that a
/// series seen at the same position again (the same label set, compared by
/// pointer first) finds its group without hashing its labels.
#[derive(Default)]
pub(crate) struct Groups {
    /// The previous step's input: each sample's labels and group.
    prev: Vec<(Labels, usize)>,
    /// Every group's labels, by group number.
    pub labels: Vec<Labels>,
    /// Group numbers by the hash of their grouping labels.
    index: super::FastMap<u64, Vec<usize>>,
}

impl Groups {
    /// The number of the group a series with labels `l` falls in (a new
    /// group when none matches yet), read in place through `key`.
    pub(crate) fn group_of(&mut self, key: &GroupKey, l: &Labels, grouping: &[String]) -> usize {
        let slot = self.index.entry(key.hash(l)).or_default();
        match slot.iter().copied().find(|&g| key.matches(l, &self.labels[g])) {
            Some(g) => g,
            None => {
                slot.push(self.labels.len());
                self.labels.push(group_labels(l, grouping, key.without));
                self.labels.len() - 1
            }
        }
    }
}

pub(crate) fn eval(
    op: AggOp,
    v: Vec<Sample>,
    param: Option<Val>,
    grouping: &[String],
    without: bool,
    groups: &mut Groups,
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
    // This step's groups in the order they are first met, and their accumulators.
    let mut order: Vec<usize> = Vec::new();
    let mut accs: Vec<Acc> = Vec::new();
    let mut acc_of: Vec<usize> = vec![usize::MAX; groups.labels.len()];
    let mut seen: Vec<(Labels, usize)> = Vec::with_capacity(v.len());
    for (i, s) in v.into_iter().enumerate() {
        let g = match groups.prev.get(i) {
            Some((l, g)) if *l == s.labels => *g,
            _ => groups.group_of(&key, &s.labels, grouping),
        };
        seen.push((s.labels.clone(), g));
        if g >= acc_of.len() {
            acc_of.resize(g + 1, usize::MAX);
        }
        if acc_of[g] == usize::MAX {
            acc_of[g] = accs.len();
            accs.push(Acc::default());
            order.push(g);
        }
        let acc = &mut accs[acc_of[g]];
        acc.num.drop_name |= s.drop_name;
        if is_numeric(op) {
            acc.num.add(op, s.v);
        } else {
            acc.num.count += 1.0;
            acc.values.push(s);
        }
    }
    groups.prev = seen;
    let mut out = Vec::new();
    for (g, acc) in order.into_iter().zip(accs) {
        let g = groups.labels[g].clone();
        let v = match op {
            AggOp::Sum
            | AggOp::Avg
            | AggOp::Count
            | AggOp::Group
            | AggOp::Min
            | AggOp::Max
            | AggOp::Stddev
            | AggOp::Stdvar => acc.num.result(op),
            AggOp::Quantile => {
                let mut vals: Vec<f64> = acc.values.iter().map(|s| s.v).collect();
                quantile(scalar.unwrap_or(f64::NAN), &mut vals)
            }
            AggOp::TopK | AggOp::BottomK | AggOp::LimitK => {
                out.extend(first_k(op, scalar.unwrap_or(0.0), acc.values));
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
                out.extend(count_values(&g, param.as_ref(), acc.values)?);
                continue;
            }
        };
        out.push(Sample { labels: g, v, drop_name: acc.num.drop_name });
    }
    Ok(out)
}

/// `topk`, `bottomk` (sorted, NaN last) or `limitk` (as met): the first
/// `k` samples of a group (`k` is not NaN: [`eval`] refuses that first).
fn first_k(op: AggOp, k: f64, mut vals: Vec<Sample>) -> Vec<Sample> {
    let k = if k >= vals.len() as f64 {
        vals.len()
    } else if k < 1.0 {
        0
    } else {
        k as usize
    };
    match op {
        AggOp::TopK => vals.sort_by(|a, b| nan_last(a.v, b.v, true)),
        AggOp::BottomK => vals.sort_by(|a, b| nan_last(a.v, b.v, false)),
        _ => {}
    }
    vals.truncate(k);
    vals
}

/// `count_values(label, …)` over one group `g`: a sample per distinct value
/// (as Prometheus writes it), counting the samples that have it.
fn count_values(g: &Labels, param: Option<&Val>, vals: Vec<Sample>) -> Result<Vec<Sample>, EvalError> {
    let label = match param {
        Some(Val::Str(s)) => s.clone(),
        _ => return Err(EvalError::Execution("count_values needs a label name".into())),
    };
    if !storage::is_valid_label_name(&label) {
        return Err(EvalError::Execution(format!("invalid label name {label:?}")));
    }
    let mut counts: Vec<(String, f64)> = Vec::new();
    for s in vals {
        let key = super::format_value(s.v);
        match counts.iter_mut().find(|(k, _)| *k == key) {
            Some((_, c)) => *c += 1.0,
            None => counts.push((key, 1.0)),
        }
    }
    Ok(counts
        .into_iter()
        .map(|(value, c)| {
            let mut lb = g.builder();
            lb.set(label.clone(), value);
            Sample { labels: lb.build(), v: c, drop_name: false }
        })
        .collect())
}
