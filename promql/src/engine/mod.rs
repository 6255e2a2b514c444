//! Evaluation of parsed expressions over the store.
//!
//! A query first walks its tree to find every selector and the time range
//! it needs (lookback, ranges, offsets, `@`, subqueries), loads each
//! selector's series once, then evaluates the tree at each step over that
//! data: windows slide by binary search, never by a fresh selection.

mod aggregate;
mod binary;
mod eval;
mod functions;
mod numeric;
mod relabel;
mod sliding;

use crate::parser::{At, Expr, VectorSelector};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use storage::{Db, Labels, SeriesData};

/// Default lookback for instant vector selectors: 5 minutes.
pub const DEFAULT_LOOKBACK_MS: i64 = 5 * 60 * 1000;
/// Most points a range query may return per series (Prometheus's limit).
pub const MAX_POINTS_PER_SERIES: i64 = 11_000;

/// A float as Prometheus writes sample values (`strconv.FormatFloat(f,
/// 'f', -1, 64)`): shortest form, no exponent, `NaN`, `+Inf`, `-Inf`.
pub fn format_value(v: f64) -> String {
    let mut s = String::new();
    write_value(&mut s, v);
    s
}

/// Appends a sample value as Prometheus writes it (Go's `FormatFloat` with
/// the shortest exact digits: plain decimals, exponents below 1e-6 and
/// from 1e21 on as `1e-07`, `1.5e+21`; `NaN`, `+Inf`, `-Inf`).
pub fn write_value(out: &mut String, v: f64) {
    if write_short_decimal(out, v) {
        return;
    }
    if v.is_finite() {
        // Fast path: ryu's shortest digits. It writes `1.0` for 1 and switches
        // to exponents at other bounds, so only its plain answers are taken,
        // without the `.0`; and only below 16 digits, where the shortest
        // digits are unique (at 17, ryu and std break ties differently).
        let mut buf = ryu::Buffer::new();
        let s = buf.format_finite(v);
        let digits = s.bytes().filter(u8::is_ascii_digit).count();
        if digits < 16 && !s.contains('e') && (v == 0.0 || (v.abs() >= 1e-6 && v.abs() < 1e21)) {
            out.push_str(s.strip_suffix(".0").unwrap_or(s));
            return;
        }
    }
    write_value_general(out, v);
}

/// Whole numbers below 2^53, and numbers below 1e9 with at most six
/// decimals (counters, gauges, most rates), written without a float
/// formatter: the fewest decimals `k` whose `n / 10^k` rounds back to `v`
/// give its shortest digits (below 1e9 a step of 10^-6 is wider than the
/// float spacing, so that decimal is unique). False when `v` is not such a number.
fn write_short_decimal(out: &mut String, v: f64) -> bool {
    const P: [f64; 7] = [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6];
    let a = v.abs();
    if !a.is_finite() || a >= 9_007_199_254_740_992.0 || (v == 0.0 && v.is_sign_negative()) {
        return false;
    }
    if v.fract() == 0.0 {
        out.push_str(itoa::Buffer::new().format(v as i64));
        return true;
    }
    if !(1e-6..1e9).contains(&a) {
        return false;
    }
    for (k, p) in P.iter().enumerate().skip(1) {
        let n = (a * p).round();
        if n / p != a {
            continue;
        }
        let n = n as u64;
        let (int, frac) = (n / *p as u64, n % *p as u64);
        if v < 0.0 {
            out.push('-');
        }
        out.push_str(itoa::Buffer::new().format(int));
        out.push('.');
        let digits = itoa::Buffer::new().format(frac).to_string();
        for _ in digits.len()..k {
            out.push('0');
        }
        out.push_str(digits.trim_end_matches('0'));
        return true;
    }
    false
}

