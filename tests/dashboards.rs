//! Grafana dashboards served by Vigil: provisioning from `--dashboards DIR`,
//! the built-in overview, variables from the URL, one-panel views, bad
//! files reported with their place, and untrusted text escaped everywhere.

mod common;

use common::*;
use std::time::Duration;

const HOSTILE: &str = r#"{
  "uid": "hostile",
  "title": "<script>alert('title')</script>",
  "templating": {"list": [{"name": "v", "type": "custom", "query": "a,<b>"}]},
  "panels": [
    {"id": 1, "type": "text", "title": "<img src=x onerror=alert(1)>", "gridPos": {"x": 0, "y": 0, "w": 12, "h": 4},
     "options": {"content": "<script>alert('text')</script> $v"}},
    {"id": 2, "type": "timeseries", "title": "m", "gridPos": {"x": 12, "y": 0, "w": 12, "h": 8},
     "targets": [{"refId": "A", "expr": "m", "legendFormat": "{{a}}"}]},
    {"id": 3, "type": "heatmap", "title": "not drawn", "gridPos": {"x": 0, "y": 8, "w": 24, "h": 4}},
    {"id": 4, "type": "gauge", "title": "g", "gridPos": {"x": 0, "y": 12, "w": 6, "h": 6},
     "targets": [{"refId": "A", "expr": "sum(m)"}], "fieldConfig": {"defaults": {"max": 4, "unit": "none",
       "thresholds": {"steps": [{"value": null, "color": "green"}, {"value": 2, "color": "red"}]}}}},
    {"id": 5, "type": "bargauge", "title": "b", "gridPos": {"x": 6, "y": 12, "w": 6, "h": 6},
     "targets": [{"refId": "A", "expr": "m", "legendFormat": "{{a}}"}]},
    {"id": 6, "type": "piechart", "title": "p", "gridPos": {"x": 12, "y": 12, "w": 6, "h": 6},
     "targets": [{"refId": "A", "expr": "m", "legendFormat": "{{a}}"}], "options": {"pieType": "donut"}},
    {"id": 7, "type": "table", "title": "t", "gridPos": {"x": 18, "y": 12, "w": 6, "h": 6},
     "targets": [{"refId": "A", "expr": "m", "instant": true}, {"refId": "B", "expr": "m * 10", "instant": true}]}
  ]
}"#;

fn start() -> (Vigil, FakeTarget) {
    let body = "# TYPE m gauge\nm{a=\"<script>alert('label')</script>\"} 1\nm{a=\"2\"} 2\n";
    let fake = FakeTarget::start(vec![("/metrics", Reply::text(body))]);
    let dir = TempDir::new("dashboards");
    let dash = dir.path().join("dash");
    std::fs::create_dir_all(&dash).unwrap();
    std::fs::write(dash.join("hostile.json"), HOSTILE).unwrap();
    std::fs::write(dash.join("broken.json"), "{\n  \"panels\": [\n    {\"type\": \"graph\",,}\n  ]\n}\n").unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: j\n    static_configs:\n      - targets: ['{}']\n  - job_name: vigil\n    static_configs:\n      - targets: ['{{self}}']\n",
        fake.addr
    );
    let dash_arg = dash.display().to_string();
    let v = Vigil::start_in(dir, &config, &["--dashboards", &dash_arg]);
    wait_for("two scrapes", Duration::from_secs(15), || {
        (v.query("count_over_time(m[1m])").first()?["value"][1] != "1").then_some(())
    });
    (v, fake)
}

#[test]
fn dashboards_are_listed_rendered_and_escaped() {
    let (v, _fake) = start();
    let list = get(&format!("{}/dashboards", v.base));
    assert_eq!(list.status, 200);
    assert!(list.body.contains("href=\"/d/vigil-overview\"") && list.body.contains("href=\"/d/hostile\""));
    assert!(list.body.contains("broken.json") && list.body.contains("line 3"), "the bad file is named with its line");
    assert!(!list.body.contains("<script>"), "titles escaped in the list");

    let page = get(&format!("{}/d/hostile?from=now-5m&to=now", v.base));
    assert_eq!(page.status, 200);
    let b = &page.body;
    assert!(!b.contains("<script>") && !b.contains("<img"), "dashboard strings and label values escaped");
    assert!(b.contains("alert(&#39;text&#39;)") || b.contains("alert(&#x27;text&#x27;)") || b.contains("alert("));
    assert!(b.contains("Panel type &#34;heatmap&#34; is not drawn"), "a placeholder names the type");
    assert!(b.contains("<polyline"), "the time series panel draws");
    assert_eq!(b.matches("class=\"swatch\"").count(), 6, "legends of the time series, bars and pie");
    assert!(!b.contains("panel-error"), "no panel fails");
    // Gauge: the sum 3 is past the threshold at 2: red, with its arc.
    assert!(b.contains("<div class=\"stat gauge-value\" style=\"color: #F2495C\">3</div>"), "gauge value");
    assert!(b.contains("stroke=\"#F2495C\""), "gauge arc in the threshold colour");
    assert!(b.contains("<polygon"), "pie slices");
    assert!(b.contains("<th>Value #A</th><th>Value #B</th>"), "a value column per query");
    assert!(b.contains("<td>2</td><td>20</td>"), "rows joined on their labels");

    // The built-in overview, with a variable chosen in the URL, and one panel alone.
    let page = get(&format!("{}/d/vigil-overview?var-job=j&from=now-5m", v.base));
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("panel-error"), "the overview renders without errors");
    assert!(page.body.contains("<option value=\"j\" selected>j</option>"), "the URL's selection is shown");
    assert!(page.body.contains("<div class=\"stat\" style=\"color: #73BF69\">1</div>"), "one target up in job j");
    let one = get(&format!("{}/d/vigil-overview?viewPanel=5&from=now-5m", v.base));
    assert_eq!(one.body.matches("<section class=\"panel").count(), 1);
    assert_eq!(get(&format!("{}/d/nope", v.base)).status, 404);
}

/// The three example dashboards of ../shared load and render; panels that
/// need their metrics may say so, none may fail otherwise.
#[test]
#[ignore = "reads ../shared/dashboards; .ci/run runs it"]
fn the_example_dashboards_render() {
    let dir = shared("dashboards");
    assert!(dir.exists(), "{} is missing: run beside ../shared", dir.display());
    let dir_arg = dir.display().to_string();
    let v = Vigil::start_with("scrape_configs: []\n", &["--dashboards", &dir_arg]);
    let list = get(&format!("{}/dashboards", v.base)).body;
    for uid in ["dittofs-nfs", "prometheus2-fusakla", "n5bu_kv45"] {
        assert!(list.contains(&format!("/d/{uid}\"")), "{uid} listed");
        let page = get(&format!("{}/d/{uid}?from=now-1h", v.base));
        assert_eq!(page.status, 200, "{uid}");
        assert!(page.body.contains("<section class=\"panel"), "{uid} has panels");
    }
}
