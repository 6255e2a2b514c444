//! Tables through Grafana's transformations, over the benchmark's store of
//! one instance: frames merged, joined on time, turned into rows, labels
//! into columns, fields filtered, rows sorted; what Vigil does not apply is
//! named in the panel's info.

#[path = "../benches/fixture/mod.rs"]
#[allow(dead_code)] // shared with the benchmark and other tests
mod fixture;

use fixture::{HOUR, T0};

const DASHBOARD: &str = r#"{
  "uid": "t", "title": "transformations",
  "panels": [
    {"id": 1, "type": "table", "title": "merged", "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8},
     "targets": [
       {"refId": "A", "expr": "sum by (code) (rate(http_requests_total[5m]))", "format": "table", "instant": true},
       {"refId": "B", "expr": "sum by (code) (rate(http_requests_total[5m])) * 2", "format": "table", "instant": true}],
     "transformations": [{"id": "merge", "options": {}},
       {"id": "sortBy", "options": {"sort": [{"field": "Value #A", "desc": true}]}}]},
    {"id": 2, "type": "table", "title": "rows", "gridPos": {"x": 12, "y": 0, "w": 12, "h": 8}, "interval": "10m",
     "targets": [
       {"refId": "A", "expr": "sum(rate(http_requests_total[5m]))", "legendFormat": "requests"},
       {"refId": "B", "expr": "sum(up)", "legendFormat": "up"}],
     "transformations": [{"id": "seriesToRows", "options": {}}]},
    {"id": 3, "type": "table", "title": "joined", "gridPos": {"x": 0, "y": 8, "w": 12, "h": 8}, "interval": "10m",
     "targets": [
       {"refId": "A", "expr": "sum(rate(http_requests_total[5m]))", "legendFormat": "requests"},
       {"refId": "B", "expr": "sum(up)", "legendFormat": "up"}],
     "transformations": [{"id": "seriesToColumns", "options": {"byField": "Time"}}]},
    {"id": 4, "type": "table", "title": "labels as columns", "gridPos": {"x": 12, "y": 8, "w": 12, "h": 8},
     "targets": [{"refId": "A", "expr": "sum by (code) (rate(http_requests_total[5m]))", "instant": true}],
     "transformations": [{"id": "labelsToFields", "options": {}}, {"id": "merge", "options": {}},
       {"id": "filterFieldsByName", "options": {"include": {"names": ["code", "Value"]}}},
       {"id": "sortBy", "options": {"sort": [{"field": "code"}]}},
       {"id": "calculateField", "options": {"mode": "binary"}}]},
    {"id": 5, "type": "table", "title": "grouped", "gridPos": {"x": 0, "y": 16, "w": 12, "h": 8}, "interval": "10m",
     "targets": [{"refId": "A", "expr": "sum by (code) (rate(http_requests_total[5m]))", "format": "table"}],
     "fieldConfig": {"defaults": {}, "overrides": [
       {"matcher": {"id": "byName", "options": "Code"}, "properties": [{"id": "custom.width", "value": 120}]}]},
     "transformations": [
       {"id": "groupBy", "options": {"fields": {"code": {"operation": "groupby", "aggregations": []},
         "Value": {"operation": "aggregate", "aggregations": ["lastNotNull", "count"]}}}},
       {"id": "organize", "options": {"renameByName": {"code": "Code"}}}]},
    {"id": 6, "type": "table", "title": "calculated", "gridPos": {"x": 12, "y": 16, "w": 12, "h": 8},
     "targets": [
       {"refId": "A", "expr": "sum by (code) (rate(http_requests_total[5m]))", "instant": true},
       {"refId": "B", "expr": "sum by (code) (rate(http_requests_total[5m])) * 2", "instant": true}],
     "fieldConfig": {"defaults": {}, "overrides": [{"matcher": {"id": "byName", "options": "Value #A"},
       "properties": [{"id": "custom.cellOptions", "value": {"type": "gauge", "mode": "basic"}}]}]},
     "transformations": [{"id": "calculateField", "options": {"mode": "binary", "alias": "ratio",
       "binary": {"left": "Value #B", "operator": "/", "right": "Value #A"}}}]},
    {"id": 7, "type": "timeseries", "title": "summed", "gridPos": {"x": 0, "y": 24, "w": 12, "h": 8},
     "targets": [
       {"refId": "A", "expr": "sum(rate(http_requests_total[5m]))", "legendFormat": "one"},
       {"refId": "B", "expr": "sum(rate(http_requests_total[5m])) * 3", "legendFormat": "three"}],
     "transformations": [{"id": "calculateField", "options": {"mode": "reduceRow", "reduce": {"reducer": "sum"},
       "alias": "all", "replaceFields": true}}]}
  ]
}"#;

fn panel(page: &str, id: u32) -> &str {
    let at = page.find(&format!("data-panel-id=\"{id}\"")).unwrap_or_else(|| panic!("panel {id} in {page}"));
    let rest = &page[at..];
    &rest[..rest.find("</section>").unwrap()]
}