/// [`write_value`] through `std::fmt`, for every value.
fn write_value_general(out: &mut String, v: f64) {
    use std::fmt::Write;
    if v.is_nan() {
        out.push_str("NaN");
    } else if v == f64::INFINITY {
        out.push_str("+Inf");
    } else if v == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else if v != 0.0 && (v.abs() < 1e-6 || v.abs() >= 1e21) {
        let start = out.len();
        let _ = write!(out, "{v:e}");
        // Rust writes `1e-7` and `1.5e21`; Go `1e-07` and `1.5e+21`.
        let Some(e) = out[start..].find('e').map(|i| start + i) else { return };
        let (neg, digits) = match out[e + 1..].strip_prefix('-') {
            Some(d) => (true, d.to_string()),
            None => (false, out[e + 1..].to_string()),
        };
        out.truncate(e + 1);
        out.push(if neg { '-' } else { '+' });
        if digits.len() < 2 {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let _ = write!(out, "{v}");
    }
}

/// One element of an instant vector.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorSample {
    /// The series' labels (the metric name included unless dropped).
    pub labels: Labels,
    /// Evaluation timestamp (ms).
    pub t: i64,
    /// The value.
    pub v: f64,
}

/// A series of a range vector or range query result.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The series' labels.
    pub labels: Labels,
    /// (timestamp ms, value), oldest first.
    pub points: Vec<(i64, f64)>,
}

/// The result of a query.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A number at the evaluation time `t` (ms).
    Scalar {
        /// Evaluation timestamp (ms).
        t: i64,
        /// The number.
        v: f64,
    },
    /// A string at the evaluation time `t` (ms).
    String {
        /// Evaluation timestamp (ms).
        t: i64,
        /// The string.
        s: String,
    },
    /// An instant vector: one sample per series at one time.
    Vector(Vec<VectorSample>),
    /// A range vector, or a range query's answer: points per series.
    Matrix(Vec<Series>),
}

/// An evaluation that could not complete, with Prometheus's wording.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// Any other failure, with Prometheus's message.
    #[error("{0}")]
    Execution(String),
    /// The query ran past its timeout; names the stage it was in.
    #[error("query timed out in {0}")]
    Timeout(&'static str),
    /// The query would hold more samples than `max_samples`; names the stage.
    #[error("query processing would load too many samples into memory in {0}")]
    TooManySamples(&'static str),
    /// The asker went away; names the stage evaluation stopped in.
    #[error("query was canceled in {0}")]
    Canceled(&'static str),
}

/// Evaluates queries with fixed settings.
#[derive(Clone, Debug)]
pub struct Engine {
    /// How far back an instant selector looks for a sample (`--query.lookback-delta`).
    pub lookback_ms: i64,
    /// Most samples a query may hold at once (`--query.max-samples`).
    pub max_samples: usize,
    /// Longest a query may run (`--query.timeout`).
    pub timeout: Duration,
    /// Step of subqueries written without one (`x[10m:]`).
    pub default_subquery_step_ms: i64,
    /// Set by whoever asked for the query when its answer is no longer
    /// wanted (the client went away): evaluation stops at its next check.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Default for Engine {
    fn default() -> Self {
        Engine {
            lookback_ms: DEFAULT_LOOKBACK_MS,
            max_samples: 50_000_000,
            timeout: Duration::from_secs(120),
            default_subquery_step_ms: 60_000,
            cancel: None,
        }
    }
}

/// A value during evaluation at one step.
#[derive(Clone, Debug)]
pub(crate) enum Val {
    Scalar(f64),
    Str(String),
    Vector(Vec<Sample>),
    Matrix(Vec<Series>),
}

/// An instant-vector element during evaluation. `drop_name` marks a metric
/// name to remove once evaluation ends (Prometheus's delayed name removal).
#[derive(Clone, Debug)]
pub(crate) struct Sample {
    pub labels: Labels,
    pub v: f64,
    pub drop_name: bool,
}

/// Warnings and infos a query produced, as Prometheus words them
/// ("PromQL warning: …", "PromQL info: …"), without repeats.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Annotations {
    /// "PromQL warning: …" lines.
    pub warnings: Vec<String>,
    /// "PromQL info: …" lines.
    pub infos: Vec<String>,
}

/// Loaded data and settings for one query.
pub(crate) struct Ctx<'a> {
    pub annotations: std::cell::RefCell<Annotations>,
    pub engine: &'a Engine,
    /// The store, for what is read during evaluation (`info`'s info series).
    pub db: &'a Db,
    pub start: i64,
    pub end: i64,
    /// Step of a range query (0 for an instant query).
    pub step: i64,
    /// Series of each selector, keyed by the selector's address in the tree.
    pub loaded: HashMap<*const VectorSelector, Vec<SeriesData>>,
    pub deadline: Instant,
    /// Range functions computed for all steps of a range query at once.
    pub precomputed: std::cell::RefCell<sliding::Precomputed>,
    /// Each aggregation node's groups, kept across the steps of a range query.
    pub groups: std::cell::RefCell<FastMap<*const Expr, aggregate::Groups>>,
    /// Label sets of histogram buckets: their labels without `le`, and the bound.
    pub le_split: std::cell::RefCell<FastMap<Labels, Option<(Labels, f64)>>>,
    /// Each histogram function's grouping of the last step's buckets, by the call's place.
    pub bucket_layouts: std::cell::RefCell<FastMap<crate::parser::Pos, functions::BucketLayout>>,
    /// Each `label_replace`/`label_join` call's output label set per input
    /// label set, by the call's place: their arguments are literals, so a
    /// range query relabels each series once, not once per step.
    pub relabelled: std::cell::RefCell<FastMap<crate::parser::Pos, functions::Relabelled>>,
}

