//! Functions over labels: `label_replace`, `label_join`, `absent`'s labels,
//! and the sorting functions (`sort`, `sort_desc`, `sort_by_label`,
//! `sort_by_label_desc`).

use crate::engine::numeric::nan_last;
use crate::engine::{EvalError, Sample, Val};
use crate::parser::Expr;
use storage::{Labels, MatchOp, METRIC_NAME};

/// `absent(v)`: nothing when `v` has samples, else one sample of value 1
/// with the equality matchers of the argument's selector as labels.
pub(super) fn absent(v: Vec<Sample>, arg: &Expr) -> Val {
    if !v.is_empty() {
        return Val::Vector(Vec::new());
    }
    Val::Vector(vec![Sample { labels: absent_labels(arg), v: 1.0, drop_name: false }])
}

/// `label_join(v, dst, sep, src…)`: `dst` set to the values of `src…` joined by `sep`.
pub(super) fn label_join(v: Vec<Sample>, dst: &str, sep: &str, srcs: &[String]) -> Result<Val, EvalError> {
    if !storage::is_valid_label_name(dst) {
        return Err(EvalError::Execution(format!("invalid destination label name in label_join(): {dst}")));
    }
    Ok(Val::Vector(
        v.into_iter()
            .map(|mut s| {
                let joined: Vec<&str> = srcs.iter().map(|n| s.labels.get(n).unwrap_or("")).collect();
                let value = joined.join(sep);
                set_label(&mut s, dst, value);
                s
            })
            .collect(),
    ))
}

/// Sets label `dst` of a sample; a metric name written this way is kept
/// (not dropped later with the name of the function's input).
fn set_label(s: &mut Sample, dst: &str, value: String) {
    let mut lb = s.labels.builder();
    lb.set(dst.to_string(), value);
    s.labels = lb.build();
    if dst == METRIC_NAME {
        s.drop_name = false;
    }
}

/// `sort` and `sort_desc`: by value, NaN last either way.
pub(super) fn sort(mut v: Vec<Sample>, desc: bool) -> Val {
    v.sort_by(|a, b| nan_last(a.v, b.v, desc));
    Val::Vector(v)
}

/// `sort_by_label` (and `_desc`): by the named labels' values in natural
/// order, then by the whole label set.
pub(super) fn sort_by_label(mut v: Vec<Sample>, names: &[String], desc: bool) -> Val {
    v.sort_by(|a, b| {
        for n in names {
            let o = natural_cmp(a.labels.get_or_empty(n), b.labels.get_or_empty(n));
            if o != std::cmp::Ordering::Equal {
                return o;
            }
        }
        a.labels.cmp(&b.labels)
    });
    if desc {
        v.reverse();
    }
    Val::Vector(v)
}

/// The labels `absent` reports: the equality matchers of the selector.
pub(super) fn absent_labels(e: &Expr) -> Labels {
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

pub(super) fn label_replace(v: Vec<Sample>, dst: &str, repl: &str, src: &str, re: &str) -> Result<Val, EvalError> {
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
                    set_label(&mut s, dst, res);
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
