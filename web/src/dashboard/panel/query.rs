//! A panel's queries run: each target's expression interpolated and asked
//! over the panel's range (and at its end for instant targets), each series
//! named by its legend format and given its override settings.

use super::{legend_name, named_colour, Frame, PanelTime};
use crate::chart::{self, Line, SeriesStyle};
use crate::dashboard::model::{reduce, Calc, DrawStyle, FieldOptions, Panel, SeriesRef, StackMode, Transformation};
use crate::dashboard::vars::{self, Destination};
use crate::AppState;
use promql::Value;
use storage::Labels;

/// What a panel's queries returned, in query order.
pub(super) struct Series {
    /// The lines, their field options applied (those hidden from the chart included).
    pub(super) lines: Vec<Line>,
    /// Each line's query (`refId`) and labels: tables show them.
    pub(super) meta: Vec<(String, Labels)>,
    /// Each line's resolved field options.
    pub(super) options: Vec<FieldOptions>,
}

/// One target's query as run, and where the query page shows it (Grafana's
/// panel menu, Explore).
pub(in crate::dashboard) struct PanelQueryRun {
    /// The target's `refId`.
    pub(in crate::dashboard) ref_id: String,
    /// Its expression, variables interpolated.
    pub(in crate::dashboard) expr: String,
    /// `/graph` over the same range, end and step.
    pub(in crate::dashboard) href: String,
}

impl PanelQueryRun {
    fn new(ref_id: &str, expr: &str, time: &PanelTime, step: i64) -> PanelQueryRun {
        let q = form_urlencoded::Serializer::new(String::new())
            .append_pair("expr", expr)
            .append_pair("range", &format!("{}s", ((time.to - time.from) / 1000).max(1)))
            .append_pair("end", &format!("{:.3}", time.to as f64 / 1000.0))
            .append_pair("step", &format!("{}s", (step / 1000).max(1)))
            .finish();
        PanelQueryRun { ref_id: ref_id.to_string(), expr: expr.to_string(), href: format!("/graph?{q}") }
    }
}

/// Runs every target of `p`, each expression as run (variables interpolated)
/// kept in `queries`; the first failure (parse or evaluation) is the panel's
/// error, named by its `refId`.
pub(super) fn run(
    st: &AppState,
    p: &Panel,
    f: &Frame,
    time: &PanelTime,
    queries: &mut Vec<PanelQueryRun>,
) -> Result<Series, String> {
    let (from, to) = (time.from, time.to);
    let mut out = Series { lines: Vec::new(), meta: Vec::new(), options: Vec::new() };
    let isolated = super::isolated(f.query, p.id);
    for t in &p.targets {
        let (step, scrape) = time.query_step(t, f);
        let b = f.vars((from, to), step, scrape);
        let expr = vars::interpolate(&t.expr, f.resolved, &b, Destination::Query);
        queries.push(PanelQueryRun::new(&t.ref_id, &expr, time, step));
        let failed = |e: &dyn std::fmt::Display| format!("{}: {e}", t.ref_id);
        let parsed = promql::parse(&expr).map_err(|e| failed(&e))?;
        // The range query's series, then the instant query's (a point at `to`).
        let mut series: Vec<(Labels, Vec<(i64, f64)>)> = Vec::new();
        if t.range {
            // Steps end at `to`, so the newest point is always drawn.
            let start = to - (to - from + step - 1) / step * step;
            match st.timed(crate::QueryKind::Range, |e| e.range(&st.db, &parsed, start, to, step)) {
                Ok(Value::Matrix(m)) => series.extend(m.into_iter().map(|s| (s.labels, s.points))),
                Ok(_) => {}
                Err(e) => return Err(failed(&e)),
            }
        }
        if t.instant {
            match st.timed(crate::QueryKind::Instant, |e| e.instant(&st.db, &parsed, to)) {
                Ok(Value::Vector(v)) => series.extend(v.into_iter().map(|s| (s.labels, vec![(to, s.v)]))),
                Ok(Value::Scalar { v, .. }) => series.push((Labels::empty(), vec![(to, v)])),
                Ok(_) => {}
                Err(e) => return Err(failed(&e)),
            }
        }
        for (labels, mut points) in series {
            let name = vars::interpolate(&legend_name(&t.legend, &labels), f.resolved, &b, Destination::Text);
            let mut opts = p.field_config.resolve(&SeriesRef { name: &name, ref_id: &t.ref_id, points: &points });
            if !isolated.is_empty() {
                let shown = opts.display_name.as_deref().unwrap_or(&name);
                opts.hide_in_viz = !isolated.contains(&shown);
            }
            if opts.negative_y {
                points.iter_mut().for_each(|x| x.1 = -x.1);
            }
            let fixed = match opts.colour_mode.as_str() {
                "palette-classic-by-name" => Some(chart::colour_by_name(&name).to_string()),
                "shades" => Some(super::colour::shade(opts.fixed_colour.as_deref().unwrap_or("gray"), out.lines.len())),
                _ => opts.fixed_colour.as_deref().map(named_colour).filter(|c| c.starts_with('#')),
            };
            out.lines.push(Line {
                name: opts
                    .display_name
                    .as_ref()
                    .map_or(name, |d| vars::interpolate(d, f.resolved, &b, Destination::Text)),
                points,
                colour: fixed,
                style: series_style(&opts),
            });
            out.meta.push((t.ref_id.clone(), labels));
            out.options.push(opts);
        }
    }
    Ok(out)
}

