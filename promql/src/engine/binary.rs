//! Binary operators: scalar/scalar, vector/scalar and vector/vector with
//! Prometheus's matching rules (on, ignoring, group_left, group_right) and
//! set operators.

use super::{EvalError, Sample, Val};
use crate::parser::{BinOp, Card, VectorMatching};
use storage::{Labels, LabelsBuilder, METRIC_NAME};

/// `lhs op rhs` on two floats: the value, and whether a comparison holds.
fn apply(op: BinOp, l: f64, r: f64) -> (f64, bool) {
    match op {
        BinOp::Add => (l + r, true),
        BinOp::Sub => (l - r, true),
        BinOp::Mul => (l * r, true),
        BinOp::Div => (l / r, true),
        BinOp::Mod => (l % r, true),
        BinOp::Pow => (l.powf(r), true),
        BinOp::Atan2 => (l.atan2(r), true),
        BinOp::Eql => (l, l == r),
        BinOp::Neq => (l, l != r),
        BinOp::Gt => (l, l > r),
        BinOp::Lt => (l, l < r),
        BinOp::Ge => (l, l >= r),
        BinOp::Le => (l, l <= r),
        BinOp::And | BinOp::Or | BinOp::Unless => (l, true),
    }
}

/// Arithmetic (and `bool` comparisons) drop the metric name of the result.
fn drops_name(op: BinOp, return_bool: bool) -> bool {
    !op.is_comparison() || return_bool
}

pub(crate) fn eval(
    op: BinOp,
    l: Val,
    r: Val,
    return_bool: bool,
    matching: Option<&VectorMatching>,
) -> Result<Val, EvalError> {
    Ok(match (l, r) {
        (Val::Scalar(a), Val::Scalar(b)) => {
            let (v, keep) = apply(op, a, b);
            Val::Scalar(if op.is_comparison() {
                if keep {
                    1.0
                } else {
                    0.0
                }
            } else {
                v
            })
        }
        (Val::Vector(v), Val::Scalar(s)) => Val::Vector(vector_scalar(op, v, s, false, return_bool)),
        (Val::Scalar(s), Val::Vector(v)) => Val::Vector(vector_scalar(op, v, s, true, return_bool)),
        (Val::Vector(a), Val::Vector(b)) => {
            let default = VectorMatching::one_to_one();
            let m = matching.unwrap_or(&default);
            Val::Vector(match op {
                BinOp::And => and_unless(a, b, m, true),
                BinOp::Unless => and_unless(a, b, m, false),
                BinOp::Or => or(a, b, m),
                _ => vector_vector(op, a, b, m, return_bool)?,
            })
        }
        _ => return Err(EvalError::Execution("binary operation on unsupported operand types".into())),
    })
}

fn vector_scalar(op: BinOp, v: Vec<Sample>, s: f64, scalar_left: bool, return_bool: bool) -> Vec<Sample> {
    let drop = drops_name(op, return_bool);
    v.into_iter()
        .filter_map(|mut x| {
            let (l, r) = if scalar_left { (s, x.v) } else { (x.v, s) };
            let (mut value, keep) = apply(op, l, r);
            if op.is_comparison() {
                // The vector element's value is kept, whichever side it is on.
                value = x.v;
            }
            if return_bool {
                value = if keep { 1.0 } else { 0.0 };
            } else if !keep {
                return None;
            }
            x.v = value;
            x.drop_name |= drop;
            Some(x)
        })
        .collect()
}

/// The labels two samples are matched on.
fn signature(l: &Labels, m: &VectorMatching) -> Vec<(String, String)> {
    if m.on {
        let mut out: Vec<(String, String)> =
            m.labels.iter().filter_map(|n| l.get(n).map(|v| (n.clone(), v.to_string()))).collect();
        out.sort();
        out
    } else {
        l.iter()
            .filter(|p| p.name != METRIC_NAME && !m.labels.iter().any(|n| n == p.name))
            .map(|p| (p.name.to_string(), p.value.to_string()))
            .collect()
    }
}

fn and_unless(a: Vec<Sample>, b: Vec<Sample>, m: &VectorMatching, keep_matched: bool) -> Vec<Sample> {
    let sigs: super::FastSet<Vec<(String, String)>> = b.iter().map(|s| signature(&s.labels, m)).collect();
    a.into_iter().filter(|s| sigs.contains(&signature(&s.labels, m)) == keep_matched).collect()
}

fn or(a: Vec<Sample>, b: Vec<Sample>, m: &VectorMatching) -> Vec<Sample> {
    let sigs: super::FastSet<Vec<(String, String)>> = a.iter().map(|s| signature(&s.labels, m)).collect();
    let mut out = a;
    out.extend(b.into_iter().filter(|s| !sigs.contains(&signature(&s.labels, m))));
    out
}

