//! Annotation queries turned into marks on the time series panels.

use super::model;
use super::panel::{legend_name, named_colour, panel_duration, Frame};
use super::vars::{self, Destination};
use crate::chart;
use crate::AppState;
use promql::Value;

/// The dashboard's enabled annotation queries over `[from, to]` as marks,
/// as Grafana turns them into events: each series' non-zero samples, those
/// no more than a step apart joined into one span; titled by `titleFormat`
/// (else the annotation's name), `textFormat` (else the series) and the
/// values of `tagKeys`. A query that fails is named in the second list.
pub(super) fn annotation_marks(st: &AppState, d: &model::Dashboard, f: &Frame) -> (Vec<chart::Mark>, Vec<String>) {
    let (mut marks, mut errors) = (Vec::new(), Vec::new());
    let (from, to) = (f.from, f.to);
    for a in d.annotations.iter().filter(|a| a.enable) {
        let b = f.vars((from, to), f.scrape_ms, f.scrape_ms);
        let step = panel_duration(&vars::interpolate(&a.step, f.resolved, &b, Destination::Text))
            .unwrap_or(60_000)
            .max((to - from) / 11_000 + 1);
        let b = f.vars((from, to), step, f.scrape_ms);
        let text = |t: &str| vars::interpolate(t, f.resolved, &b, Destination::Text);
        let expr = vars::interpolate(&a.expr, f.resolved, &b, Destination::Query);
        let result = promql::parse(&expr).map_err(|e| e.to_string()).and_then(|e| {
            let start = to - (to - from) / step * step;
            st.timed(crate::QueryKind::Range, |engine| engine.range(&st.db, &e, start, to, step))
                .map_err(|e| e.to_string())
        });
        let series = match result {
            Ok(Value::Matrix(m)) => m,
            Ok(_) => Vec::new(),
            Err(e) => {
                errors.push(format!("annotation {:?}: {e}", a.name));
                continue;
            }
        };
        let colour = named_colour(&a.colour);
        for s in series {
            let title = if a.title.is_empty() { text(&a.name) } else { text(&legend_name(&a.title, &s.labels)) };
            let body = text(&legend_name(&a.text, &s.labels));
            let tags: Vec<&str> =
                text(&a.tag_keys).split(',').filter_map(|k| s.labels.get(k.trim())).collect::<Vec<_>>();
            let mut label = format!("{title}\n{body}");
            if !tags.is_empty() {
                label.push_str(&format!("\ntags: {}", tags.join(", ")));
            }
            let mut open: Option<chart::Mark> = None;
            for &(t, v) in s.points.iter().filter(|p| p.1 != 0.0 && !p.1.is_nan()) {
                let t = if a.value_for_time { v as i64 } else { t };
                match &mut open {
                    Some(m) if t - m.end <= step && t >= m.end => m.end = t,
                    _ => {
                        marks.extend(open.take());
                        open = Some(chart::Mark { start: t, end: t, colour: colour.clone(), title: label.clone() });
                    }
                }
            }
            marks.extend(open);
        }
    }
    (marks, errors)
}
