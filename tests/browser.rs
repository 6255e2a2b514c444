//! Vigil's pages in a real browser: Debian's Chromium, headless, opens each
//! page while Vigil scrapes itself, and the DOM it built must show no error
//! and draw what the page is for. Screenshots are kept under
//! `target/screenshots/` for people to look at.

mod common;

use common::*;
use std::time::Duration;

#[test]
#[ignore = "needs Debian's chromium package; .ci/run installs it"]
fn every_page_renders_in_chromium() {
    let v = Vigil::start(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: vigil\n    static_configs:\n      - targets: ['{self}']\n",
    );
    wait_for("a few scrapes of itself", Duration::from_secs(20), || {
        (v.query("count_over_time(up[1m])").first()?["value"][1].as_str()?.parse::<u32>().ok()? >= 3).then_some(())
    });
    let pages = [
        ("home", "/".to_string(), vec!["targets up", "series"]),
        ("targets", "/targets".to_string(), vec!["vigil", "up"]),
        ("status", "/status".to_string(), vec!["Bytes per sample on disk", "Cardinality"]),
        (
            "graph",
            format!("/graph?expr={}&range=5m", urlencode("rate(vigil_tsdb_head_samples_appended_total[30s])")),
            vec!["<svg", "class=\"line\"", "class=\"swatch\""],
        ),
        ("graph-error", format!("/graph?expr={}", urlencode("sum(up")), vec!["parse error", "class=\"caret\""]),
        ("dashboards", "/dashboards".to_string(), vec!["Vigil overview"]),
        (
            "overview",
            "/d/vigil-overview?from=now-5m".to_string(),
            // data-zoom and data-keys: the page's scripts ran and took their charts and keys.
            vec!["Targets up", "class=\"line\"", "class=\"stat\"", "data-zoom=\"1\"", "data-keys=\"1\""],
        ),
        ("overview-dark", "/d/vigil-overview?from=now-5m&theme=dark".to_string(), vec!["data-theme=\"dark\""]),
    ];
    for (name, path, wants) in pages {
        let dom = chromium(&format!("{}{path}", v.base), name);
        assert!(dom.contains("</html>"), "{name}: no page: {dom}");
        for w in wants {
            assert!(dom.contains(w), "{name}: {w:?} missing from the DOM Chromium built");
        }
        if name != "graph-error" {
            let failing = ["class=\"bad", "error-box", "panel-error"];
            assert!(!failing.iter().any(|f| dom.contains(f)), "{name} shows an error");
        }
    }
}

