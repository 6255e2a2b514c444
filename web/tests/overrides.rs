//! Field options as Grafana draws them, over the benchmark's store of one
//! instance: a "Total" line kept out of the stack, dashed and unfilled over
//! stacked, filled series; "hide all series except one"; a legacy graph's
//! series overrides; each series' own unit in its legend and on its axis;
//! stat colour modes; "No data" where a time series has nothing to draw.

#[path = "../benches/fixture/mod.rs"]
#[allow(dead_code)] // shared with the benchmark and other tests
mod fixture;

use fixture::{HOUR, T0};

const DASHBOARD: &str = r##"{
  "uid": "o", "title": "overrides",
  "templating": {"list": [{"name": "code", "type": "custom", "query": "200,500", "current": {"value": "200"}}]},
  "panels": [
    {"id": 1, "type": "timeseries", "title": "stacked with a total", "gridPos": {"x": 0, "y": 0, "w": 12, "h": 9},
     "fieldConfig": {
       "defaults": {"unit": "reqps", "custom": {"fillOpacity": 30, "stacking": {"mode": "normal", "group": "A"}}},
       "overrides": [{"matcher": {"id": "byName", "options": "Total"}, "properties": [
         {"id": "custom.stacking", "value": {"mode": "none", "group": "A"}},
         {"id": "custom.fillOpacity", "value": 0},
         {"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}},
         {"id": "custom.lineWidth", "value": 2},
         {"id": "color", "value": {"mode": "fixed", "fixedColor": "red"}},
         {"id": "unit", "value": "rps"}]}]},
     "options": {"legend": {"calcs": ["max"]}},
     "targets": [
       {"refId": "A", "expr": "sum by (code) (rate(http_requests_total[5m]))", "legendFormat": "{{code}}"},
       {"refId": "B", "expr": "sum(rate(http_requests_total[5m]))", "legendFormat": "Total"}]},
    {"id": 2, "type": "timeseries", "title": "only the total", "gridPos": {"x": 12, "y": 0, "w": 12, "h": 9},
     "fieldConfig": {"defaults": {}, "overrides": [{
       "matcher": {"id": "byNames", "options": {"mode": "exclude", "names": ["Total"], "prefix": "All except:", "readOnly": true}},
       "properties": [{"id": "custom.hideFrom", "value": {"legend": false, "tooltip": false, "viz": true}}]}]},
     "targets": [
       {"refId": "A", "expr": "sum by (code) (rate(http_requests_total[5m]))", "legendFormat": "{{code}}"},
       {"refId": "B", "expr": "sum(rate(http_requests_total[5m]))", "legendFormat": "Total"}]},
    {"id": 3, "type": "graph", "title": "legacy", "gridPos": {"x": 0, "y": 9, "w": 24, "h": 9},
     "fill": 1, "linewidth": 1, "stack": true, "lines": true,
     "yaxes": [{"format": "reqps", "show": true}, {"format": "percent", "show": true}],
     "aliasColors": {"Total": "blue"},
     "seriesOverrides": [{"alias": "Total", "stack": false, "fill": 0, "dashes": true, "linewidth": 3},
                         {"alias": "/^5/", "bars": true, "yaxis": 2}],
     "targets": [
       {"refId": "A", "expr": "sum by (code) (rate(http_requests_total[5m]))", "legendFormat": "{{code}}"},
       {"refId": "B", "expr": "sum(rate(http_requests_total[5m]))", "legendFormat": "Total"}]},
    {"id": 4, "type": "timeseries", "title": "nothing", "gridPos": {"x": 0, "y": 18, "w": 8, "h": 6},
     "options": {"legend": {"calcs": ["min", "mean", "max"]}},
     "fieldConfig": {"defaults": {}, "overrides": [
       {"matcher": {"id": "byMagic", "options": "x"}, "properties": []},
       {"matcher": {"id": "byName", "options": "x"}, "properties": [{"id": "custom.barAlignment", "value": 1}]}]},
     "targets": [{"refId": "A", "expr": "up{job=\"nope\"}"}]},
    {"id": 5, "type": "stat", "title": "plain", "gridPos": {"x": 8, "y": 18, "w": 4, "h": 4},
     "options": {"colorMode": "none", "graphMode": "none"},
     "fieldConfig": {"defaults": {"thresholds": {"mode": "absolute", "steps": [{"value": null, "color": "red"}]}}},
     "targets": [{"refId": "A", "expr": "sum(up)"}]},
    {"id": 6, "type": "stat", "title": "filled", "gridPos": {"x": 12, "y": 18, "w": 4, "h": 4},
     "options": {"colorMode": "background"},
     "fieldConfig": {"defaults": {"thresholds": {"mode": "absolute", "steps": [{"value": null, "color": "green"}]}}},
     "targets": [{"refId": "A", "expr": "sum(up)"}]},
    {"id": 8, "type": "timeseries", "title": "steps", "gridPos": {"x": 0, "y": 24, "w": 8, "h": 6},
     "fieldConfig": {"defaults": {"custom": {"lineInterpolation": "stepAfter"}}},
     "targets": [{"refId": "A", "expr": "sum(rate(http_requests_total[5m])) + (time() % 600 > bool 300)"}]},
    {"id": 9, "type": "timeseries", "title": "sorted right", "gridPos": {"x": 8, "y": 24, "w": 16, "h": 6},
     "options": {"legend": {"displayMode": "table", "placement": "right", "calcs": ["max"], "sortBy": "Max"}},
     "targets": [{"refId": "A", "expr": "sum by (code) (rate(http_requests_total[5m]))", "legendFormat": "{{code}}"}]},
    {"id": 10, "type": "timeseries", "title": "no legend", "gridPos": {"x": 0, "y": 30, "w": 8, "h": 6},
     "options": {"legend": {"showLegend": false}},
     "fieldConfig": {"defaults": {"min": 0, "max": 1000, "custom": {"thresholdsStyle": {"mode": "dashed+area"}},
       "thresholds": {"mode": "absolute", "steps": [{"value": null, "color": "green"}, {"value": 200, "color": "red"}]}}},
     "targets": [{"refId": "A", "expr": "sum(rate(http_requests_total[5m]))"}]},
    {"id": 11, "type": "heatmap", "title": "latency", "gridPos": {"x": 0, "y": 36, "w": 24, "h": 8},
     "fieldConfig": {"defaults": {"unit": "s"}},
     "targets": [{"refId": "A", "expr": "sum by (le) (rate(http_request_duration_seconds_bucket[5m]))", "format": "heatmap"}]},
    {"id": 12, "type": "state-timeline", "title": "states", "gridPos": {"x": 0, "y": 44, "w": 24, "h": 6},
     "fieldConfig": {"defaults": {"mappings": [{"type": "value", "options": {
       "0": {"text": "OFF", "color": "red"}, "1": {"text": "ON", "color": "green"}}}]}},
     "targets": [{"refId": "A", "expr": "time() % 1200 >= bool 600", "legendFormat": "switch"},
                 {"refId": "B", "expr": "sum(up)", "legendFormat": "up"}]},
    {"id": 13, "type": "status-history", "title": "history", "gridPos": {"x": 0, "y": 50, "w": 24, "h": 6},
     "interval": "5m",
     "targets": [{"refId": "A", "expr": "sum(up)", "legendFormat": "up"}]},
    {"id": 14, "type": "stat", "title": "codes", "gridPos": {"x": 0, "y": 56, "w": 24, "h": 4},
     "fieldConfig": {"defaults": {"unit": "reqps"}},
     "targets": [{"refId": "A", "expr": "sum by (code) (rate(http_requests_total[5m]))", "legendFormat": "{{code}}"}]},
    {"id": 15, "type": "table", "title": "reduced", "gridPos": {"x": 0, "y": 60, "w": 12, "h": 6},
     "fieldConfig": {"defaults": {"unit": "reqps"}},
     "transformations": [{"id": "reduce", "options": {"reducers": ["max", "lastNotNull"]}},
                         {"id": "organize", "options": {"renameByName": {"Field": "Code"}}}],
     "targets": [{"refId": "A", "expr": "sum by (code) (rate(http_requests_total[5m]))", "legendFormat": "{{code}}"}]},
    {"id": 16, "type": "timeseries", "title": "in and out", "gridPos": {"x": 12, "y": 60, "w": 12, "h": 6},
     "fieldConfig": {"defaults": {"unit": "reqps"}, "overrides": [
       {"matcher": {"id": "byRegexp", "options": "/out/"}, "properties": [{"id": "custom.transform", "value": "negative-Y"}]}]},
     "options": {"legend": {"displayMode": "table", "calcs": ["min", "max"]}},
     "targets": [{"refId": "A", "expr": "sum(rate(http_requests_total{code=\"$code\"}[5m]))", "legendFormat": "in"},
                 {"refId": "B", "expr": "sum(rate(http_requests_total[5m]))", "legendFormat": "out"}]},
    {"id": 17, "type": "gauge", "title": "swap used", "gridPos": {"x": 0, "y": 66, "w": 4, "h": 4},
     "fieldConfig": {"defaults": {"unit": "percent", "mappings": [{"type": "special", "options": {"match": "null", "result": {"text": "N/A"}}}]}},
     "options": {"reduceOptions": {"calcs": ["lastNotNull"]}},
     "targets": [{"refId": "A", "expr": "(sum(up) > bool 5) * (sum(up) / 0 * 0)"}]},
    {"id": 18, "type": "gauge", "title": "nothing", "gridPos": {"x": 4, "y": 66, "w": 4, "h": 4},
     "fieldConfig": {"defaults": {"mappings": [{"type": "special", "options": {"match": "null", "result": {"text": "N/A"}}}]}},
     "targets": [{"refId": "A", "expr": "up{job=\"absent\"}"}]},
    {"id": 19, "type": "timeseries", "title": "not a number", "gridPos": {"x": 8, "y": 66, "w": 8, "h": 4},
     "targets": [{"refId": "A", "expr": "sum(up) / 0 * 0", "legendFormat": "ratio"}]},
    {"id": 20, "type": "bargauge", "title": "many bars", "gridPos": {"x": 16, "y": 66, "w": 4, "h": 3},
     "options": {"displayMode": "basic", "orientation": "horizontal"},
     "targets": [{"refId": "A", "expr": "sum by (code) (rate(http_requests_total[5m]))", "legendFormat": "{{code}}"}]},
    {"id": 21, "type": "timeseries", "title": "faded", "gridPos": {"x": 0, "y": 70, "w": 12, "h": 6},
     "fieldConfig": {"defaults": {"custom": {"fillOpacity": 30, "gradientMode": "opacity"}}},
     "targets": [{"refId": "A", "expr": "sum(rate(http_requests_total[5m]))"}]},
    {"id": 22, "type": "timeseries", "title": "by scheme", "gridPos": {"x": 12, "y": 70, "w": 12, "h": 6},
     "fieldConfig": {"defaults": {"color": {"mode": "thresholds"}, "custom": {"fillOpacity": 20, "gradientMode": "scheme"},
       "thresholds": {"mode": "absolute", "steps": [{"value": null, "color": "green"}, {"value": 200, "color": "red"}]}}},
     "targets": [{"refId": "A", "expr": "sum(rate(http_requests_total[5m]))"}]},
    {"id": 23, "type": "timeseries", "title": "shades", "gridPos": {"x": 0, "y": 76, "w": 12, "h": 6},
     "fieldConfig": {"defaults": {"color": {"mode": "shades", "fixedColor": "#808080"}}},
     "targets": [{"refId": "A", "expr": "sum by (code) (rate(http_requests_total{code=~\"20.|404\"}[5m]))", "legendFormat": "{{code}}"}]},
    {"id": 24, "type": "stat", "title": "wide", "gridPos": {"x": 12, "y": 76, "w": 24, "h": 3},
     "options": {"justifyMode": "center", "graphMode": "none"},
     "targets": [{"refId": "A", "expr": "sum by (code) (rate(http_requests_total{code=~\"20.\"}[5m]))", "legendFormat": "{{code}}"}]},
    {"id": 25, "type": "piechart", "title": "shares", "gridPos": {"x": 0, "y": 82, "w": 12, "h": 8},
     "options": {"pieType": "donut", "displayLabels": ["percent"], "reduceOptions": {"calcs": ["lastNotNull"]},
       "legend": {"displayMode": "table", "placement": "right", "values": ["value", "percent"]}},
     "fieldConfig": {"defaults": {"unit": "reqps"}, "overrides": [
       {"matcher": {"id": "byName", "options": "200"}, "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": "purple"}}]}]},
     "targets": [{"refId": "A", "expr": "sum by (code) (rate(http_requests_total[5m]))", "legendFormat": "{{code}}"}]},
    {"id": 7, "type": "table", "title": "columns", "gridPos": {"x": 16, "y": 18, "w": 8, "h": 6},
     "fieldConfig": {"defaults": {}, "overrides": [
       {"matcher": {"id": "byName", "options": "Value #A"}, "properties": [{"id": "displayName", "value": "Up"}]},
       {"matcher": {"id": "byName", "options": "Value #B"}, "properties": [
         {"id": "displayName", "value": "CPU"}, {"id": "unit", "value": "percentunit"},
         {"id": "custom.cellOptions", "value": {"type": "color-text"}},
         {"id": "thresholds", "value": {"mode": "absolute", "steps": [{"value": null, "color": "green"}, {"value": 0.01, "color": "red"}]}}]},
       {"matcher": {"id": "byName", "options": "instance"}, "properties": [{"id": "displayName", "value": "Host"}]}]},
     "transformations": [{"id": "organize", "options": {"excludeByName": {"__name__": true, "job": true}}}],
     "targets": [{"refId": "A", "expr": "up", "instant": true},
                 {"refId": "B", "expr": "rate(process_cpu_seconds_total[5m])", "instant": true}]}
  ]
}"##;

