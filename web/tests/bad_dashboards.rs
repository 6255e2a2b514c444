//! Dashboard JSON that no one should write, drawn anyway: unknown panel
//! types and options, absurd sizes and numbers, thousands of overrides,
//! rows nested in rows, repeats over thousands of values. The page renders
//! what it can, names what it ignored, and never fails or panics.

#[path = "../benches/fixture/mod.rs"]
#[allow(dead_code)] // shared with the benchmark and other tests
mod fixture;

use fixture::{HOUR, T0};
use serde_json::json;

fn dashboard() -> String {
    let overrides: Vec<serde_json::Value> = (0..10_000)
        .map(|i| {
            json!({"matcher": {"id": "byName", "options": format!("s{i}")},
                        "properties": [{"id": "custom.lineWidth", "value": i}]})
        })
        .collect();
    // Rows inside rows, 40 deep, each repeated.
    let mut nested = json!({"id": 900, "type": "timeseries", "title": "deepest", "gridPos": {"x": 0, "y": 0, "w": 6, "h": 3},
                            "targets": [{"refId": "A", "expr": "sum(up)"}]});
    for depth in 0..40 {
        nested = json!({"id": 800 + depth, "type": "row", "title": format!("row {depth} $many"), "collapsed": true,
                        "repeat": "many", "gridPos": {"x": 0, "y": 0, "w": 24, "h": 1}, "panels": [nested]});
    }
    let many: Vec<String> = (0..10_000).map(|i| format!("v{i}")).collect();
    json!({
      "uid": "bad", "title": "bad", "schemaVersion": 39, "unknownTopLevel": {"deep": [1, 2, 3]},
      "templating": {"list": [{"name": "many", "type": "custom", "query": many.join(","), "multi": true, "includeAll": true,
                               "current": {"value": ["$__all"]}}]},
      "panels": [
        {"id": 1, "type": "flamegraph", "title": "unknown type", "gridPos": {"x": 0, "y": 0, "w": 6, "h": 4}},
        {"id": 2, "type": "timeseries", "title": "thousands of overrides", "gridPos": {"x": -5, "y": -3, "w": -1, "h": 100000},
         "fieldConfig": {"defaults": {"custom": {"fillOpacity": 1e308, "lineWidth": -5, "pointSize": "big", "spanNulls": -1},
           "decimals": 1000, "min": 10, "max": -10, "unknownOption": true}, "overrides": overrides},
         "options": {"legend": {"calcs": ["nonsense", "max"], "displayMode": "table", "width": -400}, "tooltip": {"mode": 7}},
         "maxDataPoints": -1, "interval": "garbage",
         "targets": [{"refId": "A", "expr": "sum by (code) (rate(http_requests_total[5m]))", "legendFormat": "s{{code}}"}]},
        {"id": 3, "type": "stat", "title": "off the grid", "gridPos": {"x": 30, "y": 1e12, "w": 50, "h": "a"},
         "options": {"reduceOptions": {"calcs": [42]}, "colorMode": ["x"]},
         "targets": [{"refId": "A", "expr": "sum(up)"}]},
        {"id": 4, "type": "bargauge", "title": "repeated 10,000 times", "gridPos": {"x": 0, "y": 5, "w": 6, "h": 3},
         "repeat": "many", "maxPerRow": 0, "options": {"minVizHeight": 1e9},
         "targets": [{"refId": "A", "expr": "sum(up)"}]},
        {"id": 5, "type": "table", "title": "bad transformations", "gridPos": {"x": 6, "y": 5, "w": 6, "h": 3},
         "transformations": [{"id": "groupBy", "options": {"fields": 3}}, {"id": "sortBy", "options": {"sort": "x"}},
           {"id": "filterFieldsByName", "options": {"include": {"pattern": "(("}}}, {"id": "seriesToColumns", "options": {"byField": 5}}],
         "targets": [{"refId": "A", "expr": "up", "format": "table", "instant": true}]},
        {"id": 6, "type": "heatmap", "title": "a heatmap of nothing", "gridPos": {"x": 12, "y": 5, "w": 6, "h": 3},
         "targets": [{"refId": "A", "expr": "up{job=\"none\"}", "format": "heatmap"}]},
        nested
      ]
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absurd_dashboards_render_what_they_can_and_name_what_they_ignore() {
    let json = dashboard();
    let router = web::router(fixture::state_with(fixture::store(1), &[&json]));
    let (status, page) = fixture::get(router.clone(), &format!("/d/bad?from={T0}&to={}&open=all", T0 + HOUR)).await;
    assert_eq!(status, 200, "{}", &page[..page.len().min(2000)]);
    assert!(
        page.contains("Panel type &#34;flamegraph&#34; is not drawn by Vigil yet."),
        "unknown types get a placeholder"
    );
    // The override list is cut, and the panel says so; its series are still drawn.
    let p = &page[page.find("data-panel-id=\"2\"").unwrap()..];
    let p = &p[..p.find("</section>").unwrap()];
    assert!(p.contains("panel-info") && p.contains("1000"), "{}", &p[..p.len().min(3000)]);
    assert!(p.contains("<path class=\"line\""), "the series drawn");
    // A repeat over 10,000 values: at most 100 copies and a note.
    assert_eq!(page.matches("repeated 10,000 times</a>").count(), 100);
    assert!(page.contains("the first 100 are drawn"), "a note on the cut");
    assert!(!page.contains("panel-error"), "no panel fails outright");
    // The same panels one by one, as images too.
    for id in [2, 3, 4, 5, 6] {
        let uri = format!("/render/panel?uid=bad&panelId={id}&from={T0}&to={}&width=400&height=200", T0 + HOUR);
        let (status, body) = fixture::get(router.clone(), &uri).await;
        assert!(status == 200 || status == 404, "panel {id}: {status} {body}");
    }
}
