//! Function calls: instant-vector math, range-vector functions (the rate
//! family, `*_over_time`), classic histograms, labels, sorting, dates.

use super::aggregate::{kahan_inc, nan_last, quantile};
use super::eval::eval;
use super::{Ctx, EvalError, Sample, Series, Val};
use crate::parser::Function;
use crate::parser::{Expr, Pos, VectorSelector};
use storage::{Labels, MatchOp, METRIC_NAME};

pub(crate) use super::format_value as format_float;

fn vector(v: Val) -> Vec<Sample> {
    match v {
        Val::Vector(v) => v,
        _ => Vec::new(),
    }
}

fn scalar(v: Val) -> f64 {
    match v {
        Val::Scalar(s) => s,
        _ => f64::NAN,
    }
}

fn string(v: Val) -> String {
    match v {
        Val::Str(s) => s,
        _ => String::new(),
    }
}

fn map(v: Vec<Sample>, f: impl Fn(f64) -> f64) -> Val {
    Val::Vector(
        v.into_iter()
            .map(|mut s| {
                s.v = f(s.v);
                s.drop_name = true;
                s
            })
            .collect(),
    )
}

/// The window `(start, end]` of a range-vector argument at time `t`.
pub(crate) fn window_of(ctx: &Ctx, e: &Expr, t: i64) -> Option<(i64, i64, i64)> {
    match e {
        Expr::MatrixSelector { vs, range } => {
            let end = ctx.at_time(vs.at, t) - vs.offset;
            Some((end - range, end, *range))
        }
        Expr::Subquery { range, offset, at, .. } => {
            let end = ctx.at_time(*at, t) - offset;
            Some((end - range, end, *range))
        }
        Expr::Paren(x) => window_of(ctx, x, t),
        _ => None,
    }
}

/// Prometheus's warning for a quantile outside [0, 1] (or NaN).
pub(crate) fn check_quantile(ctx: &Ctx, q: f64, pos: Pos) {
    if q.is_nan() || !(0.0..=1.0).contains(&q) {
        ctx.warn(format!("PromQL warning: quantile value should be between 0 and 1, got {} {pos}", format_go(q)));
    }
}