/// Labels as Prometheus prints them in errors: `{__name__="x", a="b"}`.
fn braces(l: &Labels) -> String {
    let inner: Vec<String> = l.iter().map(|p| format!("{}={:?}", p.name, p.value)).collect();
    format!("{{{}}}", inner.join(", "))
}

fn describe(sig: &[(String, String)]) -> String {
    let inner: Vec<String> = sig.iter().map(|(n, v)| format!("{n}={v:?}")).collect();
    format!("{{{}}}", inner.join(", "))
}

fn vector_vector(
    op: BinOp,
    a: Vec<Sample>,
    b: Vec<Sample>,
    m: &VectorMatching,
    return_bool: bool,
) -> Result<Vec<Sample>, EvalError> {
    // The "one" side is indexed; group_right swaps the roles.
    let swap = m.card == Card::OneToMany;
    let (many, one) = if swap { (b, a) } else { (a, b) };
    let mut index: super::FastMap<Vec<(String, String)>, usize> =
        super::FastMap::with_capacity_and_hasher(one.len(), Default::default());
    for (k, s) in one.iter().enumerate() {
        let sig = signature(&s.labels, m);
        if let Some(first) = index.insert(sig.clone(), k) {
            let side = if swap { "left" } else { "right" };
            return Err(EvalError::Execution(format!(
                "found duplicate series for the match group {} on the {side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                describe(&sig),
                braces(&one[first].labels),
                braces(&s.labels)
            )));
        }
    }
    let drop = drops_name(op, return_bool);
    let mut matched: super::FastMap<Vec<(String, String)>, ()> = Default::default();
    let mut seen_results: super::FastSet<Labels> = Default::default();
    let mut one_matched = vec![false; one.len()];
    let mut out = Vec::new();
    // Fill values stand for a missing sample on the many side (`fill_left`)
    // or the one side (`fill_right`); with group_right the sides are swapped
    // first, as Prometheus swaps them, so the names follow the swap.
    let (fill_many, fill_one) = (m.fill_left, m.fill_right);
    let mut emit = |many_l: &Labels, many_v: f64, many_drop: bool, one_l: &Labels, one_v: f64| {
        let (l, r) = if swap { (one_v, many_v) } else { (many_v, one_v) };
        let (mut value, keep) = apply(op, l, r);
        if return_bool {
            value = if keep { 1.0 } else { 0.0 };
        } else if !keep {
            return Ok(());
        }
        let labels = result_labels(many_l, one_l, m);
        if m.card != Card::OneToOne && !seen_results.insert(labels.clone()) {
            return Err(EvalError::Execution(
                "multiple matches for labels: grouping labels must ensure unique matches".into(),
            ));
        }
        out.push(Sample { labels, v: value, drop_name: drop || many_drop });
        Ok(())
    };
    for s in &many {
        let sig = signature(&s.labels, m);
        let Some(&k) = index.get(&sig) else {
            if let Some(v) = fill_one {
                emit(&s.labels, s.v, s.drop_name, &match_group(&sig), v)?;
            }
            continue;
        };
        if m.card == Card::OneToOne && matched.insert(sig.clone(), ()).is_some() {
            return Err(EvalError::Execution(
                "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"
                    .to_string(),
            ));
        }
        one_matched[k] = true;
        let o = &one[k];
        emit(&s.labels, s.v, s.drop_name, &o.labels, o.v)?;
    }
    if let Some(v) = fill_many {
        for (o, _) in one.iter().zip(&one_matched).filter(|(_, m)| !**m) {
            emit(&match_group(&signature(&o.labels, m)), v, false, &o.labels, o.v)?;
        }
    }
    Ok(out)
}

/// The labels of a match group (what a filled sample carries).
fn match_group(sig: &[(String, String)]) -> Labels {
    Labels::from_pairs(sig.iter().map(|(n, v)| (n.as_str(), v.as_str())))
}

fn result_labels(many: &Labels, one: &Labels, m: &VectorMatching) -> Labels {
    let mut lb: LabelsBuilder = many.builder();
    match m.card {
        Card::OneToOne => {
            if m.on {
                lb.retain(|l| m.labels.contains(&l.name));
            } else {
                for n in &m.labels {
                    lb.del(n);
                }
            }
        }
        _ => {
            for n in &m.include {
                match one.get(n) {
                    Some(v) => {
                        lb.set(n.clone(), v.to_string());
                    }
                    None => {
                        lb.del(n);
                    }
                }
            }
        }
    }
    lb.build()
}
