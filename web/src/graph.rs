//! GET /graph: the expression browser. A query box with range, end and step;
//! the instant answer as a table and the range answer as a chart. All state
//! is in the URL, so a link reproduces the view; no script is needed.

use crate::chart::{self, Line, TimeChart};
use crate::html::{render, series_name};
use crate::AppState;
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use promql::Value;

/// Ranges offered in the picker.
pub const RANGES: [&str; 7] = ["5m", "15m", "1h", "6h", "24h", "2d", "7d"];
/// Steps a default step is rounded up to.
const NICE_STEPS_S: [i64; 17] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 86400];
/// Most rows shown in the table, and lines in the chart.
const MAX_ROWS: usize = 1000;
const MAX_LINES: usize = 100;

struct Row {
    labels: String,
    value: String,
}

struct LegendEntry {
    colour: &'static str,
    name: String,
}

/// A parse error with the faulty line and a caret under its column.
struct Caret {
    line: String,
    pad: String,
}

#[derive(Template)]
#[template(path = "graph.html")]
struct GraphPage {
    expr: String,
    range: String,
    ranges: Vec<&'static str>,
    end: String,
    step: String,
    error: String,
    caret: Option<Caret>,
    rows: Vec<Row>,
    rows_cut: usize,
    svg: String,
    legend: Vec<LegendEntry>,
    lines_cut: usize,
    warnings: Vec<String>,
    evaluated_at: String,
}

/// A default step: about 250 points over the range, rounded up to a nice step.
fn default_step(range_ms: i64) -> i64 {
    let want = ((range_ms + 249_999) / 250_000).max(1);
    NICE_STEPS_S.iter().copied().find(|s| *s >= want).unwrap_or(want) * 1000
}