/// A float as Go's `%g` prints it for the values annotations show.
fn format_go(v: f64) -> String {
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

pub(crate) fn call(
    ctx: &Ctx,
    f: &Function,
    args: &[Expr],
    t: i64,
    pos: Pos,
    arg_pos: &[Pos],
) -> Result<Val, EvalError> {
    let name = f.name;
    if name.starts_with("sort") && ctx.step > 0 {
        ctx.warn(format!(
            "PromQL warning: sort is ineffective for range queries since results are always ordered by labels {pos}"
        ));
    }
    // Range-vector functions.
    if f.args.first() == Some(&crate::ValueType::Matrix) || name == "quantile_over_time" {
        let m_idx = if name == "quantile_over_time" { 1 } else { 0 };
        if let Some(vs) = extended_selector(&args[m_idx]) {
            let (modifier, allowed): (&str, &[&str]) = if vs.anchored {
                ("anchored", &["changes", "delta", "increase", "rate", "resets"])
            } else {
                ("smoothed", &["delta", "increase", "rate"])
            };
            if !allowed.contains(&name) {
                return Err(EvalError::Execution(format!(
                    "{modifier} modifier can only be used with: {} - not with {name}",
                    allowed.join(", ")
                )));
            }
        }
        let series = match eval(ctx, &args[m_idx], t)? {
            Val::Matrix(m) => m,
            _ => Vec::new(),
        };
        let params: Vec<f64> = args
            .iter()
            .enumerate()
            .filter(|(k, _)| *k != m_idx)
            .map(|(_, a)| eval(ctx, a, t).map(scalar))
            .collect::<Result<_, _>>()?;
        if name == "quantile_over_time" {
            check_quantile(ctx, params[0], arg_pos.first().copied().unwrap_or(pos));
        }
        for s in &series {
            counter_info(ctx, name, &s.labels, arg_pos.first().copied().unwrap_or(pos));
        }
        return range_function(ctx, name, series, &params, &args[m_idx], t);
    }
    let arg = |k: usize| -> Result<Val, EvalError> { eval(ctx, &args[k], t) };
    Ok(match name {
        "abs" => map(vector(arg(0)?), f64::abs),
        "ceil" => map(vector(arg(0)?), f64::ceil),
        "floor" => map(vector(arg(0)?), f64::floor),
        "exp" => map(vector(arg(0)?), f64::exp),
        "ln" => map(vector(arg(0)?), f64::ln),
        "log2" => map(vector(arg(0)?), f64::log2),
        "log10" => map(vector(arg(0)?), f64::log10),
        "sqrt" => map(vector(arg(0)?), f64::sqrt),
        "sgn" => map(vector(arg(0)?), |v| {
            if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else {
                v
            }
        }),
        "deg" => map(vector(arg(0)?), |v| v * 180.0 / std::f64::consts::PI),
        "rad" => map(vector(arg(0)?), |v| v * std::f64::consts::PI / 180.0),
        "sin" => map(vector(arg(0)?), f64::sin),
        "cos" => map(vector(arg(0)?), f64::cos),
        "tan" => map(vector(arg(0)?), f64::tan),
        "asin" => map(vector(arg(0)?), f64::asin),
        "acos" => map(vector(arg(0)?), f64::acos),
        "atan" => map(vector(arg(0)?), f64::atan),
        "sinh" => map(vector(arg(0)?), f64::sinh),
        "cosh" => map(vector(arg(0)?), f64::cosh),
        "tanh" => map(vector(arg(0)?), f64::tanh),
        "asinh" => map(vector(arg(0)?), f64::asinh),
        "acosh" => map(vector(arg(0)?), f64::acosh),
        "atanh" => map(vector(arg(0)?), f64::atanh),
        "round" => {
            let to = if args.len() > 1 { scalar(arg(1)?) } else { 1.0 };
            let inv = 1.0 / to;
            map(vector(arg(0)?), move |v| (v * inv + 0.5).floor() / inv)
        }
        "clamp" => {
            let (lo, hi) = (scalar(arg(1)?), scalar(arg(2)?));
            if lo > hi {
                return Ok(Val::Vector(Vec::new()));
            }
            map(vector(arg(0)?), move |v| v.max(lo).min(hi))
        }
        "clamp_min" => {
            let lo = scalar(arg(1)?);
            map(vector(arg(0)?), move |v| v.max(lo))
        }
        "clamp_max" => {
            let hi = scalar(arg(1)?);
            map(vector(arg(0)?), move |v| v.min(hi))
        }
        "time" => Val::Scalar(t as f64 / 1000.0),
        "start" => Val::Scalar(ctx.start as f64 / 1000.0),
        "end" => Val::Scalar(ctx.end as f64 / 1000.0),
        "range" => Val::Scalar((ctx.end - ctx.start) as f64 / 1000.0),
        "step" => Val::Scalar(ctx.step as f64 / 1000.0),
        "pi" => Val::Scalar(std::f64::consts::PI),
        // Experimental: the smaller or larger of two scalars, NaN if either is.
        "min_of" | "max_of" => {
            let (a, b) = (scalar(arg(0)?), scalar(arg(1)?));
            Val::Scalar(match (a.is_nan() || b.is_nan(), name == "min_of") {
                (true, _) => f64::NAN,
                (false, true) => a.min(b),
                (false, false) => a.max(b),
            })
        }
        "vector" => Val::Vector(vec![Sample { labels: Labels::empty(), v: scalar(arg(0)?), drop_name: false }]),
        "scalar" => {
            let v = vector(arg(0)?);
            Val::Scalar(if v.len() == 1 { v[0].v } else { f64::NAN })
        }
        "timestamp" => timestamp(ctx, &args[0], t)?,
        "absent" => {
            if !vector(arg(0)?).is_empty() {
                return Ok(Val::Vector(Vec::new()));
            }
            Val::Vector(vec![Sample { labels: absent_labels(&args[0]), v: 1.0, drop_name: false }])
        }
        "label_replace" => {
            label_replace(vector(arg(0)?), &string(arg(1)?), &string(arg(2)?), &string(arg(3)?), &string(arg(4)?))?
        }
        "label_join" => {
            let v = vector(arg(0)?);
            let dst = string(arg(1)?);
            let sep = string(arg(2)?);
            let srcs: Vec<String> = (3..args.len()).map(|k| arg(k).map(string)).collect::<Result<_, _>>()?;
            if !storage::is_valid_label_name(&dst) {
                return Err(EvalError::Execution(format!("invalid destination label name in label_join(): {dst}")));
            }
            Val::Vector(
                v.into_iter()
                    .map(|mut s| {
                        let joined: Vec<&str> = srcs.iter().map(|n| s.labels.get(n).unwrap_or("")).collect();
                        let value = joined.join(&sep);
                        let mut lb = s.labels.builder();
                        lb.set(dst.clone(), value);
                        s.labels = lb.build();
                        if dst == METRIC_NAME {
                            s.drop_name = false;
                        }
                        s
                    })
                    .collect(),
            )
        }
        "sort" | "sort_desc" => {
            let mut v = vector(arg(0)?);
            let desc = name == "sort_desc";
            v.sort_by(|a, b| nan_last(a.v, b.v, desc));
            Val::Vector(v)
        }
        "sort_by_label" | "sort_by_label_desc" => {
            let mut v = vector(arg(0)?);
            let names: Vec<String> = (1..args.len()).map(|k| arg(k).map(string)).collect::<Result<_, _>>()?;
            v.sort_by(|a, b| {
                for n in &names {
                    let o = natural_cmp(a.labels.get_or_empty(n), b.labels.get_or_empty(n));
                    if o != std::cmp::Ordering::Equal {
                        return o;
                    }
                }
                a.labels.cmp(&b.labels)
            });
            if name == "sort_by_label_desc" {
                v.reverse();
            }
            Val::Vector(v)
        }
        "histogram_quantile" => {
            let q = scalar(arg(0)?);
            check_quantile(ctx, q, arg_pos.first().copied().unwrap_or(pos));
            histogram_quantile(ctx, q, vector(arg(1)?), arg_pos.get(1).copied().unwrap_or(pos))
        }
        // Experimental: histogram_quantile at each of several quantiles, the
        // quantile written into a label (`0.0`, `0.25`, `1.0`).
        "histogram_quantiles" => {
            let v = vector(arg(0)?);
            let label = string(arg(1)?);
            let mut out = Vec::new();
            for k in 2..args.len() {
                let q = scalar(arg(k)?);
                check_quantile(ctx, q, arg_pos.get(k).copied().unwrap_or(pos));
                let mut text = format_go(q);
                if !text.contains(['.', 'e', 'I', 'N']) {
                    text.push_str(".0");
                }
                if let Val::Vector(samples) =
                    histogram_quantile(ctx, q, v.clone(), arg_pos.first().copied().unwrap_or(pos))
                {
                    for mut s in samples {
                        let mut b = s.labels.builder();
                        b.set(label.as_str(), text.as_str());
                        s.labels = b.build();
                        out.push(s);
                    }
                }
            }
            Val::Vector(out)
        }
        "info" => info(ctx, args, t)?,
        "histogram_fraction" => {
            let (lo, hi) = (scalar(arg(0)?), scalar(arg(1)?));
            histogram_fraction(ctx, lo, hi, vector(arg(2)?), arg_pos.get(2).copied().unwrap_or(pos))
        }
        "days_in_month" | "day_of_month" | "day_of_week" | "day_of_year" | "hour" | "minute" | "month" | "year" => {
            let v = if args.is_empty() {
                vec![Sample { labels: Labels::empty(), v: t as f64 / 1000.0, drop_name: false }]
            } else {
                vector(arg(0)?)
            };
            map(v, |x| date_part(name, x))
        }
        other => return Err(EvalError::Execution(format!("function {other:?} is not supported by Vigil yet"))),
    })
}

fn timestamp(ctx: &Ctx, e: &Expr, t: i64) -> Result<Val, EvalError> {
    let inner = match e {
        Expr::Paren(x) => return timestamp(ctx, x, t),
        Expr::VectorSelector(vs) => vs,
        other => {
            let v = vector(eval(ctx, other, t)?);
            return Ok(map(v, move |_| t as f64 / 1000.0));
        }
    };
    let at = ctx.at_time(inner.at, t) - inner.offset;
    let series = ctx.loaded.get(&(inner as *const VectorSelector));
    let mut out = Vec::new();
    for s in series.into_iter().flatten() {
        let idx = s.samples.partition_point(|x| x.t <= at);
        if idx == 0 {
            continue;
        }
        let last = s.samples[idx - 1];
        if last.t <= at - ctx.engine.lookback_ms || storage::is_stale_nan(last.v) {
            continue;
        }
        out.push(Sample { labels: s.labels.clone(), v: last.t as f64 / 1000.0, drop_name: true });
    }
    Ok(Val::Vector(out))
}

/// The labels `absent` reports: the equality matchers of the selector.
fn absent_labels(e: &Expr) -> Labels {
    let vs = match e {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector { vs, .. } => vs,
        Expr::Paren(x) => return absent_labels(x),
        _ => return Labels::empty(),
    };
    // A label named by more than one matcher is left out.
    let mut pairs: Vec<(String, String)> = Vec::new();
    for m in &vs.matchers {
        let repeated = vs.matchers.iter().filter(|x| x.name == m.name).count() > 1;
        if m.op == MatchOp::Equal && m.name != METRIC_NAME && !repeated {
            pairs.push((m.name.to_string(), m.value.to_string()));
        }
    }
    Labels::from_pairs(pairs)
}

fn label_replace(v: Vec<Sample>, dst: &str, repl: &str, src: &str, re: &str) -> Result<Val, EvalError> {
    let regex = storage::anchored_regex(re)
        .map_err(|e| EvalError::Execution(format!("invalid regular expression in label_replace(): {}", e.reason)))?;
    if !storage::is_valid_label_name(dst) {
        return Err(EvalError::Execution(format!("invalid destination label name in label_replace(): {dst}")));
    }
    Ok(Val::Vector(
        v.into_iter()
            .map(|mut s| {
                let value = s.labels.get_or_empty(src).to_string();
                if let Some(caps) = regex.captures(&value) {
                    let mut res = String::new();
                    caps.expand(repl, &mut res);
                    let mut lb = s.labels.builder();
                    lb.set(dst.to_string(), res);
                    s.labels = lb.build();
                    if dst == METRIC_NAME {
                        s.drop_name = false;
                    }
                }
                s
            })
            .collect(),
    ))
}

/// Natural order for sort_by_label: digit runs compare as numbers.
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, _) => return std::cmp::Ordering::Less,
            (_, None) => return std::cmp::Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let nx = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let ny = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let (sx, sy) = (&x[..nx], &y[..ny]);
                let tx = sx.iter().skip_while(|c| **c == b'0').count();
                let ty = sy.iter().skip_while(|c| **c == b'0').count();
                let o = tx.cmp(&ty).then_with(|| sx[nx - tx..].cmp(&sy[ny - ty..]));
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
                x = &x[nx..];
                y = &y[ny..];
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(d);
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

