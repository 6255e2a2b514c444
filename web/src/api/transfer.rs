//! Moving samples in and out over HTTP: POST /api/v1/import/openmetrics
//! does what `vigil import` does, into the running store; GET
//! /api/v1/export writes the matching samples as OpenMetrics text with
//! timestamps, which that import (or `vigil import`) reads back sample for
//! sample. Staleness markers are left out of exports: the text formats
//! cannot tell them from NaN.

use super::{bad, federate::write_go_float, required_match_params, time_range, ApiError, ErrorType, Params};
use crate::{AppState, ImportFailure};
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::BTreeMap;
use storage::{is_stale_nan, Labels, METRIC_NAME};

/// Bytes of text gathered before they are sent on.
const CHUNK: usize = 256 << 10;

/// POST /api/v1/import/openmetrics: the body (OpenMetrics or Prometheus text
/// with timestamps, gzip too) is parsed whole first; a bad line answers 400
/// naming it, and nothing of the body is written.
pub async fn import(
    State(st): State<AppState>,
    super::params::Body(body): super::params::Body,
) -> Result<Response, ApiError> {
    let control = st.control.clone();
    let outcome = tokio::task::spawn_blocking(move || control.import(body.to_vec()))
        .await
        .map_err(|e| ApiError(ErrorType::Internal, e.to_string()))?;
    match outcome {
        Ok(r) => Ok(super::success(json!({
            "series": r.series,
            "samples": r.samples,
            "rejected": {
                "noTimestamp": r.no_timestamp,
                "duplicate": r.duplicate,
                "alreadyStored": r.already_stored,
            },
        }))),
        Err(ImportFailure::BadInput(msg)) => Err(bad(msg)),
        Err(ImportFailure::Store(msg)) => Err(ApiError(ErrorType::Internal, msg)),
    }
}

/// GET|POST /api/v1/export?match[]=…&start=…&end=…: OpenMetrics text,
/// streamed series by series, ending with `# EOF`.
pub async fn export(
    State(st): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    super::params::Body(body): super::params::Body,
) -> Result<Response, ApiError> {
    let p = Params::new(q.as_deref(), &headers, &body)?;
    let sets = required_match_params(&p)?;
    let (start, end) = time_range(&p)?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    let db = st.db.clone();
    tokio::task::spawn_blocking(move || {
        // Each series once, grouped by metric name as OpenMetrics wants families.
        let mut series: BTreeMap<(String, Labels), storage::SelectedSeries> = BTreeMap::new();
        for m in &sets {
            for s in db.select_series(m, start, end) {
                let name = s.labels.get(METRIC_NAME).unwrap_or("").to_string();
                series.entry((name, s.labels.clone())).or_insert(s);
            }
        }
        let mut out = String::with_capacity(CHUNK + 4096);
        for ((name, labels), s) in &series {
            let mut prefix = name.clone();
            write_labels(&mut prefix, labels);
            for x in s.samples().filter(|x| !is_stale_nan(x.v)) {
                out.push_str(&prefix);
                out.push(' ');
                if x.v == 0.0 && x.v.is_sign_negative() {
                    out.push_str("-0"); // kept, so that an import reads back the same bits
                } else {
                    write_go_float(&mut out, x.v);
                }
                out.push(' ');
                // OpenMetrics timestamps are seconds, written as the API writes them: `1700000000.123`.
                super::json::timestamp(&mut out, x.t);
                out.push('\n');
                if out.len() >= CHUNK && tx.blocking_send(Bytes::from(std::mem::take(&mut out))).is_err() {
                    return; // the client went away
                }
            }
        }
        out.push_str("# EOF\n");
        let _ = tx.blocking_send(Bytes::from(out));
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, std::convert::Infallible>(b), rx))
    });
    Ok((
        [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        Body::from_stream(stream),
    )
        .into_response())
}

/// `{a="1",b="2"}` without the metric name (nothing when no other label).
fn write_labels(out: &mut String, labels: &Labels) {
    let mut first = true;
    for l in labels.iter().filter(|l| l.name != METRIC_NAME) {
        out.push(if first { '{' } else { ',' });
        first = false;
        out.push_str(l.name);
        out.push_str("=\"");
        super::federate::escape_label_value(out, l.value);
        out.push('"');
    }
    if !first {
        out.push('}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_and_labels_as_openmetrics_writes_them() {
        let mut s = String::new();
        crate::api::json::timestamp(&mut s, 1_700_000_000_120);
        s.push(' ');
        crate::api::json::timestamp(&mut s, -1_500);
        assert_eq!(s, "1700000000.120 -1.500");
        let mut s = String::from("m");
        write_labels(&mut s, &Labels::from_pairs([("__name__", "m"), ("a", "x\"y\\z\n")]));
        assert_eq!(s, "m{a=\"x\\\"y\\\\z\\n\"}");
    }
}
