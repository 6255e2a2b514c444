//! The range-vector functions (`rate`, `irate`, `deriv`, `predict_linear`,
//! `resets`, `changes`, every `*_over_time`, `double_exponential_smoothing`,
//! `absent_over_time`): one window of one series at a time.

use super::labels::absent_labels;
use super::rate::{counter_info, extend_floats, extended_rate, extended_selector, extrapolated_rate};
use super::Args;
use crate::engine::numeric::{check_quantile, kahan_inc, quantile};
use crate::engine::{Ctx, EvalError, Sample, Series, Val};
use crate::parser::{Expr, Pos};

/// Evaluates range function `name` at `t` over its evaluated arguments
/// (`exprs` as written; `pos` of the first argument, for annotations).
pub(super) fn call(ctx: &Ctx, name: &str, exprs: &[Expr], mut args: Args, t: i64, pos: Pos) -> Result<Val, EvalError> {
    let m_idx = if name == "quantile_over_time" { 1 } else { 0 };
    if let Some(vs) = extended_selector(&exprs[m_idx]) {
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
    let series = args.matrix(m_idx);
    let params: Vec<f64> = (0..args.len()).filter(|k| *k != m_idx).map(|k| args.scalar(k)).collect();
    if name == "quantile_over_time" {
        check_quantile(ctx, params[0], pos);
    }
    for s in &series {
        counter_info(ctx, name, &s.labels, pos);
    }
    range_function(ctx, name, series, &params, &exprs[m_idx], t)
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
        "irate" | "idelta" => instant_delta(p, name == "irate"),
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
        "stddev_over_time" => Some(variance(p).sqrt()),
        "stdvar_over_time" => Some(variance(p)),
        "mad_over_time" if p.iter().any(|x| x.1.is_nan()) => Some(f64::NAN),
        "mad_over_time" => {
            let mut vals: Vec<f64> = p.iter().map(|x| x.1).collect();
            let med = quantile(0.5, &mut vals);
            let mut dev: Vec<f64> = p.iter().map(|x| (x.1 - med).abs()).collect();
            Some(quantile(0.5, &mut dev))
        }
        "double_exponential_smoothing" => double_exponential_smoothing(p, params[0], params[1])?,
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

/// `irate` (a fall counts as a reset) or `idelta` between the last two samples.
fn instant_delta(p: &[(i64, f64)], rate: bool) -> Option<f64> {
    if p.len() < 2 {
        return None;
    }
    let (a, b) = (p[p.len() - 2], p[p.len() - 1]);
    let mut r = if rate && b.1 < a.1 { b.1 } else { b.1 - a.1 };
    let dt = b.0 - a.0;
    if dt == 0 {
        return None;
    }
    if rate {
        r /= dt as f64 / 1000.0;
    }
    Some(r)
}

/// Population variance by Welford's method, as `stdvar_over_time`.
fn variance(p: &[(i64, f64)]) -> f64 {
    let (mut n, mut mean, mut m2) = (0.0, 0.0, 0.0);
    for x in p {
        n += 1.0;
        let d = x.1 - mean;
        mean += d / n;
        m2 += d * (x.1 - mean);
    }
    m2 / n
}

/// Holt's linear smoothing with smoothing factor `sf` and trend factor `tf`
/// (each strictly between 0 and 1), as Prometheus's `double_exponential_smoothing`.
fn double_exponential_smoothing(p: &[(i64, f64)], sf: f64, tf: f64) -> Result<Option<f64>, EvalError> {
    if sf <= 0.0 || sf >= 1.0 {
        return Err(EvalError::Execution(format!("invalid smoothing factor. Expected: 0 < sf < 1, got: {sf}")));
    }
    if tf <= 0.0 || tf >= 1.0 {
        return Err(EvalError::Execution(format!("invalid trend factor. Expected: 0 < tf < 1, got: {tf}")));
    }
    if p.len() < 2 {
        return Ok(None);
    }
    let (mut s0, mut s1, mut b) = (0.0, p[0].1, p[1].1 - p[0].1);
    for (i, x) in p.iter().enumerate().skip(1) {
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let y = (1.0 - sf) * (s1 + b);
        s0 = s1;
        s1 = sf * x.1 + y;
    }
    Ok(Some(s1))
}