fn civil(secs: i64) -> (i64, i64, i64, i64, i64, i64) {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = crate::duration::civil_from_days(days);
    (y, m, d, sod / 3600, sod % 3600 / 60, days)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn date_part(part: &str, v: f64) -> f64 {
    if !v.is_finite() {
        return f64::NAN;
    }
    let (y, m, d, h, min, days) = civil(v.floor() as i64);
    match part {
        "year" => y as f64,
        "month" => m as f64,
        "day_of_month" => d as f64,
        "hour" => h as f64,
        "minute" => min as f64,
        "day_of_week" => (days + 4).rem_euclid(7) as f64,
        "day_of_year" => {
            let cum = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
            (cum[(m - 1) as usize] + d + if m > 2 && is_leap(y) { 1 } else { 0 }) as f64
        }
        "days_in_month" => match m {
            2 => {
                if is_leap(y) {
                    29.0
                } else {
                    28.0
                }
            }
            4 | 6 | 9 | 11 => 30.0,
            _ => 31.0,
        },
        _ => f64::NAN,
    }
}

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
        let mut index: super::FastMap<Labels, usize> = Default::default();
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

fn histogram_quantile(ctx: &Ctx, q: f64, v: Vec<Sample>, pos: Pos) -> Val {
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

fn histogram_fraction(ctx: &Ctx, lower: f64, upper: f64, v: Vec<Sample>, pos: Pos) -> Val {
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

/// Slope and intercept (at `intercept_t`) of the least-squares line, with
/// Kahan summation as Prometheus's `linearRegression`.
fn linear_regression(points: &[(i64, f64)], intercept_t: i64) -> (f64, f64) {
    let init = points[0].1;
    let const_y = points.iter().all(|p| p.1 == init);
    if const_y {
        return if init.is_infinite() { (f64::NAN, f64::NAN) } else { (0.0, init) };
    }
    let (mut n, mut sx, mut cx, mut sy, mut cy, mut sxy, mut cxy, mut sx2, mut cx2) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for (t, v) in points {
        n += 1.0;
        let x = (t - intercept_t) as f64 / 1e3;
        (sx, cx) = kahan_inc(x, sx, cx);
        (sy, cy) = kahan_inc(*v, sy, cy);
        (sxy, cxy) = kahan_inc(x * v, sxy, cxy);
        (sx2, cx2) = kahan_inc(x * x, sx2, cx2);
    }
    let (sx, sy, sxy, sx2) = (sx + cx, sy + cy, sxy + cxy, sx2 + cx2);
    let cov = sxy - sx * sy / n;
    let var = sx2 - sx * sx / n;
    let slope = cov / var;
    (slope, sy / n - slope * sx / n)
}

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

fn range_function(
    ctx: &Ctx,
    name: &str,
    series: Vec<Series>,
    params: &[f64],
    marg: &Expr,
    t: i64,
) -> Result<Val, EvalError> {
    let window = window_of(ctx, marg, t);
    if name == "absent_over_time" {
        if !series.is_empty() {
            return Ok(Val::Vector(Vec::new()));
        }
        return Ok(Val::Vector(vec![Sample { labels: absent_labels(marg), v: 1.0, drop_name: false }]));
    }
    let extended = extended_selector(marg).map(|vs| vs.smoothed);
    let mut out = Vec::with_capacity(series.len());
    for s in series {
        let v = match (extended, window) {
            // Anchored (false) or smoothed (true) ranges, from the samples around their edges.
            (Some(smoothed), Some((start, end, range))) => match name {
                "rate" | "increase" | "delta" => {
                    extended_rate(&s.points, start, end, range, smoothed, name != "delta", name == "rate")
                }
                _ => window_value(name, &extend_floats(&s.points, start, end, smoothed), params, window, t)?,
            },
            _ => window_value(name, &s.points, params, window, t)?,
        };
        if let Some(v) = v {
            out.push(Sample { labels: s.labels, v, drop_name: !keeps_name(name) });
        }
    }
    Ok(Val::Vector(out))
}

/// The time the samples of `e` evaluated at `t` are read at: its selectors'
/// `@` and `offset`, through subqueries (`info` enriches as of then).
fn ref_time(ctx: &Ctx, e: &Expr, t: i64) -> i64 {
    match e {
        Expr::VectorSelector(vs) | Expr::MatrixSelector { vs, .. } => ctx.at_time(vs.at, t) - vs.offset,
        Expr::Subquery { expr, at, offset, .. } => ref_time(ctx, expr, ctx.at_time(*at, t) - offset),
        Expr::Paren(x) | Expr::Neg(x) => ref_time(ctx, x, t),
        Expr::Aggregate { expr, .. } => ref_time(ctx, expr, t),
        Expr::Call { args, .. } => args
            .iter()
            .find(|a| matches!(a.value_type(), crate::ValueType::Vector | crate::ValueType::Matrix))
            .map_or(t, |a| ref_time(ctx, a, t)),
        Expr::Binary { lhs, rhs, .. } => {
            ref_time(ctx, if lhs.value_type() == crate::ValueType::Vector { lhs } else { rhs }, t)
        }
        Expr::Number(_) | Expr::String(_) => t,
    }
}

/// Labels that tie a series to its info series.
const IDENTIFYING: [&str; 2] = ["instance", "job"];

/// `info(v [, {selector}])` (experimental): each series of `v` gains the
/// data labels of the info series (`target_info` unless the selector names
/// others) with its `instance` and `job`, as of the time `v` was read; the
/// selector's other matchers choose the labels. Labels already on the series
/// stay; where info series of one metric disagree, the newest sample wins.
fn info(ctx: &Ctx, args: &[Expr], t: i64) -> Result<Val, EvalError> {
    let base = vector(eval(ctx, &args[0], t)?);
    let given: &[storage::Matcher] = match args.get(1) {
        Some(Expr::VectorSelector(vs)) => &vs.matchers,
        _ => &[],
    };
    let (mut names, data): (Vec<storage::Matcher>, Vec<storage::Matcher>) =
        given.iter().cloned().partition(|m| m.name == METRIC_NAME);
    if names.is_empty() {
        names.push(storage::Matcher::new(MatchOp::Equal, METRIC_NAME, "target_info").expect("a valid matcher"));
    } else if !names.iter().any(|m| matches!(m.op, MatchOp::Equal | MatchOp::Regex)) {
        // Only exclusions: among the info metrics (named `…_info`).
        names.push(storage::Matcher::new(MatchOp::Regex, METRIC_NAME, ".+_info").expect("a valid matcher"));
    }
    let at = ref_time(ctx, &args[0], t);
    let lookback = ctx.engine.lookback_ms;
    let all: Vec<storage::Matcher> = names.iter().chain(&data).cloned().collect();
    // Info series present at `at`, with their newest sample's time.
    let mut infos: Vec<(Labels, i64)> = Vec::new();
    for (n, s) in ctx.db.select_series(&all, at - lookback + 1, at).into_iter().enumerate() {
        if n % 1024 == 1023 {
            ctx.check_deadline()?;
        }
        let newest = s.samples().filter(|x| x.t <= at && x.t > at - lookback).last();
        if let Some(x) = newest.filter(|x| !storage::is_stale_nan(x.v)) {
            infos.push((s.labels, x.t));
        }
    }
    let wanted: Vec<&str> = data.iter().map(|m| m.name.as_str()).collect();
    let must_match = data.iter().any(|m| !m.matches_empty());
    let mut out = Vec::with_capacity(base.len());
    for s in base {
        // Info series themselves pass as they are.
        let name = s.labels.metric_name().unwrap_or("");
        if !name.is_empty() && names.iter().all(|m| m.matches(name)) {
            out.push(s);
            continue;
        }
        let ident: Vec<(&str, &str)> =
            IDENTIFYING.iter().filter_map(|n| s.labels.get(n).filter(|v| !v.is_empty()).map(|v| (*n, v))).collect();
        // The newest matching info series of each info metric.
        let mut picked: Vec<&(Labels, i64)> = Vec::new();
        if !ident.is_empty() {
            for i in infos.iter().filter(|(l, _)| ident.iter().all(|(n, v)| l.get(n) == Some(*v))) {
                match picked.iter_mut().find(|p| p.0.metric_name() == i.0.metric_name()) {
                    Some(p) if p.1 < i.1 => *p = i,
                    Some(_) => {}
                    None => picked.push(i),
                }
            }
        }
        if picked.is_empty() {
            if !must_match {
                out.push(s);
            }
            continue;
        }
        let mut lb = s.labels.builder();
        let mut added: Vec<(String, String)> = Vec::new();
        for (l, _) in picked {
            for p in l.iter() {
                let skip = p.name == METRIC_NAME || IDENTIFYING.contains(&p.name) || p.value.is_empty();
                if skip || (!wanted.is_empty() && !wanted.contains(&p.name)) || s.labels.get(p.name).is_some() {
                    continue;
                }
                match added.iter().find(|(n, _)| n == p.name) {
                    Some((_, v)) if v != p.value => {
                        return Err(EvalError::Execution(format!(
                            "conflicting label: {:?} has values {v:?} and {:?} in info series for {}",
                            p.name, p.value, s.labels
                        )));
                    }
                    Some(_) => {}
                    None => added.push((p.name.to_string(), p.value.to_string())),
                }
            }
        }
        for (n, v) in added {
            lb.set(n, v);
        }
        out.push(Sample { labels: lb.build(), v: s.v, drop_name: s.drop_name });
    }
    Ok(Val::Vector(out))
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
fn extended_rate(
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

/// Whether a range function's output keeps the metric name.
pub(crate) fn keeps_name(name: &str) -> bool {
    matches!(name, "last_over_time" | "first_over_time")
}

/// A range function's value over one series' samples `p` in its window
/// `(start, end]` (`window`: start, end, range) at evaluation time `t`;
/// None when the function gives no sample (too few points).
pub(crate) fn window_value(
    name: &str,
    p: &[(i64, f64)],
    params: &[f64],
    window: Option<(i64, i64, i64)>,
    t: i64,
) -> Result<Option<f64>, EvalError> {
    if p.is_empty() {
        return Ok(None);
    }
    Ok(match name {
        "rate" | "increase" | "delta" => {
            let Some((start, end, range)) = window else {
                return Err(EvalError::Execution(format!("{name} needs a range vector selector or subquery")));
            };
            extrapolated_rate(p, start, end, range, name != "delta", name == "rate", true)
        }
        "irate" | "idelta" => {
            if p.len() < 2 {
                None
            } else {
                let (a, b) = (p[p.len() - 2], p[p.len() - 1]);
                let mut r = if name == "irate" && b.1 < a.1 { b.1 } else { b.1 - a.1 };
                let dt = b.0 - a.0;
                if dt == 0 {
                    None
                } else {
                    if name == "irate" {
                        r /= dt as f64 / 1000.0;
                    }
                    Some(r)
                }
            }
        }
        "deriv" => (p.len() >= 2).then(|| linear_regression(p, p[0].0).0),
        "predict_linear" => (p.len() >= 2).then(|| {
            let (slope, icpt) = linear_regression(p, t);
            slope * params[0] + icpt
        }),
        "resets" => Some(p.windows(2).filter(|w| w[1].1 < w[0].1).count() as f64),
        "changes" => {
            Some(p.windows(2).filter(|w| !(w[1].1 == w[0].1 || (w[1].1.is_nan() && w[0].1.is_nan()))).count() as f64)
        }
        "sum_over_time" => {
            let (mut s, mut c) = (0.0, 0.0);
            for x in p {
                (s, c) = kahan_inc(x.1, s, c);
            }
            Some(s + c)
        }
        "avg_over_time" => Some(avg(p.iter().map(|x| x.1))),
        "count_over_time" => Some(p.len() as f64),
        "min_over_time" => Some(p.iter().fold(p[0].1, |m, x| if x.1 < m || m.is_nan() { x.1 } else { m })),
        "max_over_time" => Some(p.iter().fold(p[0].1, |m, x| if x.1 > m || m.is_nan() { x.1 } else { m })),
        "last_over_time" => Some(p[p.len() - 1].1),
        "first_over_time" => Some(p[0].1),
        "ts_of_last_over_time" => Some(p[p.len() - 1].0 as f64 / 1000.0),
        "ts_of_first_over_time" => Some(p[0].0 as f64 / 1000.0),
        "ts_of_max_over_time" | "ts_of_min_over_time" => {
            let mut best = p[0];
            for x in p {
                let better = if name == "ts_of_max_over_time" {
                    x.1 >= best.1 || best.1.is_nan()
                } else {
                    x.1 <= best.1 || best.1.is_nan()
                };
                if better {
                    best = *x;
                }
            }
            Some(best.0 as f64 / 1000.0)
        }
        "present_over_time" => Some(1.0),
        "quantile_over_time" => {
            let mut vals: Vec<f64> = p.iter().map(|x| x.1).collect();
            Some(quantile(params[0], &mut vals))
        }
        "stddev_over_time" | "stdvar_over_time" => {
            let (mut n, mut mean, mut m2) = (0.0, 0.0, 0.0);
            for x in p {
                n += 1.0;
                let d = x.1 - mean;
                mean += d / n;
                m2 += d * (x.1 - mean);
            }
            let var = m2 / n;
            Some(if name == "stddev_over_time" { var.sqrt() } else { var })
        }
        "mad_over_time" if p.iter().any(|x| x.1.is_nan()) => Some(f64::NAN),
        "mad_over_time" => {
            let mut vals: Vec<f64> = p.iter().map(|x| x.1).collect();
            let med = quantile(0.5, &mut vals);
            let mut dev: Vec<f64> = p.iter().map(|x| (x.1 - med).abs()).collect();
            Some(quantile(0.5, &mut dev))
        }
        "double_exponential_smoothing" => {
            let (sf, tf) = (params[0], params[1]);
            if sf <= 0.0 || sf >= 1.0 {
                return Err(EvalError::Execution(format!("invalid smoothing factor. Expected: 0 < sf < 1, got: {sf}")));
            }
            if tf <= 0.0 || tf >= 1.0 {
                return Err(EvalError::Execution(format!("invalid trend factor. Expected: 0 < tf < 1, got: {tf}")));
            }
            if p.len() < 2 {
                None
            } else {
                let (mut s0, mut s1, mut b) = (0.0, p[0].1, p[1].1 - p[0].1);
                for (i, x) in p.iter().enumerate().skip(1) {
                    if i > 1 {
                        b = tf * (s1 - s0) + (1.0 - tf) * b;
                    }
                    let y = (1.0 - sf) * (s1 + b);
                    s0 = s1;
                    s1 = sf * x.1 + y;
                }
                Some(s1)
            }
        }
        other => return Err(EvalError::Execution(format!("function {other:?} is not supported by Vigil yet"))),
    })
}

/// Mean with Kahan summation, switching to an incremental mean on overflow
/// (Prometheus's `avg` and `avg_over_time`).
fn avg(values: impl Iterator<Item = f64>) -> f64 {
    let (mut n, mut sum, mut c, mut mean, mut incremental) = (0.0, 0.0, 0.0, 0.0, false);
    for f in values {
        n += 1.0;
        if n == 1.0 {
            sum = f;
            mean = f;
            continue;
        }
        if !incremental {
            let (nv, nc) = kahan_inc(f, sum, c);
            if !nv.is_infinite() {
                sum = nv;
                c = nc;
                continue;
            }
            incremental = true;
            mean = sum / (n - 1.0);
            c /= n - 1.0;
        }
        let q = (n - 1.0) / n;
        (mean, c) = kahan_inc(f / n, q * mean, q * c);
    }
    if n == 1.0 {
        sum
    } else if incremental {
        mean + c
    } else {
        (sum + c) / n
    }
}