impl Ctx<'_> {
    pub fn warn(&self, msg: String) {
        let mut a = self.annotations.borrow_mut();
        if !a.warnings.contains(&msg) {
            a.warnings.push(msg);
        }
    }

    pub fn info(&self, msg: String) {
        let mut a = self.annotations.borrow_mut();
        if !a.infos.contains(&msg) {
            a.infos.push(msg);
        }
    }

    pub fn check_deadline(&self) -> Result<(), EvalError> {
        if Instant::now() > self.deadline {
            return Err(EvalError::Timeout("query execution"));
        }
        if self.engine.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(EvalError::Canceled("query execution"));
        }
        Ok(())
    }

    /// The time a selector or subquery reads at, for evaluation time `t`.
    pub fn at_time(&self, at: Option<At>, t: i64) -> i64 {
        match at {
            None => t,
            Some(At::Time(x)) => x,
            Some(At::Start) => self.start,
            Some(At::End) => self.end,
        }
    }
}

impl Engine {
    /// Evaluates `expr` at `t` (ms).
    pub fn instant(&self, db: &Db, expr: &Expr, t: i64) -> Result<Value, EvalError> {
        self.instant_annotated(db, expr, t).map(|(v, _)| v)
    }

    /// Evaluates a range query (see [`Engine::range_annotated`]).
    pub fn range(&self, db: &Db, expr: &Expr, start: i64, end: i64, step: i64) -> Result<Value, EvalError> {
        self.range_annotated(db, expr, start, end, step).map(|(v, _)| v)
    }

    /// Evaluates `expr` at `t` (ms), with the query's warnings and infos.
    pub fn instant_annotated(&self, db: &Db, expr: &Expr, t: i64) -> Result<(Value, Annotations), EvalError> {
        // Durations written with step() or range(): both 0 in an instant query.
        let resolved = expr.with_query_durations(0, 0).map_err(EvalError::Execution)?;
        let expr = resolved.as_ref().unwrap_or(expr);
        let ctx = self.prepare(db, expr, t, t, 0)?;
        let v = eval::eval(&ctx, expr, t)?;
        let value = match v {
            Val::Scalar(v) => Value::Scalar { t, v },
            Val::Str(s) => Value::String { t, s },
            Val::Vector(samples) => {
                let out = finish_vector(samples, &mut Unnamed::default())?;
                Value::Vector(out.into_iter().map(|(labels, v)| VectorSample { labels, t, v }).collect())
            }
            Val::Matrix(mut series) => {
                // A bare anchored or smoothed range shows its window's edges as samples.
                if let Expr::MatrixSelector { vs, range } = strip_parens(expr) {
                    if vs.anchored || vs.smoothed {
                        let end = ctx.at_time(vs.at, t) - vs.offset;
                        for s in &mut series {
                            s.points = functions::extend_floats(&s.points, end - range, end, vs.smoothed);
                        }
                        series.retain(|s| !s.points.is_empty());
                    }
                }
                series.sort_by(|a, b| a.labels.cmp(&b.labels));
                Value::Matrix(series)
            }
        };
        Ok((value, ctx.annotations.into_inner()))
    }

