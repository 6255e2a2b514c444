//! GET /federate: the newest sample of every series matching `match[]`, in
//! the text exposition format, so that another Prometheus can scrape Vigil
//! (with `honor_labels: true`). As Prometheus does: samples within the
//! lookback (5 m) before now, staleness markers left out, families sorted
//! by metric name and typed `untyped`, the external labels added where a
//! series lacks them, and `instance=""` where it has none.

use super::{required_match_params, ApiError, Params};
use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::fmt::Write;
use storage::model::timestamp::now_ms;
use storage::{is_stale_nan, Labels, METRIC_NAME};

const LOOKBACK_MS: i64 = 5 * 60 * 1000;

/// `GET /federate`: the latest sample of every series the `match[]` selectors pick, in the text exposition format, external labels added.
pub async fn federate(
    State(st): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    super::params::Body(body): super::params::Body,
) -> Result<Response, ApiError> {
    let p = Params::new(q.as_deref(), &headers, &body)?;
    let sets = required_match_params(&p)?;
    let external = st.control.external_labels();
    let db = st.db.clone();
    let text = tokio::task::spawn_blocking(move || {
        let now = now_ms();
        // The union of the sets, each series once.
        let mut newest: BTreeMap<Labels, (i64, f64)> = BTreeMap::new();
        for m in &sets {
            for s in db.select_series(m, now - LOOKBACK_MS, now) {
                if newest.contains_key(&s.labels) {
                    continue;
                }
                if let Some(last) = s.samples().last().filter(|x| !is_stale_nan(x.v)) {
                    newest.insert(s.labels, (last.t, last.v));
                }
            }
        }
        let mut samples: Vec<(Labels, (i64, f64))> =
            newest.into_iter().filter(|(l, _)| l.get(METRIC_NAME).is_some_and(|n| !n.is_empty())).collect();
        samples.sort_by(|a, b| a.0.get(METRIC_NAME).cmp(&b.0.get(METRIC_NAME)));
        render(&samples, &external)
    })
    .await
    .map_err(|e| ApiError(super::ErrorType::Internal, e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response())
}

fn render(samples: &[(Labels, (i64, f64))], external: &Labels) -> String {
    let mut extra: Vec<(&str, &str)> = external.iter().map(|l| (l.name, l.value)).collect();
    if !extra.iter().any(|(n, _)| *n == "instance") {
        extra.push(("instance", ""));
        extra.sort();
    }
    let mut out = String::new();
    let mut family = "";
    for (labels, (t, v)) in samples {
        let name = labels.get(METRIC_NAME).unwrap_or("");
        if name != family {
            let _ = writeln!(out, "# TYPE {name} untyped");
            family = name;
        }
        out.push_str(name);
        let mut first = true;
        let mut pair = |out: &mut String, n: &str, v: &str| {
            out.push(if first { '{' } else { ',' });
            first = false;
            out.push_str(n);
            out.push_str("=\"");
            escape_label_value(out, v);
            out.push('"');
        };
        for l in labels.iter().filter(|l| l.name != METRIC_NAME && !l.value.is_empty()) {
            pair(&mut out, l.name, l.value);
        }
        for (n, v) in &extra {
            if labels.get(n).is_none_or(str::is_empty) {
                pair(&mut out, n, v);
            }
        }
        if !first {
            out.push('}');
        }
        out.push(' ');
        write_go_float(&mut out, *v);
        let _ = writeln!(out, " {t}");
    }
    out
}

/// `\`, `"` and newlines escaped, as the text format wants.
pub(super) fn escape_label_value(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A value as Prometheus's exposition writes it: Go's `%g` with the
/// shortest digits, which switches to an exponent below 1e-4 and from 1e6
/// on (`1.5`, `123456`, `1.234567e+06`, `1e-05`); `+Inf`, `-Inf`, `NaN`.
pub fn write_go_float(out: &mut String, v: f64) {
    if v.is_nan() {
        return out.push_str("NaN");
    }
    if v.is_infinite() {
        return out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    }
    if v == 0.0 {
        return out.push('0');
    }
    let e = format!("{v:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let _ = write!(out, "{mantissa}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    } else {
        let _ = write!(out, "{v}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_as_go_formats_them_in_the_exposition() {
        for (v, want) in [
            (1.0, "1"),
            (-0.0, "0"),
            (1.5, "1.5"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (1e6, "1e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5e-300, "-2.5e-300"),
            (f64::INFINITY, "+Inf"),
            (f64::NAN, "NaN"),
        ] {
            let mut s = String::new();
            write_go_float(&mut s, v);
            assert_eq!(s, want, "{v:e}");
        }
    }

    #[test]
    fn families_typed_untyped_with_external_labels_and_empty_instance() {
        let a = Labels::from_pairs([("__name__", "up"), ("job", "x"), ("instance", "h:1")]);
        let b = Labels::from_pairs([("__name__", "aa"), ("job", "x"), ("q", "a\"b")]);
        let samples = vec![(b, (1_000, 2.0)), (a, (2_000, 1.0))];
        let ext = Labels::from_pairs([("region", "eu"), ("job", "global")]);
        assert_eq!(
            render(&samples, &ext),
            "# TYPE aa untyped\naa{job=\"x\",q=\"a\\\"b\",instance=\"\",region=\"eu\"} 2 1000\n\
             # TYPE up untyped\nup{instance=\"h:1\",job=\"x\",region=\"eu\"} 1 2000\n"
        );
    }
}
