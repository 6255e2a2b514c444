//! Evaluation of parsed expressions over the store.

use crate::parser::Expr;
use storage::{is_stale_nan, Db, Labels};

/// Default lookback for instant vector selectors: 5 minutes.
pub const DEFAULT_LOOKBACK_MS: i64 = 5 * 60 * 1000;

/// One element of an instant vector.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorSample {
    pub labels: Labels,
    /// Evaluation timestamp (ms).
    pub t: i64,
    pub v: f64,
}

/// The result of an instant query.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar { t: i64, v: f64 },
    String { t: i64, s: String },
    Vector(Vec<VectorSample>),
}

/// An evaluation that could not complete.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{0}")]
    Execution(String),
}

/// Evaluates queries with fixed settings (lookback, later limits).
#[derive(Clone, Debug)]
pub struct Engine {
    lookback_ms: i64,
}

impl Default for Engine {
    fn default() -> Self {
        Engine { lookback_ms: DEFAULT_LOOKBACK_MS }
    }
}

impl Engine {
    pub fn new(lookback_ms: i64) -> Self {
        Engine { lookback_ms }
    }

    /// Evaluates `expr` at `t` (ms).
    ///
    /// A vector selector takes each series' newest sample in the left-open
    /// window `(t - lookback, t]` (Prometheus 3.x); a series whose newest
    /// sample there is a staleness marker is absent.
    pub fn instant(&self, db: &Db, expr: &Expr, t: i64) -> Result<Value, EvalError> {
        Ok(match expr {
            Expr::Number(v) => Value::Scalar { t, v: *v },
            Expr::String(s) => Value::String { t, s: s.clone() },
            Expr::VectorSelector(vs) => {
                let series = db.select(&vs.matchers, t - self.lookback_ms + 1, t);
                Value::Vector(
                    series
                        .into_iter()
                        .filter_map(|s| {
                            let last = s.samples.last()?;
                            (!is_stale_nan(last.v)).then_some(VectorSample { labels: s.labels, t, v: last.v })
                        })
                        .collect(),
                )
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse;
    use storage::{stale_nan, Sample};

    fn db() -> Db {
        let db = Db::in_memory();
        let a = db.get_or_create(&Labels::from_pairs([("__name__", "up"), ("job", "a")]));
        let b = db.get_or_create(&Labels::from_pairs([("__name__", "up"), ("job", "b")]));
        db.append(&[
            (a, Sample { t: 0, v: 1.0 }),
            (b, Sample { t: 0, v: 0.0 }),
            (a, Sample { t: 60_000, v: 1.0 }),
            (b, Sample { t: 60_000, v: stale_nan() }),
        ]);
        db
    }

    fn eval(q: &str, t: i64) -> Value {
        Engine::default().instant(&db(), &parse(q).unwrap(), t).unwrap()
    }

    #[test]
    fn stale_series_disappear() {
        let Value::Vector(v) = eval("up", 60_000) else { panic!() };
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].labels.get("job"), Some("a"));
        let Value::Vector(v) = eval("up", 30_000) else { panic!() };
        assert_eq!(v.len(), 2);
    }

    #[test]
    fn lookback_window_is_left_open() {
        // The sample at 60 s is exactly 5 m before 360 s: outside the window.
        let Value::Vector(v) = eval(r#"up{job="a"}"#, 360_000) else { panic!() };
        assert!(v.is_empty());
        let Value::Vector(v) = eval(r#"up{job="a"}"#, 359_999) else { panic!() };
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].t, 359_999);
    }
}