/// `GET /graph`: the query page, its answer as a table and a chart.
pub async fn graph(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let params: Vec<(String, String)> = q
        .as_deref()
        .map(|q| form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        .unwrap_or_default();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    let expr = get("expr");
    let range = Some(get("range")).filter(|r| !r.is_empty()).unwrap_or_else(|| "1h".into());
    let mut page = GraphPage {
        expr: expr.clone(),
        range: range.clone(),
        ranges: RANGES.to_vec(),
        end: get("end"),
        step: get("step"),
        error: String::new(),
        caret: None,
        rows: Vec::new(),
        rows_cut: 0,
        svg: String::new(),
        legend: Vec::new(),
        lines_cut: 0,
        warnings: Vec::new(),
        evaluated_at: String::new(),
    };
    if expr.is_empty() {
        return render(&page);
    }
    let (range_ms, end, step) = match times(&range, &page.end, &page.step) {
        Ok(t) => t,
        Err(e) => {
            page.error = e;
            return render(&page);
        }
    };
    let parsed = match promql::parse(&expr) {
        Ok(e) => e,
        Err(e) => {
            let line = expr.lines().nth(e.line.saturating_sub(1)).unwrap_or("").to_string();
            page.caret = Some(Caret { line, pad: " ".repeat(e.col.saturating_sub(1)) });
            page.error = e.to_string();
            return render(&page);
        }
    };
    page.evaluated_at = crate::time::format_rfc3339(end);
    let (st, _cancel) = st.cancellable();
    let start = end - range_ms;
    let is_range = matches!(parsed.value_type(), promql::ValueType::Scalar | promql::ValueType::Vector);
    let answer = tokio::task::spawn_blocking(move || {
        let instant = st.timed(crate::QueryKind::Instant, |e| e.instant_annotated(&st.db, &parsed, end));
        let range = is_range
            .then(|| st.timed(crate::QueryKind::Range, |e| e.range_annotated(&st.db, &parsed, start, end, step)));
        (instant, range)
    })
    .await;
    let Ok((instant, range_answer)) = answer else {
        page.error = "the query stopped unexpectedly".into();
        return render(&page);
    };
    match instant {
        Err(e) => page.error = e.to_string(),
        Ok((v, a)) => {
            page.warnings.extend(a.warnings.iter().chain(&a.infos).cloned());
            (page.rows, page.rows_cut) = table_rows(v);
        }
    }
    match range_answer {
        Some(Err(e)) if page.error.is_empty() => page.error = e.to_string(),
        Some(Ok((Value::Matrix(m), _))) => {
            page.lines_cut = m.len().saturating_sub(MAX_LINES);
            (page.svg, page.legend) = chart_of(m, start, end, step);
        }
        _ => {}
    }
    render(&page)
}

/// The range, end and step of the page's form, or the error to show: the
/// range a positive duration, the end now by default, the step by default
/// about 250 points and never more than 11,000.
fn times(range: &str, end: &str, step: &str) -> Result<(i64, i64, i64), String> {
    let range_ms = match promql::duration::parse_duration(range) {
        Ok(ms) if ms > 0 => ms,
        _ => return Err(format!("invalid range {range:?}: use a duration such as 1h")),
    };
    let end = if end.is_empty() {
        storage::model::timestamp::now_ms()
    } else {
        crate::time::parse_time(end).map_err(|e| format!("invalid end: {e}"))?
    };
    let step = if step.is_empty() {
        default_step(range_ms)
    } else {
        match crate::time::parse_duration_param(step) {
            Ok(s) if s > 0 && range_ms / s <= 11_000 => s,
            Ok(_) => return Err("invalid step: it must be positive and give at most 11,000 points".into()),
            Err(e) => return Err(format!("invalid step: {e}")),
        }
    };
    Ok((range_ms, end, step))
}

/// The table of an instant answer (at most [`MAX_ROWS`] rows) and how many
/// rows were left out.
fn table_rows(v: Value) -> (Vec<Row>, usize) {
    match v {
        Value::Scalar { v, .. } => (vec![Row { labels: "scalar".into(), value: promql::format_value(v) }], 0),
        Value::String { s, .. } => (vec![Row { labels: "string".into(), value: s }], 0),
        Value::Vector(v) => {
            let rows = v
                .iter()
                .take(MAX_ROWS)
                .map(|s| Row { labels: series_name(&s.labels), value: promql::format_value(s.v) })
                .collect();
            (rows, v.len().saturating_sub(MAX_ROWS))
        }
        Value::Matrix(m) => {
            let rows = m
                .iter()
                .take(MAX_ROWS)
                .map(|s| Row {
                    labels: series_name(&s.labels),
                    value: s
                        .points
                        .iter()
                        .map(|(t, v)| format!("{} @{}", promql::format_value(*v), *t as f64 / 1000.0))
                        .collect::<Vec<_>>()
                        .join("\n"),
                })
                .collect();
            (rows, m.len().saturating_sub(MAX_ROWS))
        }
    }
}

/// The chart of a range answer (its first [`MAX_LINES`] series) and its legend.
fn chart_of(m: Vec<promql::Series>, start: i64, end: i64, step: i64) -> (String, Vec<LegendEntry>) {
    let lines: Vec<Line> = m
        .into_iter()
        .take(MAX_LINES)
        .map(|s| Line { name: series_name(&s.labels), points: s.points, colour: None, style: Default::default() })
        .collect();
    let legend =
        lines.iter().enumerate().map(|(i, l)| LegendEntry { colour: chart::colour(i), name: l.name.clone() }).collect();
    let c = TimeChart {
        width: 1200,
        height: 360,
        start,
        end,
        step,
        unit: "",
        decimals: None,
        right: None,
        bounds: Default::default(),
        theme: chart::Theme::Page,
        marks: &[],
        thresholds: Default::default(),
        scheme: None,
        // The query page lists every series at the pointer, largest first.
        tooltip: chart::Tooltip { mode: chart::TooltipMode::Multi, sort: chart::TooltipSort::Desc },
        axis_labels: ("", ""),
    };
    (chart::time_series(&lines, &c), legend)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_steps_are_nice() {
        assert_eq!(default_step(3_600_000), 15_000);
        assert_eq!(default_step(300_000), 2_000);
        assert_eq!(default_step(7 * 86_400_000), 3_600_000);
    }
}
