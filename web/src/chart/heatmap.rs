//! Heatmaps: a grid of cells, a column per time step and a row per bucket
//! (or per series), each cell coloured by its count; the rows labelled on
//! the left, times below, each cell's bucket, time and count on hover.

use super::{time_label, xml_escape, TimeChart};
use plotters::prelude::*;
use std::fmt::Write;

/// The cells of a heatmap: `rows` labels bottom to top, `times` left to
/// right, and `counts[row][column]` (NaN: no cell).
pub struct Cells<'a> {
    /// Each row's label, lowest row first (a bucket's upper bound, a series' name).
    pub rows: &'a [String],
    /// Each column's time (ms), oldest first.
    pub times: &'a [i64],
    /// Counts by row, then column.
    pub counts: &'a [Vec<f64>],
}

/// Draws `cells` in the frame `c` (its unit unused), each cell in
/// `colour(count)` (`#rrggbb`).
pub fn heatmap(cells: &Cells, c: &TimeChart, colour: impl Fn(f64) -> String) -> String {
    let mut svg = String::new();
    let mut rects = String::new();
    let (fg, _) = c.theme.colours();
    let n_rows = cells.rows.len().max(1);
    let span = (c.end - c.start).max(1);
    let plot_x: (i32, i32);
    {
        let root = SVGBackend::with_string(&mut svg, (c.width, c.height)).into_drawing_area();
        c.theme.fill(&root);
        let chart = ChartBuilder::on(&root)
            .margin(8)
            .margin_right(28)
            .x_label_area_size(22)
            .y_label_area_size(64)
            .build_cartesian_2d(c.start..c.end.max(c.start + 1), 0f64..n_rows as f64);
        let Ok(mut chart) = chart else { return String::new() };
        let labels = |y: &f64| {
            // A row's label (a bucket's upper bound) at its top edge, as Grafana labels buckets.
            let k = y.round();
            if (y - k).abs() < 1e-9 && k >= 1.0 {
                cells.rows.get(k as usize - 1).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        let _ = chart
            .configure_mesh()
            .disable_mesh()
            .axis_style(fg.mix(0.18))
            .label_style(("sans-serif", 11).into_font().color(&fg))
            .x_labels(((c.width / 110) as usize).max(2))
            .y_labels((n_rows + 1).min((c.height / 14) as usize).max(2))
            .x_label_formatter(&|x| time_label(*x, span))
            .y_label_formatter(&labels)
            .draw();
        // Cells span from their time to the next (the last one a step).
        for (r, row) in cells.counts.iter().enumerate() {
            for (k, count) in row.iter().enumerate().filter(|(_, v)| v.is_finite()) {
                let t0 = cells.times[k];
                let t1 = cells.times.get(k + 1).copied().unwrap_or(t0 + c.step);
                let (x0, y0) = chart.backend_coord(&(t0, (r + 1) as f64));
                let (x1, y1) = chart.backend_coord(&(t1, r as f64));
                let _ = write!(
                    rects,
                    r#"<rect class="cell" x="{x0}" y="{y0}" width="{}" height="{}" fill="{}"><title>{}
{}: {count}</title></rect>"#,
                    (x1 - x0).max(1),
                    (y1 - y0).max(1),
                    colour(*count),
                    time_label(t0, 0),
                    xml_escape(&cells.rows[r])
                );
            }
        }
        let (xs, _) = chart.plotting_area().get_pixel_range();
        plot_x = (xs.start, xs.end);
        let _ = root.present();
    }
    if let Some(at) = svg.rfind("</svg>") {
        svg.insert_str(at, &rects);
    }
    if let Some(end) = svg.starts_with("<svg ").then(|| svg.find('>')).flatten() {
        let times = format!(" data-start=\"{}\" data-end=\"{}\"", c.start, c.end);
        svg.insert_str(end, &format!(" data-plot-left=\"{}\" data-plot-right=\"{}\"{times}", plot_x.0, plot_x.1));
    }
    c.theme.finish(svg)
}

#[cfg(test)]
mod tests {
    use super::super::Theme;
    use super::*;

    #[test]
    fn cells_are_drawn_per_bucket_and_time_with_escaped_titles() {
        let rows = vec!["0.1".to_string(), "<1>".to_string()];
        let times = vec![0, 10, 20];
        let counts = vec![vec![1.0, 2.0, f64::NAN], vec![0.0, 5.0, 1.0]];
        let c = TimeChart {
            width: 300,
            height: 120,
            start: 0,
            end: 30,
            step: 10,
            unit: "",
            decimals: None,
            right: None,
            bounds: Default::default(),
            theme: Theme::Light,
            marks: &[],
            thresholds: Default::default(),
            scheme: None,
            tooltip: Default::default(),
            axis_labels: ("", ""),
        };
        let svg = heatmap(&Cells { rows: &rows, times: &times, counts: &counts }, &c, |v| format!("#{:06x}", v as u32));
        assert_eq!(svg.matches("<rect class=\"cell\"").count(), 5, "no cell where the count is missing: {svg}");
        assert!(svg.contains("fill=\"#000005\"") && svg.contains("&lt;1&gt;: 5") && !svg.contains("<1>"), "{svg}");
        assert!(
            svg.contains("\n0.1\n</text>") && svg.contains("\n&lt;1&gt;\n</text>"),
            "each row's bound on the axis: {svg}"
        );
    }
}
