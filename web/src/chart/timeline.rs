//! State timelines: a band per series across the time axis, cut where its
//! value changes, each stretch in its state's colour and, where it is wide
//! enough, labelled with the state's text (as Grafana's state timeline).

use super::{time_label, xml_escape, TimeChart};
use plotters::prelude::*;
use std::fmt::Write;

/// One stretch of a state: `[start, end)` in ms, its colour (`#rrggbb`) and text.
pub struct Stretch {
    /// Its start (ms).
    pub start: i64,
    /// Its end (ms).
    pub end: i64,
    /// Its colour.
    pub colour: String,
    /// Its state as shown.
    pub text: String,
}

/// Draws one band per `(name, stretches)`, the first at the top.
pub fn state_timeline(rows: &[(String, Vec<Stretch>)], c: &TimeChart) -> String {
    let mut svg = String::new();
    let mut bands = String::new();
    let (fg, _) = c.theme.colours();
    let n = rows.len().max(1);
    let span = (c.end - c.start).max(1);
    {
        let root = SVGBackend::with_string(&mut svg, (c.width, c.height)).into_drawing_area();
        c.theme.fill(&root);
        let chart = ChartBuilder::on(&root)
            .margin(8)
            .margin_right(28)
            .x_label_area_size(22)
            .y_label_area_size(96)
            .build_cartesian_2d(c.start..c.end.max(c.start + 1), 0f64..n as f64);
        let Ok(mut chart) = chart else { return String::new() };
        // Each band's name at its middle (bands from the top: row 0 is highest).
        let name = |y: &f64| {
            let k = y - 0.5;
            if (k - k.round()).abs() < 1e-9 && k >= 0.0 {
                let row = n - 1 - k.round() as usize;
                rows.get(row).map(|r| r.0.chars().take(14).collect()).unwrap_or_default()
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
            .y_labels(n * 2 + 1)
            .y_label_formatter(&name)
            .x_label_formatter(&|x| time_label(*x, span))
            .draw();
        for (r, (series, stretches)) in rows.iter().enumerate() {
            let top = (n - r) as f64 - 0.1;
            let bottom = (n - r - 1) as f64 + 0.1;
            for s in stretches {
                let (x0, y0) = chart.backend_coord(&(s.start.max(c.start), top));
                let (x1, y1) = chart.backend_coord(&(s.end.min(c.end), bottom));
                let (w, h) = ((x1 - x0).max(1), (y1 - y0).max(1));
                let text = xml_escape(&s.text);
                let _ = write!(
                    bands,
                    r#"<rect class="state" x="{x0}" y="{y0}" width="{w}" height="{h}" fill="{}" fill-opacity="0.85"><title>{}
{text}</title></rect>"#,
                    s.colour,
                    xml_escape(series)
                );
                // The text where it fits (about 7 px a character).
                if (w as usize) > 7 * s.text.chars().count() + 8 && h > 12 {
                    let _ = write!(
                        bands,
                        r##"<text x="{}" y="{}" text-anchor="middle" dominant-baseline="middle" font-family="sans-serif" font-size="11" fill="#111">{text}</text>"##,
                        x0 + w / 2,
                        y0 + h / 2
                    );
                }
            }
        }
        let _ = root.present();
    }
    if let Some(at) = svg.rfind("</svg>") {
        svg.insert_str(at, &bands);
    }
    c.theme.finish(svg)
}

#[cfg(test)]
mod tests {
    use super::super::Theme;
    use super::*;

    #[test]
    fn bands_per_series_stretches_per_state_labels_where_they_fit() {
        let stretch =
            |start, end, colour: &str, text: &str| Stretch { start, end, colour: colour.into(), text: text.into() };
        let rows = vec![
            ("api".to_string(), vec![stretch(0, 600, "#73BF69", "UP"), stretch(600, 1000, "#F2495C", "DOWN")]),
            ("<db>".to_string(), vec![stretch(0, 1000, "#73BF69", "UP")]),
        ];
        let c = TimeChart {
            width: 600,
            height: 120,
            start: 0,
            end: 1000,
            step: 100,
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
        let svg = state_timeline(&rows, &c);
        assert_eq!(svg.matches("<rect class=\"state\"").count(), 3, "{svg}");
        assert!(svg.contains(">DOWN</text>") && svg.contains("fill=\"#F2495C\""), "{svg}");
        assert!(svg.contains("&lt;db&gt;") && !svg.contains("<db>"), "{svg}");
    }
}
