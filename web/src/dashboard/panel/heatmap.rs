//! Heatmap panels as Grafana draws Prometheus data: series with an `le`
//! label are the cumulative buckets of a histogram, turned into counts per
//! bucket (each bound's value less the one below it) at each time; other
//! series are drawn a row each. Cells are coloured along the panel's scheme
//! (Grafana's default: Oranges, on an exponential scale of exponent 0.5).

use super::colour::gradient;
use super::{Frame, PanelTime};
use crate::chart::{self, Cells, Line, TimeChart};
use crate::dashboard::model::Panel;
use storage::Labels;

/// d3's nine-class sequential schemes Grafana's heatmap offers, light to dark.
fn scheme(name: &str) -> &'static [(u8, u8, u8)] {
    match name {
        "Blues" => {
            &[(0xf7, 0xfb, 0xff), (0xc6, 0xdb, 0xef), (0x6b, 0xae, 0xd6), (0x21, 0x71, 0xb5), (0x08, 0x30, 0x6b)]
        }
        "Greens" => {
            &[(0xf7, 0xfc, 0xf5), (0xc7, 0xe9, 0xc0), (0x74, 0xc4, 0x76), (0x23, 0x8b, 0x45), (0x00, 0x44, 0x1b)]
        }
        "Reds" => &[(0xff, 0xf5, 0xf0), (0xfc, 0xbb, 0xa1), (0xfb, 0x6a, 0x4a), (0xcb, 0x18, 0x1d), (0x67, 0x00, 0x0d)],
        "Purples" => {
            &[(0xfc, 0xfb, 0xfd), (0xda, 0xda, 0xeb), (0x9e, 0x9a, 0xc8), (0x6a, 0x51, 0xa3), (0x3f, 0x00, 0x7d)]
        }
        "Greys" => {
            &[(0xff, 0xff, 0xff), (0xd9, 0xd9, 0xd9), (0x96, 0x96, 0x96), (0x52, 0x52, 0x52), (0x00, 0x00, 0x00)]
        }
        _ => &[(0xff, 0xf5, 0xeb), (0xfd, 0xd0, 0xa2), (0xfd, 0x8d, 0x3c), (0xd9, 0x48, 0x01), (0x7f, 0x27, 0x04)],
    }
}

/// A bucket's upper bound from its `le` label (`+Inf` included).
fn bound(le: &str) -> Option<f64> {
    match le.trim() {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        v => v.parse().ok().filter(|b: &f64| !b.is_nan()),
    }
}

/// The heatmap's cells: by bucket when the series are buckets, else a row per series.
pub(super) fn cells(lines: &[Line], meta: &[(String, Labels)], unit: &str) -> (Vec<String>, Vec<i64>, Vec<Vec<f64>>) {
    let mut times: Vec<i64> = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)).collect();
    times.sort_unstable();
    times.dedup();
    let column = |t: i64| times.binary_search(&t).ok();
    let les: Vec<Option<f64>> = meta.iter().map(|(_, l)| l.get("le").and_then(bound)).collect();
    if lines.is_empty() || les.iter().any(Option::is_none) {
        let rows = lines.iter().map(|l| l.name.clone()).collect();
        let counts = lines
            .iter()
            .map(|l| {
                let mut row = vec![f64::NAN; times.len()];
                l.points.iter().filter_map(|p| Some((column(p.0)?, p.1))).for_each(|(k, v)| row[k] = v);
                row
            })
            .collect();
        return (rows, times, counts);
    }
    // Buckets by bound, lowest first; series of one bound (not summed by the query) add up.
    let mut bounds: Vec<f64> = les.iter().flatten().copied().collect();
    bounds.sort_by(f64::total_cmp);
    bounds.dedup();
    let mut cumulative = vec![vec![f64::NAN; times.len()]; bounds.len()];
    for (l, le) in lines.iter().zip(&les) {
        let Some(b) = le.and_then(|le| bounds.iter().position(|x| *x == le)) else { continue };
        for (k, v) in l.points.iter().filter_map(|p| Some((column(p.0)?, p.1))) {
            let cell = &mut cumulative[b][k];
            *cell = if cell.is_nan() { v } else { *cell + v };
        }
    }
    let counts = (0..bounds.len())
        .map(|b| {
            (0..times.len())
                .map(|k| match b.checked_sub(1).map(|below| cumulative[below][k]) {
                    Some(below) if below.is_finite() => (cumulative[b][k] - below).max(0.0),
                    _ => cumulative[b][k],
                })
                .collect()
        })
        .collect();
    let rows = bounds
        .iter()
        .map(|b| if b.is_infinite() { "+Inf".to_string() } else { crate::units::format(*b, unit, None) })
        .collect();
    (rows, times, counts)
}

/// The panel's heatmap as SVG.
pub(super) fn draw(
    p: &Panel,
    f: &Frame,
    time: &PanelTime,
    lines: &[Line],
    meta: &[(String, Labels)],
    height: u32,
) -> String {
    let (rows, times, counts) = cells(lines, meta, &p.unit);
    let max = counts.iter().flatten().copied().filter(|v| v.is_finite()).fold(0.0, f64::max);
    let stops = scheme(&p.heatmap_scheme);
    let colour = |v: f64| gradient(stops, if max > 0.0 { (v / max).sqrt() } else { 0.0 });
    let frame = TimeChart {
        width: time.width_px as u32,
        height,
        start: time.from,
        end: time.to,
        step: time.step,
        unit: &p.unit,
        decimals: p.decimals,
        right: None,
        bounds: Default::default(),
        theme: f.theme,
        marks: &[],
        thresholds: Default::default(),
        scheme: None,
        tooltip: Default::default(),
        axis_labels: ("", ""),
    };
    chart::heatmap(&Cells { rows: &rows, times: &times, counts: &counts }, &frame, colour)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(le: &str, points: &[(i64, f64)]) -> (Line, (String, Labels)) {
        let line = Line { name: le.into(), points: points.to_vec(), ..Default::default() };
        (line, ("A".into(), Labels::from_pairs([("le", le)])))
    }

    #[test]
    fn cumulative_buckets_become_counts_per_bucket_lowest_first() {
        let (lines, meta): (Vec<Line>, Vec<_>) = [
            bucket("+Inf", &[(0, 10.0), (10, 12.0)]),
            bucket("0.5", &[(0, 7.0), (10, 7.0)]),
            bucket("0.1", &[(0, 4.0), (10, 5.0)]),
        ]
        .into_iter()
        .unzip();
        let (rows, times, counts) = cells(&lines, &meta, "s");
        assert_eq!(rows, ["100 ms", "500 ms", "+Inf"]);
        assert_eq!(times, [0, 10]);
        assert_eq!(counts, [vec![4.0, 5.0], vec![3.0, 2.0], vec![3.0, 5.0]]);
    }

    #[test]
    fn series_without_le_are_a_row_each() {
        let lines = vec![Line { name: "a".into(), points: vec![(0, 1.0), (20, 2.0)], ..Default::default() }];
        let meta = vec![("A".to_string(), Labels::from_pairs([("job", "x")]))];
        let (rows, times, counts) = cells(&lines, &meta, "");
        assert_eq!((rows, times), (vec!["a".to_string()], vec![0, 20]));
        assert_eq!(counts, [vec![1.0, 2.0]]);
    }
}