/// A dashboard of the shapes Grafana users keep: short stats, a gauge, time
/// series with overrides and table legends, a legacy graph; over Vigil's own
/// metrics.
const FIT_DASHBOARD: &str = r#"{"uid": "fit", "title": "fit", "graphTooltip": 2,
 "panels": [
  {"id": 1, "type": "stat", "title": "Memory", "gridPos": {"x": 0, "y": 0, "w": 3, "h": 2},
   "fieldConfig": {"defaults": {"unit": "bytes"}}, "targets": [{"refId": "A", "expr": "process_resident_memory_bytes"}]},
  {"id": 2, "type": "stat", "title": "Series in the head", "gridPos": {"x": 3, "y": 0, "w": 3, "h": 2},
   "targets": [{"refId": "A", "expr": "vigil_tsdb_head_series"}]},
  {"id": 3, "type": "gauge", "title": "Scrapes", "gridPos": {"x": 6, "y": 0, "w": 4, "h": 4},
   "fieldConfig": {"defaults": {"min": 0, "max": 2, "thresholds": {"mode": "absolute",
     "steps": [{"value": null, "color": "green"}, {"value": 1, "color": "orange"}, {"value": 1.5, "color": "red"}]}}},
   "targets": [{"refId": "A", "expr": "rate(vigil_scrapes_total[10s])"}]},
  {"id": 4, "type": "timeseries", "title": "Storage by kind, with its total", "gridPos": {"x": 10, "y": 0, "w": 14, "h": 8},
   "fieldConfig": {"defaults": {"unit": "bytes", "custom": {"fillOpacity": 30, "stacking": {"mode": "normal"}}},
     "overrides": [{"matcher": {"id": "byName", "options": "Total"}, "properties": [
       {"id": "custom.stacking", "value": {"mode": "none"}}, {"id": "custom.fillOpacity", "value": 0},
       {"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}}]}]},
   "options": {"legend": {"displayMode": "table", "calcs": ["min", "mean", "max", "lastNotNull"]}},
   "targets": [{"refId": "A", "expr": "sum by (kind) (vigil_tsdb_storage_bytes)", "legendFormat": "{{kind}} on a rather long legend name"},
               {"refId": "B", "expr": "sum(vigil_tsdb_storage_bytes)", "legendFormat": "Total"}]},
  {"id": 5, "type": "timeseries", "title": "Narrow", "gridPos": {"x": 0, "y": 4, "w": 5, "h": 6},
   "fieldConfig": {"defaults": {"custom": {"thresholdsStyle": {"mode": "line+area"}},
     "thresholds": {"mode": "absolute", "steps": [{"value": null, "color": "green"}, {"value": 12, "color": "red"}]}}},
   "targets": [{"refId": "A", "expr": "rate(vigil_scrape_samples_total[10s])", "legendFormat": "samples"}]},
  {"id": 6, "type": "graph", "title": "Legacy", "gridPos": {"x": 5, "y": 4, "w": 5, "h": 6}, "fill": 1,
   "targets": [{"refId": "A", "expr": "up", "legendFormat": "{{job}}"}]},
  {"id": 7, "type": "timeseries", "title": "Narrow with a table legend", "gridPos": {"x": 0, "y": 10, "w": 6, "h": 7},
   "options": {"legend": {"displayMode": "table", "calcs": ["min", "mean", "max"]}},
   "targets": [{"refId": "A", "expr": "sum by (kind) (vigil_tsdb_storage_bytes)", "legendFormat": "{{kind}} bytes of storage on this disk"}]},
  {"id": 8, "type": "timeseries", "title": "Many series in a list legend", "gridPos": {"x": 6, "y": 10, "w": 10, "h": 7},
   "targets": [{"refId": "A", "expr": "{__name__=~\"vigil_tsdb_.*\"}", "legendFormat": "{{__name__}} {{kind}}"}]},
  {"id": 9, "type": "timeseries", "title": "A table legend on the right", "gridPos": {"x": 16, "y": 10, "w": 8, "h": 7},
   "options": {"legend": {"displayMode": "table", "placement": "right", "calcs": ["max"], "sortBy": "Max", "sortDesc": true}},
   "targets": [{"refId": "A", "expr": "sum by (kind) (vigil_tsdb_storage_bytes)", "legendFormat": "{{kind}}"}]},
  {"id": 10, "type": "heatmap", "title": "Query durations", "gridPos": {"x": 0, "y": 17, "w": 24, "h": 7},
   "fieldConfig": {"defaults": {"unit": "s"}},
   "targets": [{"refId": "A", "expr": "sum by (le) (increase(vigil_engine_query_duration_seconds_bucket[20s]))", "format": "heatmap"}]},
  {"id": 12, "type": "stat", "title": "Storage by kind", "gridPos": {"x": 0, "y": 29, "w": 12, "h": 3},
   "fieldConfig": {"defaults": {"unit": "bytes"}},
   "targets": [{"refId": "A", "expr": "sum by (kind) (vigil_tsdb_storage_bytes)", "legendFormat": "{{kind}}"}]},
  {"id": 13, "type": "stat", "title": "Down", "gridPos": {"x": 12, "y": 29, "w": 3, "h": 6}, "options": {"orientation": "horizontal"},
   "fieldConfig": {"defaults": {"unit": "bytes"}},
   "targets": [{"refId": "A", "expr": "sum by (kind) (vigil_tsdb_storage_bytes)", "legendFormat": "{{kind}}"}]},
  {"id": 14, "type": "bargauge", "title": "Bars", "gridPos": {"x": 15, "y": 29, "w": 9, "h": 6},
   "options": {"displayMode": "lcd"},
   "fieldConfig": {"defaults": {"unit": "bytes", "min": 0, "max": 8192, "thresholds": {"mode": "absolute",
     "steps": [{"value": null, "color": "green"}, {"value": 4096, "color": "orange"}, {"value": 6144, "color": "red"}]}}},
   "targets": [{"refId": "A", "expr": "sum by (kind) (vigil_tsdb_storage_bytes)", "legendFormat": "{{kind}}"}]},
  {"id": 11, "type": "state-timeline", "title": "States", "gridPos": {"x": 0, "y": 24, "w": 24, "h": 5},
   "fieldConfig": {"defaults": {"mappings": [{"type": "value", "options": {
     "0": {"text": "off", "color": "red"}, "1": {"text": "on", "color": "green"}}}]}},
   "targets": [{"refId": "A", "expr": "up", "legendFormat": "vigil up"},
               {"refId": "B", "expr": "time() % 40 >= bool 20", "legendFormat": "every 20 s"}]}
 ]}"#;

#[test]
#[ignore = "needs Debian's chromium package; .ci/run installs it"]
fn dashboard_panels_fit_their_titles_values_legends_and_charts() {
    let dir = TempDir::new("fit");
    std::fs::create_dir_all(dir.path().join("dashboards")).unwrap();
    dir.write("dashboards/fit.json", FIT_DASHBOARD);
    let dashboards = dir.path().join("dashboards").display().to_string();
    let v = Vigil::start_in(
        dir,
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: vigil\n    static_configs:\n      - targets: ['{self}']\n",
        &["--dashboards", &dashboards],
    );
    wait_for("a few scrapes of itself", Duration::from_secs(20), || {
        (v.query("count_over_time(up[1m])").first()?["value"][1].as_str()?.parse::<u32>().ok()? >= 5).then_some(())
    });
    let mut page = common::browser::Browser::open(&format!("{}/d/fit?from=now-2m", v.base), (1400, 1000));
    page.screenshot("fit");
    let m = page.eval(common::browser::MEASURE_PANELS);
    assert_eq!(m["panels"], 14, "{m}");
    assert_eq!(m["overflow"], serde_json::json!([]), "clipped or overflowing: {m}");
    assert_eq!(m["narrow"], serde_json::json!([]), "charts narrower than 90 % of their panel: {m}");

    // graphTooltip 1: the pointer over one chart marks its time on every chart.
    page.wait_until("document.documentElement.dataset.crosshair === '1'", Duration::from_secs(10));
    let at = page.eval(
        "(() => { const s = document.querySelector('[data-panel-id=\"4\"] svg[data-start]'); const r = s.getBoundingClientRect(); \
         const k = r.width / s.viewBox.baseVal.width; \
         return [r.left + k * (+s.dataset.plotLeft + 0.75 * (s.dataset.plotRight - s.dataset.plotLeft)), r.top + r.height / 2]; })()",
    );
    page.mouse_move(at[0].as_f64().unwrap(), at[1].as_f64().unwrap());
    let lines = page.eval(
        "Array.from(document.querySelectorAll('svg[data-start] line.crosshair')).map(l => { \
           const s = l.ownerSVGElement, x = +l.getAttribute('x1'); \
           return { visible: l.getAttribute('visibility') === 'visible', \
                    t: +s.dataset.start + (s.dataset.end - s.dataset.start) * (x - s.dataset.plotLeft) / (s.dataset.plotRight - s.dataset.plotLeft) }; })",
    );
    let lines = lines.as_array().expect("crosshair lines");
    assert_eq!(lines.len(), 6, "one per time series chart: {lines:?}");
    let t0 = lines[0]["t"].as_f64().unwrap();
    for l in lines {
        assert_eq!(l["visible"], true, "{lines:?}");
        // The same time on every chart, to a pixel's worth of the range (2 min over some 600 px).
        assert!((l["t"].as_f64().unwrap() - t0).abs() < 500.0, "{lines:?}");
    }
    // graphTooltip 2: the other charts list their values at that time.
    let tips = page.eval(
        "Array.from(document.querySelectorAll('.shared-tip')).filter(t => !t.hidden).map(t => { \
           const p = t.closest('section.panel'), r = t.getBoundingClientRect(), q = p.getBoundingClientRect(); \
           return { panel: p.dataset.panelId, text: t.textContent, inside: r.left >= q.left - 1 && r.right <= q.right + 1 }; })",
    );
    let tips = tips.as_array().expect("tips");
    assert_eq!(tips.len(), lines.len() - 1, "every chart but the hovered one: {tips:?}");
    for t in tips {
        let values = t["text"].as_str().unwrap().lines().skip(1).filter(|l| !l.starts_with("… and "));
        assert!(values.clone().count() > 0 && values.clone().all(|l| l.contains(": ")), "{t}");
        assert_eq!(t["inside"], true, "{t}");
    }
    page.screenshot("fit-crosshair");

    // A click on a legend entry shows that series alone; ctrl-click adds another.
    let entry = |page: &mut common::browser::Browser, name: &str| {
        let at = page.eval(&format!(
            "(() => {{ const li = Array.from(document.querySelectorAll('[data-panel-id=\"8\"] .legend li')).find(l => l.textContent.trim() === '{name}'); \
             const r = li.getBoundingClientRect(); return [r.left + 20, r.top + r.height / 2]; }})()"
        ));
        (at[0].as_f64().unwrap(), at[1].as_f64().unwrap())
    };
    let drawn = "new Set(Array.from(document.querySelectorAll('[data-panel-id=\"8\"] path.line')).map(p => p.getAttribute('stroke'))).size";
    let all = page.eval("document.querySelectorAll('[data-panel-id=\"8\"] .legend li').length").as_u64().unwrap();
    assert!(page.eval(drawn).as_u64().unwrap() >= 3, "several series drawn");
    let (x, y) = entry(&mut page, "vigil_tsdb_storage_bytes wal");
    page.click(x, y, false);
    page.wait_until(
        &format!("location.search.includes('isolate=8') && document.readyState === 'complete' && {drawn} === 1"),
        Duration::from_secs(10),
    );
    let (x, y) = entry(&mut page, "vigil_tsdb_storage_bytes index");
    page.click(x, y, true);
    page.wait_until(
        &format!(
            "new URL(location.href).searchParams.getAll('isolate').length === 2 && document.readyState === 'complete' && {drawn} === 2"
        ),
        Duration::from_secs(10),
    );
    let greyed =
        page.eval("document.querySelectorAll('[data-panel-id=\"8\"] .legend li.off').length").as_u64().unwrap();
    assert_eq!(greyed, all - 2, "the others stay listed, greyed");
    page.screenshot("fit-isolated");
}
