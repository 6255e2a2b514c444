//! Panels repeated by a variable, over the benchmark's store of three
//! instances: one copy per selected value, each titled and queried with its
//! own value, laid side by side; the panel below them moves down.

#[path = "../benches/fixture/mod.rs"]
#[allow(dead_code)] // shared with the benchmark and other tests
mod fixture;

use fixture::{HOUR, T0};

const DASHBOARD: &str = r#"{
  "uid": "r", "title": "repeats",
  "templating": {"list": [{"name": "code", "type": "custom", "query": "200,404,500", "multi": true,
    "current": {"value": ["200", "404", "500"]}}]},
  "panels": [
    {"id": 1, "type": "stat", "title": "code $code", "gridPos": {"x": 0, "y": 0, "w": 8, "h": 4}, "repeat": "code",
     "options": {"graphMode": "none"},
     "targets": [{"refId": "A", "expr": "count(http_requests_total{code=\"$code\"})", "instant": true}]},
    {"id": 2, "type": "text", "title": "below", "gridPos": {"x": 0, "y": 4, "w": 24, "h": 2}, "options": {"content": "hi"}}
  ]
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_panel_draws_one_copy_per_value_each_with_its_own_value() {
    let router = web::router(fixture::state_with(fixture::store(3), &[DASHBOARD]));
    let (status, page) = fixture::get(router, &format!("/d/r?from={T0}&to={}", T0 + HOUR)).await;
    assert_eq!(status, 200, "{page}");
    let titles: Vec<&str> = page.split("viewPanel=1\">").skip(1).map(|s| &s[..s.find("</a>").unwrap()]).collect();
    assert_eq!(titles, ["code 200", "code 404", "code 500"], "one copy per value, titled with it");
    // Each copy counts one code's series: 64 handlers × 3 instances.
    assert_eq!(page.matches(">192</div>").count(), 3, "{page}");
    // Side by side, each 8 wide; the text panel below them.
    for (x, copy) in [(1, 0), (9, 1), (17, 2)] {
        assert!(page.contains(&format!("grid-column: {x} / span 8; grid-row: 1 / span 4;")), "copy {copy}: {page}");
    }
    assert!(page.contains("grid-column: 1 / span 24; grid-row: 5 / span 2;"), "{page}");
}

const ROWS: &str = r#"{
  "uid": "rows", "title": "repeated rows",
  "templating": {"list": [{"name": "code", "type": "custom", "query": "200,404", "multi": true,
    "current": {"value": ["200", "404"]}}]},
  "panels": [
    {"id": 1, "type": "row", "title": "code $code", "gridPos": {"x": 0, "y": 0, "w": 24, "h": 1}, "repeat": "code",
     "collapsed": false, "panels": []},
    {"id": 2, "type": "stat", "title": "series of $code", "gridPos": {"x": 0, "y": 1, "w": 12, "h": 4},
     "options": {"graphMode": "none"},
     "targets": [{"refId": "A", "expr": "count(http_requests_total{code=\"$code\"})", "instant": true}]},
    {"id": 3, "type": "row", "title": "after", "gridPos": {"x": 0, "y": 5, "w": 24, "h": 1}, "collapsed": false, "panels": []},
    {"id": 4, "type": "text", "title": "below", "gridPos": {"x": 0, "y": 6, "w": 24, "h": 2}, "options": {"content": "hi"}}
  ]
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_row_draws_its_panels_once_per_value_and_the_rest_below_them() {
    let router = web::router(fixture::state_with(fixture::store(3), &[ROWS]));
    let (status, page) = fixture::get(router, &format!("/d/rows?from={T0}&to={}", T0 + HOUR)).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("▾ code 200") && page.contains("▾ code 404"), "a row per value, titled with it: {page}");
    let titles: Vec<&str> = page.split("\">series of ").skip(1).map(|s| &s[..s.find("</a>").unwrap()]).collect();
    assert_eq!(titles, ["200", "404"]);
    assert_eq!(page.matches(">192</div>").count(), 2, "each copy queries its own value: {page}");
    // Two sections of five rows, then the rest.
    assert!(page.contains("grid-column: 1 / span 24; grid-row: 12 / span 2;"), "{page}");
}
