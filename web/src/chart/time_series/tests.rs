//! The time series chart: ranges, styles, axes, layers and hover columns.

use super::super::{bars, gauge, Axis, Bar, BarMode, Bounds, Gauge, Theme, Thresholds, Tooltip};
use super::*;

fn frame(width: u32, end: i64, step: i64, theme: Theme) -> TimeChart<'static> {
    TimeChart {
        width,
        height: 100,
        start: 0,
        end,
        step,
        unit: "",
        decimals: None,
        right: None,
        bounds: Default::default(),
        theme,
        marks: &[],
        thresholds: Default::default(),
        scheme: None,
        tooltip: Default::default(),
        axis_labels: ("", ""),
    }
}

fn line(name: &str, points: Vec<(i64, f64)>, style: SeriesStyle) -> Line {
    Line { name: name.into(), points, colour: None, style }
}

/// The points of path data written by `write_path` (absolute).
fn path_points(d: &str) -> Vec<(i32, i32)> {
    let mut nums: Vec<i32> = Vec::new();
    let mut cur = String::new();
    for c in d.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() || (c == '-' && cur.is_empty()) {
            cur.push(c);
            continue;
        }
        if !cur.is_empty() {
            nums.push(cur.parse().unwrap());
            cur.clear();
        }
        if c == '-' {
            cur.push(c);
        }
    }
    let mut pts = vec![(nums[0], nums[1])];
    for rel in nums[2..].chunks(2) {
        let last = pts[pts.len() - 1];
        pts.push((last.0 + rel[0], last.1 + rel[1]));
    }
    pts
}

#[test]
fn paths_are_relative_moves_without_repeats() {
    assert_eq!(path_points("M10 20l2-2-1 7 3 0Z"), [(10, 20), (12, 18), (11, 25), (14, 25)]);
    let mut out = String::new();
    write_path(&mut out, &[(10, 20), (12, 18), (12, 18), (11, 25), (14, 25)], true);
    assert_eq!(out, "M10 20l2-2-1 7 3 0Z");
}

#[test]
fn lines_break_at_gaps_and_nan() {
    let p: Vec<(i64, f64)> = vec![(0, 1.0), (10, 2.0), (20, f64::NAN), (30, 3.0), (40, 4.0), (100, 5.0), (110, 6.0)];
    let segs: Vec<Vec<i64>> = segments(&p, 10).iter().map(|s| s.iter().map(|x| x.0).collect()).collect();
    assert_eq!(segs, vec![vec![0, 10], vec![30, 40], vec![100, 110]]);
}

#[test]
fn span_nulls_bridges_gaps_up_to_its_length() {
    let p = vec![(0, 1.0), (10, 2.0), (20, f64::NAN), (30, 3.0), (40, 4.0), (100, 5.0), (110, 6.0)];
    let drawn = |span| {
        let style = SeriesStyle { span_nulls: span, ..SeriesStyle::default() };
        time_series(&[line("a", p.clone(), style)], &frame(300, 110, 10, Theme::Light))
            .matches("<path class=\"line\"")
            .count()
    };
    assert_eq!(drawn(None), 3, "broken at the NaN and at the long gap");
    assert_eq!(drawn(Some(20)), 2, "the NaN bridged, the 60 ms gap not");
    assert_eq!(drawn(Some(i64::MAX)), 1, "spanNulls: true joins everything");
}

#[test]
fn a_chart_is_svg_with_escaped_hover_titles() {
    let points = (0..60).map(|k| (k * 15_000, (k % 7) as f64)).collect();
    let lines = vec![line("up{job=\"<script>alert(1)</script>\"}", points, SeriesStyle::default())];
    let c = TimeChart { width: 600, height: 200, unit: "s", ..frame(600, 59 * 15_000, 15_000, Theme::Light) };
    let svg = time_series(&lines, &c);
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{}", &svg[..100.min(svg.len())]);
    assert!(svg.contains("<path class=\"line\" fill=\"none\" stroke=\"#7EB26D\" d=\"M"), "a line is drawn");
    assert!(!svg.contains("<script>"), "label text escaped");
    assert!(svg.contains("&lt;script&gt;"));
}