/// A chart's series through the panel's `calculateField` transformations
/// (the ones that apply to series): each adds a series of a value per time
/// (a reducer across the series, or two series or a series and a number
/// combined), named and styled by its field options; `replaceFields` keeps it alone.
pub(super) fn calculate_fields(p: &Panel, series: &mut Series) {
    for t in &p.transformations {
        let Transformation::CalculateField { calc, alias, replace } = t else { continue };
        let mut times: Vec<i64> = series.lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)).collect();
        times.sort_unstable();
        times.dedup();
        let at = |l: &Line, t: i64| l.points.binary_search_by_key(&t, |p| p.0).map_or(f64::NAN, |k| l.points[k].1);
        let by_name = |name: &str| series.lines.iter().find(|l| l.name == name);
        let points: Vec<(i64, f64)> = times
            .iter()
            .map(|&t| {
                let v = match calc {
                    Calc::ReduceRow { reducer, include } => {
                        let row: Vec<(i64, f64)> = series
                            .lines
                            .iter()
                            .filter(|l| include.is_empty() || include.contains(&l.name))
                            .enumerate()
                            .map(|(i, l)| (i as i64, at(l, t)))
                            .collect();
                        reduce(&row, reducer).unwrap_or(f64::NAN)
                    }
                    Calc::Binary { left, op, right } => {
                        let side = |s: &str| s.parse::<f64>().ok().or_else(|| by_name(s).map(|l| at(l, t)));
                        super::frames::binary(side(left).unwrap_or(f64::NAN), *op, side(right).unwrap_or(f64::NAN))
                    }
                };
                (t, v)
            })
            .collect();
        let name = alias.clone().unwrap_or_else(|| calc.default_name());
        let opts = p.field_config.resolve(&SeriesRef { name: &name, ref_id: "", points: &points });
        if *replace {
            series.lines.clear();
            series.meta.clear();
            series.options.clear();
        }
        series.lines.push(Line { name, points, colour: None, style: series_style(&opts) });
        series.meta.push((String::new(), Labels::empty()));
        series.options.push(opts);
    }
}

/// The chart's style of a series from its field options.
fn series_style(o: &FieldOptions) -> SeriesStyle {
    SeriesStyle {
        draw: match o.draw {
            DrawStyle::Line => chart::Draw::Line,
            DrawStyle::Bars => chart::Draw::Bars,
            DrawStyle::Points => chart::Draw::Points,
        },
        interpolation: match o.interpolation.as_str() {
            "smooth" => chart::Interpolation::Smooth,
            "stepAfter" => chart::Interpolation::StepAfter,
            "stepBefore" => chart::Interpolation::StepBefore,
            _ => chart::Interpolation::Linear,
        },
        width: o.line_width,
        dash: o.dash.clone(),
        round: o.dotted,
        fill: o.fill_opacity.round() as u8,
        show_points: match o.show_points.as_str() {
            "always" => Some(true),
            "never" => Some(false),
            _ => None,
        },
        point_size: o.point_size,
        stack: (o.stack != StackMode::None).then(|| o.stack_group.clone()),
        span_nulls: o.span_nulls,
        // The side is chosen with the other series (see `draw`).
        right: false,
        gradient: chart::Gradient::parse(&o.gradient_mode),
        hide_tooltip: o.hide_in_tooltip,
        fill_below_to: o.fill_below_to.clone(),
    }
}