/// The HTML of panel `id` on `page`.
fn panel(page: &str, id: u32) -> &str {
    let at = page.find(&format!("data-panel-id=\"{id}\"")).unwrap_or_else(|| panic!("panel {id} in {page}"));
    let rest = &page[at..];
    &rest[..rest.find("</section>").unwrap()]
}

/// The `<path>` and `<rect class="bar">` elements of a panel's chart drawn in `colour`.
fn drawn_in<'a>(panel: &'a str, colour: &str) -> Vec<&'a str> {
    panel
        .split('<')
        .filter(|e| (e.starts_with("path class=") || e.starts_with("rect class=\"bar\"")) && e.contains(colour))
        .collect()
}

async fn page() -> String {
    let router = web::router(fixture::state_with(fixture::store(1), &[DASHBOARD]));
    let (status, page) = fixture::get(router, &format!("/d/o?from={T0}&to={}", T0 + HOUR)).await;
    assert_eq!(status, 200, "{page}");
    page
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_total_kept_out_of_the_stack_is_a_dashed_unfilled_line() {
    let page = page().await;
    let p = panel(&page, 1);
    // Grafana's red; the total is neither stacked nor filled, and dashed 10/10 at 2 px.
    let total = drawn_in(p, "#F2495C");
    assert_eq!(total.len(), 1, "one line for the total: {total:?}");
    assert!(total[0].starts_with("path class=\"line\""), "{}", total[0]);
    assert!(total[0].contains("stroke-width=\"2\" stroke-dasharray=\"10 10\""), "{}", total[0]);
    assert!(!total[0].contains("data-stack"), "kept out of the stack: {}", total[0]);
    assert_eq!(p.matches("data-stack=\"A\"").count(), 10, "the codes' lines and areas in group A");
    // The five codes are stacked and filled: each has a line and an area.
    assert_eq!(p.matches("<path class=\"fill\"").count(), 5, "{p}");
    assert_eq!(p.matches("<path class=\"line\"").count(), 6);
    // The stack tops at the total (the chart's y axis reaches the sum, not twice it):
    // the total's line and the top of the stack are drawn at the same height.
    let top_of = |e: &str| -> Vec<i32> {
        let d = &e[e.find(" d=\"M").unwrap() + 5..];
        let y: i32 = d.split(['l', '"']).next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        vec![y]
    };
    let lines: Vec<&str> = p.split('<').filter(|e| e.starts_with("path class=\"line\"")).collect();
    let highest = lines.iter().filter(|e| !e.contains("#F2495C")).flat_map(|e| top_of(e)).min().unwrap();
    assert!((top_of(total[0])[0] - highest).abs() <= 2, "total at {:?}, stack top at {highest}", top_of(total[0]));
    // Each series' legend value in its own unit.
    assert!(p.contains("Total</td><td>") && p.contains(" rps</td>"), "{p}");
    assert_eq!(p.matches(" reqps</td>").count(), 5, "{p}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hide_all_series_except_one_draws_that_one_and_lists_all() {
    let page = page().await;
    let p = panel(&page, 2);
    assert_eq!(p.matches("<path class=\"line\"").count(), 1, "only the total is drawn: {p}");
    assert_eq!(p.matches("<span class=\"swatch\"").count(), 6, "every series stays in the legend");
    assert_eq!(p.matches("<li class=\"off\">").count(), 5, "the hidden ones greyed: {p}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_series_overrides_unstack_dash_and_draw_bars() {
    let page = page().await;
    let p = panel(&page, 3);
    // aliasColors' blue, dashed at 3 px, no area under it.
    let total = drawn_in(p, "#5794F2");
    assert_eq!(total.len(), 1, "{total:?}");
    assert!(total[0].contains("stroke-width=\"3\" stroke-dasharray=\"10 10\""), "{}", total[0]);
    assert!(p.contains("<rect class=\"bar\""), "the 5xx series as bars");
    assert_eq!(p.matches("<path class=\"fill\"").count(), 3, "200, 201 and 404 filled (fill 1 → 10 %)");
    assert!(p.contains("fill-opacity=\"0.1\""), "{p}");
    // `yaxis: 2` with another unit on the right axis: its own scale, labelled in percent.
    assert!(p.contains("%\n</text>") && p.contains(" reqps\n</text>"), "both axes labelled: {p}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_series_of_another_unit_gets_the_right_axis() {
    let page = page().await;
    // Panel 1's total is in rps, the stack in reqps: two scales, the total's on the right.
    let p = panel(&page, 1);
    assert!(p.contains(" rps\n</text>") && p.contains(" reqps\n</text>"), "{p}");
    // Right-axis labels are the chart's only text anchored at its start; panel 2 has one unit: one axis.
    assert!(p.contains("text-anchor=\"start\""));
    assert!(!panel(&page, 2).contains("text-anchor=\"start\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_time_series_without_data_says_no_data_instead_of_drawing_empty_axes() {
    let page = page().await;
    let p = panel(&page, 4);
    assert!(p.contains(">No data</div>") && p.contains("data-no-data"), "{p}");
    assert!(!p.contains("<svg") && !p.contains("legend-table"), "no axes, no orphan legend header: {p}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stat_colour_modes_colour_the_text_the_box_or_nothing() {
    let page = page().await;
    let plain = panel(&page, 5);
    assert!(
        plain.contains("<div class=\"stat\" style=\"") && plain.contains("color: inherit\">1</div>"),
        "colorMode none: {plain}"
    );
    assert!(!plain.contains("<svg"), "graphMode none: no sparkline");
    let filled = panel(&page, 6);
    assert!(
        filled.contains("class=\"stat stat-background\"") && filled.contains("background: #73BF69\">1</div>"),
        "{filled}"
    );
    assert!(filled.contains("<svg class=\"sparkline\""), "graphMode area by default: a sparkline");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_columns_take_their_overrides_display_names_units_and_colours() {
    let page = page().await;
    let p = panel(&page, 7);
    assert!(p.contains("<thead><tr><th>Host</th><th>Up</th><th>CPU</th></tr></thead>"), "{p}");
    assert!(!p.contains("Value #"), "{p}");
    // The CPU column in percent, its text in the threshold colour (0.5 CPU-s per 15 s → 3.33 %, red).
    assert!(p.contains("<td style=\"color: #F2495C\">3.33%</td>"), "{p}");
    assert!(p.contains("<td>1</td>"), "Up keeps the panel's plain cells: {p}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_panel_asks_for_and_vigil_does_not_draw_is_named_in_its_info() {
    let page = page().await;
    let p = panel(&page, 4);
    let info = &p[p.find("class=\"panel-info\" title=\"").unwrap_or_else(|| panic!("{p}"))..];
    let title = &info[..info.find("\">").unwrap()];
    assert!(title.contains("byMagic") && title.contains("custom.barAlignment"), "{title}");
    assert!(!panel(&page, 1).contains("panel-info"), "everything of panel 1 is drawn");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stepped_line_moves_only_across_and_up_or_down() {
    let page = page().await;
    let p = panel(&page, 8);
    let d = &p[p.find("<path class=\"line\"").unwrap_or_else(|| panic!("{p}"))..];
    let d = &d[d.find(" d=\"M").unwrap() + 5..];
    let d = &d[..d.find('"').unwrap()];
    let rel = &d[d.find('l').unwrap() + 1..];
    // Relative moves "dx dy" pairs: each is horizontal or vertical.
    let nums: Vec<i32> =
        rel.replace('-', " -").split_whitespace().map(|n| n.parse().unwrap_or_else(|_| panic!("{n} in {d}"))).collect();
    assert!(nums.len() > 4, "{d}");
    assert!(nums.chunks(2).all(|m| m[0] == 0 || m[1] == 0), "only steps: {d}");
    assert!(nums.chunks(2).any(|m| m[0] == 0 && m[1] != 0), "the value changes somewhere: {d}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legends_sort_stand_right_or_hide_as_asked() {
    let page = page().await;
    let section = page[..page.find("data-panel-id=\"9\"").unwrap()].rsplit("<section").next().unwrap();
    assert!(section.contains("legend-right\"") && section.contains("--legend-width: "), "{section}");
    let p = panel(&page, 9);
    // Codes by their largest rate, smallest first (the query gives them largest first).
    let names: Vec<&str> = p.split("</span>").skip(1).filter_map(|r| r.split("</td>").next()).collect();
    assert_eq!(&names[..5], ["503", "500", "404", "201", "200"], "{p}");
    let q = panel(&page, 10);
    assert!(!q.contains("class=\"legend") && q.contains("<svg"), "{q}");
    // Its thresholds, dashed and shaded across the plot.
    assert!(
        q.contains("<line class=\"threshold\"") && q.contains("stroke=\"#F2495C\" stroke-dasharray=\"10 10\""),
        "{q}"
    );
    assert_eq!(q.matches("<rect class=\"threshold-area\"").count(), 2, "{q}");
    // Its axis from the panel's min to its max, not the data's range.
    assert!(q.contains("\n1 K\n</text>") && q.contains("\n0\n</text>"), "{q}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_heatmap_draws_a_cell_per_bucket_and_step_with_counts_per_bucket() {
    let page = page().await;
    let p = panel(&page, 11);
    let cells: Vec<&str> = p.split("<rect class=\"cell\"").skip(1).collect();
    // 12 buckets, at each step of the range (the first steps have no rate yet).
    assert!(cells.len() >= 12 * 50 && cells.len().is_multiple_of(12), "{} cells", cells.len());
    assert!(p.contains("\n+Inf: ") && p.contains("\n5 ms: "), "rows by bound, in the unit: {}", &cells[0][..200]);
    // Each bucket of the fixture gains the same amount per step (its cumulative count grows in
    // step with its bound's rank): once de-accumulated, every bucket of a step has the same count
    // and colour. Cells come a row at a time; the last of each row is the newest step.
    let columns = cells.len() / 12;
    let colour = |c: &str| c.split("fill=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let newest: std::collections::BTreeSet<String> = (0..12).map(|r| colour(cells[(r + 1) * columns - 1])).collect();
    assert_eq!(newest.len(), 1, "{newest:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_timeline_cuts_each_series_where_its_state_changes() {
    let page = page().await;
    let p = panel(&page, 12);
    let states: Vec<&str> = p.split("<rect class=\"state\"").skip(1).collect();
    // The switch flips every 10 minutes over the hour (six or seven stretches); `up` is one stretch.
    let (switch, up): (Vec<&str>, Vec<&str>) = states.iter().partition(|s| s.contains("<title>switch"));
    assert!((6..=7).contains(&switch.len()), "{}", switch.len());
    assert_eq!(up.len(), 1, "{up:?}");
    assert!(switch.iter().any(|s| s.contains("fill=\"#F2495C\"") && s.contains("\nOFF</title>")), "{switch:?}");
    assert!(switch.iter().any(|s| s.contains("fill=\"#73BF69\"") && s.contains("\nON</title>")), "{switch:?}");
    assert!(p.contains(">ON</text>") && p.contains(">OFF</text>"), "texts where they fit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_history_draws_a_cell_per_sample_even_when_the_state_stays() {
    let page = page().await;
    let p = panel(&page, 13);
    // An hour at a 5-minute step: 12 or 13 samples of the same state, a cell each.
    let cells = p.matches("<rect class=\"state\"").count();
    assert!((12..=13).contains(&cells), "{cells}: {p}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stat_of_several_series_shows_a_named_box_for_each() {
    let page = page().await;
    let p = panel(&page, 14);
    let names: Vec<&str> =
        p.split("<span class=\"stat-name\">").skip(1).map(|s| &s[..s.find("</span>").unwrap()]).collect();
    assert_eq!(names, ["200", "201", "404", "500", "503"], "{p}");
    assert_eq!(p.matches(" reqps</span>").count(), 5, "each value in its unit: {p}");
    assert!(!p.contains("stats-down"), "a wide panel lays them side by side");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reduce_transformation_gives_a_row_per_series_and_a_column_per_reducer() {
    let page = page().await;
    let p = panel(&page, 15);
    assert!(p.contains("<thead><tr><th>Code</th><th>Max</th><th>Last *</th></tr></thead>"), "{p}");
    let rows = p.matches("<tr><td>").count();
    assert_eq!(rows, 5, "one row per code: {p}");
    assert!(p.contains("<tr><td>200</td><td>") && p.contains(" reqps</td>"), "{p}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_negative_y_series_is_drawn_below_zero_and_its_legend_keeps_the_values_as_queried() {
    let page = page().await;
    let p = panel(&page, 16);
    let row = |name: &str| {
        let r = &p[p.find(&format!("{name}</td>")).unwrap_or_else(|| panic!("{name} in {p}"))..];
        r[..r.find("</tr>").unwrap()].to_string()
    };
    let out = row("out");
    assert!(out.contains(" reqps</td>") && !out.contains(">-"), "min and max of the rates, not negated: {out}");
    // The axis reaches below zero for it.
    assert!(p.contains("\n-") && p.contains(" reqps\n</text>"), "{p}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panels_menu_lists_its_queries_as_run_and_opens_each_in_the_query_page() {
    let page = page().await;
    let p = panel(&page, 16);
    let menu = &p[p.find("<details class=\"panel-queries\">").expect("a query menu")..];
    // Variables interpolated, text escaped, each query a link to /graph over the panel's range.
    assert!(menu.contains("sum(rate(http_requests_total{code=&#34;200&#34;}[5m]))"), "{menu}");
    let hrefs: Vec<&str> = menu.split("<a href=\"").skip(1).map(|h| &h[..h.find('"').unwrap()]).collect();
    assert_eq!(hrefs.len(), 2, "{menu}");
    assert!(hrefs[0].starts_with("/graph?expr=sum%28rate%28http_requests_total%7Bcode%3D%22200%22"), "{}", hrefs[0]);
    assert!(hrefs[0].contains("&#38;range=3600s&#38;end="), "{}", hrefs[0]);
    assert!(!panel(&page, 4).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_series_without_a_value_shows_what_null_maps_to_and_no_series_says_no_data() {
    let page = page().await;
    // Node Exporter Full's "SWAP Used" on a host without swap: NaN throughout, null mapped to N/A.
    let swap = panel(&page, 17);
    assert!(swap.contains(">N/A</div>") && !swap.contains("data-no-data"), "{swap}");
    let nothing = panel(&page, 18);
    assert!(nothing.contains("data-no-data") && nothing.contains(">No data</div>"), "{nothing}");
    // A time series of NaN is listed, its plot empty, as Grafana draws it.
    let nan = panel(&page, 19);
    assert!(!nan.contains("data-no-data") && nan.contains("</span>ratio</li>"), "{nan}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bar_gauges_keep_bars_at_their_minimum_height_and_scroll_the_rest() {
    let page = page().await;
    let p = panel(&page, 20);
    // Five bars of at least minVizHeight (16 px) and their names, in a panel of some 90 px: it scrolls.
    let scroll = &p[p.find("<div class=\"bar-scroll\"><svg width=\"").expect("a scrolling box")..];
    let height: u32 = scroll.split("height=\"").nth(1).and_then(|h| h.split('"').next()).unwrap().parse().unwrap();
    assert!(height >= 5 * (16 + 18), "{height}: {p}");
    assert_eq!(p.matches("<g class=\"bar-gauge\">").count(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gradient_modes_fade_the_area_down_the_plot_or_colour_it_by_the_value_at_each_height() {
    let page = page().await;
    // opacity: the area from its fill opacity at the plot's top to nothing at its bottom; the line plain.
    let faded = panel(&page, 21);
    let fill = drawn_in(faded, "url(#vg");
    assert_eq!(fill.len(), 1, "{faded}");
    assert!(faded.contains("stop-opacity=\"0.300\"/>") && faded.contains("stop-opacity=\"0.000\"/>"), "{faded}");
    assert!(faded.contains("<path class=\"line\" fill=\"none\" stroke=\"#"), "{faded}");
    // scheme: line and area by the thresholds' colours of the heights they cross (green below 200, red above).
    let scheme = panel(&page, 22);
    assert!(scheme.contains("<path class=\"line\" fill=\"none\" stroke=\"url(#vg"), "{scheme}");
    assert!(scheme.contains("stop-color=\"#F2495C\"") && scheme.contains("stop-color=\"#73BF69\""), "{scheme}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_click_on_a_legend_entry_shows_that_series_alone_and_again_shows_all() {
    let router = web::router(fixture::state_with(fixture::store(1), &[DASHBOARD]));
    let base = format!("/d/o?from={T0}&to={}", T0 + HOUR);
    let (_, page) = fixture::get(router.clone(), &base).await;
    let p = panel(&page, 9);
    assert_eq!(p.matches("<path class=\"line\"").count(), 5, "every code drawn: {p}");
    // Each entry links to the page with its series isolated in this panel.
    let link = p.split("<a class=\"legend-link\" href=\"").nth(1).unwrap();
    let href = link[..link.find('"').unwrap()].replace("&#38;", "&").replace("&amp;", "&");
    assert!(href.contains("isolate=9%3A"), "{href}");
    let (_, isolated) = fixture::get(router.clone(), &href).await;
    let q = panel(&isolated, 9);
    assert_eq!(q.matches("<path class=\"line\"").count(), 1, "one series drawn: {q}");
    assert_eq!(q.matches("<tr class=\"off\">").count(), 4, "the others listed, greyed: {q}");
    let lines = |p: &str| p.matches("<path class=\"line\"").count();
    assert_eq!(lines(panel(&isolated, 1)), lines(panel(&page, 1)), "other panels untouched");
    // The isolated entry's link shows every series again.
    let again = q.split("<tr>").find(|r| r.contains("legend-link")).and_then(|r| r.split("href=\"").nth(1)).unwrap();
    let again = again[..again.find('"').unwrap()].replace("&#38;", "&");
    assert!(!again.contains("isolate="), "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shades_colour_series_by_darker_and_lighter_steps_of_the_fixed_colour() {
    let page = page().await;
    let p = panel(&page, 23);
    let swatches: Vec<&str> = p.split("class=\"swatch\" style=\"background: ").skip(1).map(|s| &s[..7]).collect();
    assert_eq!(swatches, ["#808080", "#737373", "#8d8d8d"], "{p}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stat_box_much_wider_than_tall_puts_its_name_beside_its_value() {
    let page = page().await;
    let p = panel(&page, 24);
    assert_eq!(p.matches("<div class=\"stat-box wide centred\"").count(), 2, "{p}");
    // Five boxes across a full-width panel four rows high are wide too, left and right (justifyMode auto).
    assert_eq!(panel(&page, 14).matches("<div class=\"stat-box wide\">").count(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pie_labels_its_slices_and_lists_values_and_percents_in_its_legend() {
    let page = page().await;
    let p = panel(&page, 25);
    assert!(p.contains("<thead><tr><th></th><th>Value</th><th>Percent</th></tr></thead>"), "{p}");
    let percents: Vec<f64> = p.split("%</td>").filter_map(|s| s.rsplit("<td>").next()?.parse().ok()).collect();
    assert_eq!(percents.len(), 5, "{p}");
    assert!((percents.iter().sum::<f64>() - 100.0).abs() <= 3.0, "{percents:?}");
    assert!(p.contains(" reqps</td>"), "values in the unit");
    // The override's colour on its slice and its legend entry; the largest slices labelled.
    assert!(p.contains("background: #B877D9") && p.contains("fill=\"#B877D9\""), "{p}");
    assert!(p.contains("<title>200: 337 reqps (82.3%)</title>"), "hover titles in the unit: {p}");
    assert!(p.contains("%</text>"), "slice labels: {p}");
    let section = page[..page.find("data-panel-id=\"25\"").unwrap()].rsplit("<section").next().unwrap();
    assert!(section.contains("legend-right"), "the legend right of the pie");
}