#[test]
fn series_stack_within_their_group_only() {
    let stacked = |g: &str| SeriesStyle { stack: Some(g.into()), ..SeriesStyle::default() };
    let lines = vec![
        line("a", vec![(0, 1.0), (10, 2.0), (20, f64::NAN)], stacked("A")),
        line("b", vec![(0, 3.0), (10, 4.0), (20, 5.0)], stacked("A")),
        line("total", vec![(0, 4.0), (10, 6.0), (20, 5.0)], SeriesStyle::default()),
        line("c", vec![(0, 7.0)], stacked("B")),
    ];
    let (tops, bottoms) = stack_lines(&lines);
    assert_eq!(tops[1][..2], [(0, 4.0), (10, 6.0)]);
    assert_eq!(bottoms[1].as_deref(), Some(&[(0, 1.0), (10, 2.0), (20, 0.0)][..]));
    assert_eq!(tops[1][2], (20, 5.0), "a gap below stacks on zero");
    assert_eq!((tops[2].clone(), bottoms[2].clone()), (lines[2].points.clone(), None), "an unstacked total");
    assert_eq!(tops[3], [(0, 7.0)], "another group starts from zero");
}

#[test]
fn each_series_keeps_its_own_width_dashes_fill_and_draw_style() {
    let lines = vec![
        line("filled", vec![(0, 1.0), (10, 2.0)], SeriesStyle { fill: 30, ..SeriesStyle::default() }),
        line(
            "dashed",
            vec![(0, 3.0), (10, 4.0)],
            SeriesStyle { width: 2.0, dash: vec![10.0, 10.0], ..SeriesStyle::default() },
        ),
        line(
            "dotted",
            vec![(0, 2.0), (10, 2.5)],
            SeriesStyle { dash: vec![0.0, 10.0], round: true, ..SeriesStyle::default() },
        ),
        line(
            "bars",
            vec![(0, 1.0), (10, 1.5), (20, 1.0)],
            SeriesStyle { draw: Draw::Bars, fill: 100, ..SeriesStyle::default() },
        ),
        line(
            "points",
            vec![(0, 0.5), (10, 0.7)],
            SeriesStyle { draw: Draw::Points, point_size: 6.0, ..SeriesStyle::default() },
        ),
        line("no line", vec![(0, 0.2), (10, 0.3)], SeriesStyle { width: 0.0, ..SeriesStyle::default() }),
    ];
    let svg = time_series(&lines, &frame(300, 20, 10, Theme::Light));
    assert_eq!(svg.matches("<path class=\"fill\"").count(), 1, "one area: {svg}");
    assert_eq!(svg.matches("<path class=\"line\"").count(), 3, "filled, dashed and dotted lines");
    assert!(svg.contains(r#"stroke-width="2" stroke-dasharray="10 10" d="#), "{svg}");
    assert!(svg.contains(r#"stroke-dasharray="0 10" stroke-linecap="round""#), "{svg}");
    assert_eq!(svg.matches("<rect class=\"bar\"").count(), 3);
    assert!(svg.contains(r#"fill-opacity="1" stroke"#), "solid bars at fill 100");
    assert_eq!(svg.matches("<circle class=\"point\"").count(), 2);
    assert!(svg.contains(r#"r="3""#), "points of the size asked");
}

#[test]
fn page_charts_follow_the_page_and_images_carry_their_background() {
    let lines = vec![line("a", vec![(0, 1.0), (10, 2.0)], SeriesStyle::default())];
    let page = time_series(&lines, &frame(300, 10, 10, Theme::Page));
    assert!(page.contains("fill=\"currentColor\"") && page.contains("stroke=\"currentColor\""), "{page}");
    assert!(page.starts_with("<svg width=\"300\" height=\"100\""), "{page}");
    assert!(
        page.contains(" data-plot-left=\"72\" data-plot-right=\"272\" data-start=\"0\" data-end=\"10\">"),
        "the time axis for zooming and the crosshair: {page}"
    );
    assert!(!page.contains("#010203") && !page.contains("#FFFFFF"), "no stand-in colour, no background");
    let dark = time_series(&lines, &frame(300, 10, 10, Theme::Dark));
    assert!(dark.contains("fill=\"#181B1F\"") && !dark.contains("currentColor"), "dark background");
    for svg in [
        gauge(&Gauge { value: 1.0, min: 0.0, max: 2.0, colour: "#73BF69", bands: &[] }, 100, 80, Theme::Page),
        bars(
            &[Bar { name: "a".into(), value: 1.0, text: "1".into(), colour: "#73BF69".into() }],
            (0.0, 2.0),
            (100, 40),
            (BarMode::Basic, false),
            &|_| "#73BF69".to_string(),
            Theme::Page,
        ),
    ] {
        assert!(svg.contains("\"currentColor\"") && !svg.contains("#010203"), "{svg}");
    }
}

#[test]
fn a_series_on_the_right_axis_has_its_own_scale_and_labels() {
    let right = SeriesStyle { right: true, ..SeriesStyle::default() };
    let lines = vec![
        line("small", vec![(0, 0.0), (10, 10.0)], SeriesStyle::default()),
        line("large", vec![(0, 0.0), (10, 4096.0)], right),
    ];
    let one_axis = time_series(&lines[..1], &frame(300, 10, 10, Theme::Light));
    let c = TimeChart { right: Some(Axis { unit: "bytes", decimals: None }), ..frame(300, 10, 10, Theme::Light) };
    let svg = time_series(&lines, &c);
    assert!(svg.contains(" KiB\n</text>") && !one_axis.contains("KiB"), "right axis labels in bytes: {svg}");
    let plot_right = |s: &str| -> i32 {
        let at = s.find("data-plot-right=\"").unwrap() + 17;
        s[at..at + s[at..].find('"').unwrap()].parse().unwrap()
    };
    assert!(plot_right(&svg) < plot_right(&one_axis) - 20, "room for the right labels");
    // Both series rise to the top of the plot, each on its own scale.
    let tops: Vec<i32> = svg
        .split("<path class=\"line\"")
        .skip(1)
        .map(|p| {
            let d = &p[p.find(" d=\"").unwrap() + 4..];
            path_points(&d[..d.find('"').unwrap()]).iter().map(|p| p.1).min().unwrap()
        })
        .collect();
    assert_eq!(tops.len(), 2);
    assert!((tops[0] - tops[1]).abs() <= 2, "{tops:?}: {svg}");
}

#[test]
fn steps_hold_the_value_until_the_next_sample_or_change_at_the_last() {
    let pts = [(0, 10), (10, 20), (20, 5)];
    assert_eq!(interpolated(&pts, Interpolation::StepAfter), [(0, 10), (10, 10), (10, 20), (20, 20), (20, 5)]);
    assert_eq!(interpolated(&pts, Interpolation::StepBefore), [(0, 10), (0, 20), (10, 20), (10, 5), (20, 5)]);
    assert_eq!(interpolated(&pts, Interpolation::Linear), pts);
}

#[test]
fn smooth_lines_pass_through_the_samples_without_overshooting() {
    let pts = [(0, 50), (40, 10), (80, 10), (120, 90)];
    let curve = interpolated(&pts, Interpolation::Smooth);
    for p in pts {
        assert!(curve.contains(&p), "{p:?} on the curve");
    }
    assert!(curve.iter().all(|p| (10..=90).contains(&p.1)), "monotone: no overshoot: {curve:?}");
    assert!(curve.windows(2).all(|w| w[0].0 <= w[1].0), "x increases");
    assert!(curve.len() > 20, "sampled between the points");
}

#[test]
fn thresholds_draw_as_lines_dashes_and_areas() {
    let lines = vec![line("a", vec![(0, 10.0), (10, 90.0)], SeriesStyle::default())];
    let steps = [(None, "#73BF69".to_string()), (Some(80.0), "#F2495C".to_string())];
    let with = |line, dashed, area| {
        let c = TimeChart {
            thresholds: Thresholds { steps: &steps, line, dashed, area },
            ..frame(300, 10, 10, Theme::Light)
        };
        time_series(&lines, &c)
    };
    let lined = with(true, false, false);
    assert_eq!(lined.matches("<line class=\"threshold\"").count(), 1, "no line for the base step");
    assert!(lined.contains("stroke=\"#F2495C\"/>") && !lined.contains("threshold-area"));
    assert!(with(true, true, false).contains("stroke-dasharray=\"10 10\"/>"));
    let areas = with(false, false, true);
    assert_eq!(areas.matches("<rect class=\"threshold-area\"").count(), 2, "{areas}");
    assert!(!with(false, false, false).contains("threshold"));
}

#[test]
fn hard_bounds_replace_the_data_range_and_soft_ones_widen_it() {
    let b = Bounds { min: Some(0.0), max: Some(100.0), ..Bounds::default() };
    assert_eq!(b.apply((12.0, 40.0)), (0.0, 100.0));
    let soft = Bounds { soft_min: Some(0.0), soft_max: Some(100.0), ..Bounds::default() };
    assert_eq!(soft.apply((12.0, 140.0)), (0.0, 140.0), "data past a soft bound keeps its room");
    assert_eq!(Bounds { min: Some(5.0), ..Bounds::default() }.apply((0.0, 2.0)), (5.0, 6.0), "never an empty range");
    let lines = vec![line("a", vec![(0, 10.0), (10, 20.0)], SeriesStyle::default())];
    let c = TimeChart {
        bounds: (Bounds { min: Some(0.0), max: Some(100.0), ..Bounds::default() }, Bounds::default()),
        ..frame(300, 10, 10, Theme::Light)
    };
    assert!(time_series(&lines, &c).contains("\n100\n</text>"), "the axis reaches the max");
    // A series past the max runs off the plot: drawn inside the plot's own
    // viewport (which clips it), not flattened along the top.
    let over = vec![line("a", vec![(0, 10.0), (10, 400.0)], SeriesStyle::default())];
    let svg = time_series(&over, &c);
    let plot = &svg[svg.find("<svg class=\"plot\"").expect("a plot viewport")..];
    let d = &plot[plot.find("<path class=\"line\"").expect("the line")..];
    let d = &d[d.find(" d=\"").unwrap() + 4..];
    let ys: Vec<i32> = path_points(&d[..d.find('"').unwrap()]).iter().map(|p| p.1).collect();
    let top: i32 = plot["<svg class=\"plot\" x=\"".len()..].split('"').nth(2).unwrap().parse().unwrap();
    assert!(ys.iter().any(|y| *y < top), "the line leaves the plot's top ({top}): {ys:?}");
}

#[test]
fn without_data_the_frame_still_draws() {
    assert!(time_series(&[], &frame(300, 1000, 10, Theme::Dark)).contains("</svg>"));
}

#[test]
fn tooltips_list_every_series_in_order_or_the_nearest_one_or_nothing() {
    let hidden = SeriesStyle { hide_tooltip: true, ..SeriesStyle::default() };
    let lines = vec![
        line("low", vec![(0, 1.0), (10, 1.0)], SeriesStyle::default()),
        line("high", vec![(0, 9.0), (10, 9.0)], SeriesStyle::default()),
        line("secret", vec![(0, 5.0), (10, 5.0)], hidden),
    ];
    let with = |mode, sort| {
        time_series(&lines, &TimeChart { tooltip: Tooltip { mode, sort }, ..frame(300, 10, 10, Theme::Light) })
    };
    let titles = |svg: &str| -> Vec<String> {
        svg.split("<title>").skip(1).map(|t| t[..t.find("</title>").unwrap()].to_string()).collect()
    };
    // Multi: every series but the hidden one, in the series' order unless sorted.
    let multi = titles(&with(TooltipMode::Multi, TooltipSort::None));
    assert_eq!(multi.len(), 2, "one title per time: {multi:?}");
    assert!(multi[0].ends_with("\nlow: 1\nhigh: 9"), "{multi:?}");
    let desc = titles(&with(TooltipMode::Multi, TooltipSort::Desc));
    assert!(desc[0].ends_with("\nhigh: 9\nlow: 1"), "{desc:?}");
    // Single: a band per series, each title naming that series alone.
    let single = titles(&with(TooltipMode::Single, TooltipSort::None));
    assert_eq!(single.len(), 4, "two series at two times: {single:?}");
    assert!(single.iter().all(|t| t.matches(": ").count() == 1 && !t.contains("secret")), "{single:?}");
    assert!(
        single[0].ends_with("\nhigh: 9") && single[1].ends_with("\nlow: 1"),
        "the top band is the upper series: {single:?}"
    );
    assert!(titles(&with(TooltipMode::Hidden, TooltipSort::None)).is_empty());
    // Over more series than bands can tell apart, a column lists the largest values.
    let many: Vec<Line> =
        (0..20).map(|i| line(&format!("s{i}"), vec![(0, i as f64), (10, i as f64)], SeriesStyle::default())).collect();
    let c = TimeChart {
        tooltip: Tooltip { mode: TooltipMode::Single, sort: TooltipSort::None },
        ..frame(300, 10, 10, Theme::Light)
    };
    let crowded = titles(&time_series(&many, &c));
    assert_eq!(crowded.len(), 2, "{crowded:?}");
    assert!(crowded[0].contains("\ns19: 19\n") && crowded[0].ends_with("… and 14 more"), "{crowded:?}");
}

#[test]
fn a_log_axis_labels_powers_of_its_base_and_leaves_out_what_it_cannot_show() {
    let lines = vec![line("a", vec![(0, 1.0), (5, 0.0), (10, 1000.0)], SeriesStyle::default())];
    let log = Bounds { log: Some(10.0), ..Bounds::default() };
    let c = TimeChart { height: 200, bounds: (log, Bounds::default()), ..frame(300, 10, 10, Theme::Light) };
    let svg = time_series(&lines, &c);
    let labels: Vec<&str> = svg.split("</text>").filter_map(|t| t.rsplit('\n').nth(1)).collect();
    for want in ["1", "10", "100", "1 K"] {
        assert!(labels.contains(&want), "{want} in {labels:?}");
    }
    // Zero has no logarithm: the line breaks there, as on Grafana's log axis.
    assert_eq!(svg.matches("<path class=\"line\"").count(), 0, "no two neighbouring drawable points: {svg}");
    // Hover titles keep the values.
    assert!(svg.contains("a: 1 K</title>"), "{svg}");
}

#[test]
fn centred_zero_puts_zero_in_the_middle_and_fill_below_to_fills_between_two_series() {
    let b = Bounds { centered_zero: true, ..Bounds::default() };
    assert_eq!(b.apply((-2.0, 10.0)), (-10.0, 10.0));
    let lines = vec![
        line(
            "max",
            vec![(0, 10.0), (10, 12.0)],
            SeriesStyle { fill: 20, fill_below_to: Some("min".into()), ..SeriesStyle::default() },
        ),
        line("min", vec![(0, 4.0), (10, 5.0)], SeriesStyle::default()),
    ];
    let svg = time_series(&lines, &frame(300, 10, 10, Theme::Light));
    let fill = svg.split("<path class=\"fill\"").nth(1).expect("an area");
    let d = &fill[fill.find(" d=\"").unwrap() + 4..];
    let pts = path_points(&d[..d.find('"').unwrap()]);
    let bottom = svg.split("data-plot-left").count(); // the plot exists
    assert!(bottom > 1);
    // Four corners: along max, then back along min (not down to zero).
    assert_eq!(pts.len(), 4, "{pts:?}");
    let zero_y = pts.iter().map(|p| p.1).max().unwrap();
    let min_line = svg.split("<path class=\"line\"").nth(2).unwrap();
    let d = &min_line[min_line.find(" d=\"").unwrap() + 4..];
    let min_pts = path_points(&d[..d.find('"').unwrap()]);
    assert_eq!(zero_y, min_pts.iter().map(|p| p.1).max().unwrap(), "the area's lowest edge is the min line");
}

#[test]
fn axis_labels_are_written_along_their_axes() {
    let lines = vec![line("a", vec![(0, 1.0), (10, 2.0)], SeriesStyle::default())];
    let svg = time_series(
        &lines,
        &TimeChart { axis_labels: ("bytes read (-) / write (+)", ""), ..frame(300, 10, 10, Theme::Light) },
    );
    let at = svg.find("bytes read (-) / write (+)").expect("the label");
    let text = &svg[svg[..at].rfind("<text").unwrap()..at];
    assert!(text.contains("rotate"), "written along the axis: {text}");
    assert!(!time_series(&lines, &frame(300, 10, 10, Theme::Light)).contains("rotate"), "none without one");
}