/// A table's header and rows, as text.
fn table(panel: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let cells = |row: &str, tag: &str| -> Vec<String> {
        row.split(&format!("<{tag}"))
            .skip(1)
            .map(|c| c[c.find('>').unwrap() + 1..c.find(&format!("</{tag}>")).unwrap()].to_string())
            .collect()
    };
    let head =
        panel.split("<thead>").nth(1).map(|h| cells(&h[..h.find("</thead>").unwrap()], "th")).unwrap_or_default();
    let body = panel.split("<tbody>").nth(1).map(|b| &b[..b.find("</tbody>").unwrap()]).unwrap_or("");
    (head, body.split("<tr>").skip(1).map(|r| cells(r, "td")).collect())
}

async fn page() -> String {
    let router = web::router(fixture::state_with(fixture::store(1), &[DASHBOARD]));
    let (status, page) = fixture::get(router, &format!("/d/t?from={T0}&to={}", T0 + HOUR)).await;
    assert_eq!(status, 200, "{page}");
    page
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_joins_table_frames_on_time_and_labels_and_sort_by_orders_the_rows() {
    let page = page().await;
    let (head, rows) = table(panel(&page, 1));
    assert_eq!(head, ["Time", "code", "Value #A", "Value #B"], "{}", panel(&page, 1));
    assert_eq!(rows.len(), 5, "a row per code, both queries in it: {rows:?}");
    assert!(rows.iter().all(|r| r[0] == "2023-11-14 23:13:20"), "the instant's time: {rows:?}");
    let a: Vec<f64> = rows.iter().map(|r| r[2].parse().unwrap()).collect();
    assert!(a.windows(2).all(|w| w[0] >= w[1]), "largest first: {a:?}");
    for r in &rows {
        let (x, y): (f64, f64) = (r[2].parse().unwrap(), r[3].parse().unwrap());
        assert!((y - 2.0 * x).abs() <= 0.01 * y.max(1.0), "B is twice A in the same row: {r:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn series_to_rows_gives_a_row_per_series_and_time_newest_first() {
    let page = page().await;
    let (head, rows) = table(panel(&page, 2));
    assert_eq!(head, ["Time", "Metric", "Value"]);
    // An hour at a 10-minute step: 7 points of `up`, 6 of the rate (none at the
    // start: its 5-minute window is still empty there).
    assert_eq!(rows.len(), 13, "{rows:?}");
    assert!(rows.windows(2).all(|w| w[0][0] >= w[1][0]), "newest first: {rows:?}");
    assert_eq!(rows.iter().filter(|r| r[1] == "up").count(), 7);
    assert!(rows.iter().filter(|r| r[1] == "up").all(|r| r[2] == "1"), "{rows:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_by_field_puts_each_series_in_its_own_column_on_shared_times() {
    let page = page().await;
    let (head, rows) = table(panel(&page, 3));
    assert_eq!(head, ["Time", "requests", "up"]);
    assert_eq!(rows.len(), 7, "one row per time: {rows:?}");
    assert!(rows.iter().all(|r| r[2] == "1"), "{rows:?}");
    // Outer: the first time has `up` only (the rate's window is still empty there).
    assert!(rows[0][1].is_empty() && rows[1..].iter().all(|r| !r[1].is_empty()), "{rows:?}");
    assert!(rows.windows(2).all(|w| w[0][0] < w[1][0]), "times ascending: {rows:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_become_columns_fields_are_filtered_and_what_is_not_applied_is_named() {
    let page = page().await;
    let p = panel(&page, 4);
    let (head, rows) = table(p);
    assert_eq!(head, ["code", "Value"], "{p}");
    let codes: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(codes, ["200", "201", "404", "500", "503"]);
    assert!(p.contains("panel-info") && p.contains("transformation &#34;calculateField&#34;"), "{p}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_by_gives_a_row_per_group_with_each_aggregate_named_by_its_calculation() {
    let page = page().await;
    let p = panel(&page, 5);
    let (head, rows) = table(p);
    assert_eq!(head, ["Code", "Value (lastNotNull)", "Value (count)"], "{p}");
    assert_eq!(rows.len(), 5, "a row per code (from a row per code and time): {rows:?}");
    // Six samples of each rate over the hour at a 10-minute step (none at the start).
    assert!(rows.iter().all(|r| r[2] == "6"), "{rows:?}");
    assert!(p.contains("<th style=\"width: 120px\">Code</th>"), "a column's width: {p}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calculate_field_adds_a_column_or_a_series_computed_from_each_row() {
    let page = page().await;
    let (head, rows) = table(panel(&page, 6));
    assert_eq!(head, ["code", "Value #A", "Value #B", "ratio"]);
    assert!(rows.iter().all(|r| r[3] == "2"), "B over A in each row: {rows:?}");
    // Gauge cells: a bar along the column's range, the largest full.
    let bars: Vec<f64> = panel(&page, 6)
        .split("<span class=\"cell-gauge\"><span style=\"width: ")
        .skip(1)
        .map(|b| b[..b.find('%').unwrap()].parse().unwrap())
        .collect();
    assert_eq!(bars.len(), 5);
    assert!(bars.contains(&100.0) && bars.iter().all(|b| (0.0..=100.0).contains(b)), "{bars:?}");
    // A time series: the rows' sum replaces the series it was made of.
    let p = panel(&page, 7);
    assert!(p.contains("</span>all</li>") && !p.contains("</span>one</li>"), "{p}");
    assert_eq!(p.matches("<path class=\"line\"").count(), 1, "{p}");
    assert!(!p.contains("panel-info"), "everything applied: {p}");
}