    /// Evaluates `expr` at every step from `start` to `end` (ms): a matrix
    /// sorted by labels, or for scalar expressions one series without labels.
    pub fn range_annotated(
        &self,
        db: &Db,
        expr: &Expr,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<(Value, Annotations), EvalError> {
        if step <= 0 {
            return Err(EvalError::Execution("zero or negative query resolution step widths are not accepted".into()));
        }
        if (end - start) / step + 1 > MAX_POINTS_PER_SERIES {
            return Err(EvalError::Execution(
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)".into(),
            ));
        }
        match expr.value_type() {
            crate::ValueType::Scalar | crate::ValueType::Vector => {}
            t => {
                return Err(EvalError::Execution(format!(
                    "invalid expression type {:?} for range query, must be Scalar or instant Vector",
                    t.as_str()
                )))
            }
        }
        let resolved = expr.with_query_durations(step, end - start).map_err(EvalError::Execution)?;
        let expr = resolved.as_ref().unwrap_or(expr);
        let ctx = self.prepare(db, expr, start, end, step)?;
        let mut pre = sliding::Precomputed::default();
        sliding::precompute(&ctx, expr, &mut pre)?;
        *ctx.precomputed.borrow_mut() = pre;
        // A label function at the root relabels each series once, not once per step.
        if let Some(series) = relabel::range(&ctx, expr)? {
            return Ok((Value::Matrix(series), ctx.annotations.into_inner()));
        }
        let mut series: Vec<Series> = Vec::new();
        let mut index: FastMap<Labels, usize> = FastMap::default();
        // Which series each position of the previous step's vector went to:
        // steps mostly repeat the same series in the same order, and a label
        // set shared with the previous step compares by pointer.
        let (mut prev, mut cur): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
        let mut unnamed = Unnamed::default();
        let mut t = start;
        while t <= end {
            ctx.check_deadline()?;
            let samples = match eval::eval(&ctx, expr, t)? {
                Val::Scalar(v) => vec![(Labels::empty(), v)],
                Val::Vector(samples) => finish_vector(samples, &mut unnamed)?,
                _ => {
                    return Err(EvalError::Execution("range query must evaluate to a scalar or instant vector".into()))
                }
            };
            cur.clear();
            for (pos, (labels, v)) in samples.into_iter().enumerate() {
                let k = match prev.get(pos) {
                    Some(&k) if series[k].labels == labels => k,
                    _ => *index.entry(labels).or_insert_with_key(|l| {
                        series.push(Series { labels: l.clone(), points: Vec::new() });
                        series.len() - 1
                    }),
                };
                series[k].points.push((t, v));
                cur.push(k);
            }
            std::mem::swap(&mut prev, &mut cur);
            t += step;
        }
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok((Value::Matrix(series), ctx.annotations.into_inner()))
    }

    /// Finds every selector with the time range it needs and loads it once.
    fn prepare<'a>(&'a self, db: &'a Db, expr: &Expr, start: i64, end: i64, step: i64) -> Result<Ctx<'a>, EvalError> {
        let mut ranges: HashMap<*const VectorSelector, (i64, i64)> = HashMap::new();
        let mut sels: HashMap<*const VectorSelector, &VectorSelector> = HashMap::new();
        self.walk(expr, start, end, start, end, &mut ranges, &mut sels);
        let mut loaded = HashMap::new();
        let mut total = 0usize;
        for (key, (mint, maxt)) in ranges {
            let vs = sels[&key];
            // Decoded series by series, so the limit stops a query before it holds more.
            let selected = db.select_series(&vs.matchers, mint, maxt);
            let mut data = Vec::with_capacity(selected.len());
            for (n, s) in selected.into_iter().enumerate() {
                if n % 1024 == 1023 && self.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
                    return Err(EvalError::Canceled("query preparation"));
                }
                let samples = s.to_vec();
                total += samples.len();
                if total > self.max_samples {
                    return Err(EvalError::TooManySamples("query execution"));
                }
                if !samples.is_empty() {
                    data.push(SeriesData { labels: s.labels, samples });
                }
            }
            loaded.insert(key, data);
        }
        Ok(Ctx {
            annotations: Default::default(),
            engine: self,
            db,
            start,
            end,
            step,
            loaded,
            deadline: Instant::now() + self.timeout,
            precomputed: Default::default(),
            groups: Default::default(),
            le_split: Default::default(),
            bucket_layouts: Default::default(),
            relabelled: Default::default(),
        })
    }

    /// Records, for each selector, the union of the sample ranges it needs
    /// when its subtree is evaluated at times in `[from, to]`.
    #[allow(clippy::too_many_arguments)]
    fn walk<'e>(
        &self,
        e: &'e Expr,
        from: i64,
        to: i64,
        qstart: i64,
        qend: i64,
        ranges: &mut HashMap<*const VectorSelector, (i64, i64)>,
        sels: &mut HashMap<*const VectorSelector, &'e VectorSelector>,
    ) {
        let at_bounds = |at: Option<At>, from: i64, to: i64| match at {
            None => (from, to),
            Some(At::Time(x)) => (x, x),
            Some(At::Start) => (qstart, qstart),
            Some(At::End) => (qend, qend),
        };
        // `before`: how far back from the evaluation time a selector reads; `after`: forward.
        let mut add = |vs: &'e VectorSelector, before: i64, after: i64| {
            let (f, t) = at_bounds(vs.at, from, to);
            let (mint, maxt) = (f - vs.offset - before, t - vs.offset + after);
            let key = vs as *const VectorSelector;
            sels.insert(key, vs);
            let r = ranges.entry(key).or_insert((mint, maxt));
            r.0 = r.0.min(mint);
            r.1 = r.1.max(maxt);
        };
        match e {
            Expr::VectorSelector(vs) => add(vs, self.lookback_ms, if vs.smoothed { self.lookback_ms } else { 0 }),
            // Anchored and smoothed ranges also read the lookback before them (smoothed after too).
            Expr::MatrixSelector { vs, range } => {
                let extra = if vs.anchored || vs.smoothed { self.lookback_ms } else { 0 };
                add(vs, *range + extra, if vs.smoothed { self.lookback_ms } else { 0 })
            }
            Expr::Subquery { expr, range, offset, at, .. } => {
                let (f, t) = at_bounds(*at, from, to);
                self.walk(expr, f - offset - range, t - offset, qstart, qend, ranges, sels);
            }
            Expr::Neg(x) | Expr::Paren(x) => self.walk(x, from, to, qstart, qend, ranges, sels),
            Expr::Binary { lhs, rhs, .. } => {
                self.walk(lhs, from, to, qstart, qend, ranges, sels);
                self.walk(rhs, from, to, qstart, qend, ranges, sels);
            }
            // `info`'s label selector is read by the function itself (it names info series).
            Expr::Call { func, args, .. } if func.name == "info" => {
                if let Some(a) = args.first() {
                    self.walk(a, from, to, qstart, qend, ranges, sels);
                }
            }
            Expr::Call { args, .. } => {
                for a in args {
                    self.walk(a, from, to, qstart, qend, ranges, sels);
                }
            }
            Expr::Aggregate { expr, param, .. } => {
                self.walk(expr, from, to, qstart, qend, ranges, sels);
                if let Some(p) = param {
                    self.walk(p, from, to, qstart, qend, ranges, sels);
                }
            }
            Expr::Number(_) | Expr::String(_) => {}
        }
    }
}

/// The expression inside any parentheses.
fn strip_parens(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(x) => strip_parens(x),
        e => e,
    }
}

/// Hash maps and sets for label sets and signatures: a fast hasher, seeded per process.
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
pub(crate) type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

/// Applies delayed name removal and rejects duplicate label sets.
/// Label sets without their metric name, by the named set's address (the
/// named set kept so that the address stays its own): a range query's steps
/// drop the same names again and again, and share the results.
type Unnamed = FastMap<usize, (Labels, Labels)>;

fn finish_vector(samples: Vec<Sample>, unnamed: &mut Unnamed) -> Result<Vec<(Labels, f64)>, EvalError> {
    let mut out: Vec<(Labels, f64)> = samples
        .into_iter()
        .map(|s| {
            if !s.drop_name {
                return (s.labels, s.v);
            }
            let (_, without) = unnamed.entry(s.labels.addr()).or_insert_with(|| {
                let without = s.labels.without_metric_name();
                (s.labels, without)
            });
            (without.clone(), s.v)
        })
        .collect();
    let mut seen: FastSet<&Labels> = FastSet::with_capacity_and_hasher(out.len(), Default::default());
    for (l, _) in &out {
        if !seen.insert(l) {
            return Err(EvalError::Execution("vector cannot contain metrics with the same labelset".into()));
        }
    }
    drop(seen);
    out.shrink_to_fit();
    Ok(out)
}

#[cfg(test)]
mod tests;
