//! How a panel's queries are asked, as Grafana asks them: instant and range
//! targets, each target's own step (`interval`, `intervalFactor`, the panel's
//! `maxDataPoints`) and `$__rate_interval`, and a panel's own range
//! (`timeFrom`, `timeShift`); colours and annotations, over the benchmark's
//! store of one instance.

#[path = "../benches/fixture/mod.rs"]
#[allow(dead_code)] // shared with the benchmark and other tests
mod fixture;

use fixture::{HOUR, T0};

const DASHBOARD: &str = r#"{
  "uid": "q", "title": "queries", "tags": ["t"],
  "templating": {"list": [{"name": "team", "type": "custom", "query": "a b,c", "current": {"value": "a b"}}]},
  "links": [
    {"type": "link", "title": "Runbook of $team", "url": "https://runbooks.example/$team?x=1", "includeVars": true,
     "keepTime": true, "targetBlank": true, "tooltip": "<i>help</i>"},
    {"type": "link", "title": "sneaky", "url": "javascript:alert(1)"},
    {"type": "link", "title": "also sneaky", "url": " JavaScript:alert(1)"},
    {"type": "dashboards", "tags": ["t"], "title": "others", "includeVars": true}
  ],
  "annotations": {"list": [
    {"builtIn": 1, "datasource": "-- Grafana --", "enable": true, "hide": true, "name": "Annotations & Alerts"},
    {"name": "Up", "expr": "sum by (job) (up) > 0", "step": "5m", "titleFormat": "<b>{{job}}</b> up",
     "textFormat": "all of {{job}}", "tagKeys": "job,nothing", "iconColor": "dark-green", "enable": true},
    {"name": "Every 20 minutes", "expr": "sum(up) and on () (vector(time() % 1200) < 300)", "step": "1m", "iconColor": "rgba(0, 211, 255, 1)"},
    {"name": "When", "expr": "vector(1700001000000)", "useValueForTime": true, "step": "1m"},
    {"name": "Off", "expr": "up", "enable": false},
    {"name": "Broken", "expr": "sum(", "enable": true}
  ]},
  "panels": [
    {"id": 1, "type": "stat", "title": "range", "gridPos": {"x": 0, "y": 0, "w": 6, "h": 4}, "maxDataPoints": 100,
     "fieldConfig": {"defaults": {"unit": "none"}}, "options": {"reduceOptions": {"calcs": ["count"]}},
     "targets": [{"refId": "A", "expr": "sum(up)"}]},
    {"id": 2, "type": "stat", "title": "instant", "gridPos": {"x": 6, "y": 0, "w": 6, "h": 4}, "maxDataPoints": 100,
     "fieldConfig": {"defaults": {"unit": "none"}}, "options": {"reduceOptions": {"calcs": ["count"]}},
     "targets": [{"refId": "A", "expr": "sum(up)", "instant": true}]},
    {"id": 3, "type": "timeseries", "title": "steps", "gridPos": {"x": 0, "y": 4, "w": 24, "h": 8}, "maxDataPoints": 100,
     "targets": [
       {"refId": "A", "expr": "sum(rate(up[$__rate_interval]))", "legendFormat": "A $__interval $__rate_interval"},
       {"refId": "B", "expr": "sum(up)", "interval": "5m", "legendFormat": "B $__interval $__rate_interval"},
       {"refId": "C", "expr": "sum(up)", "intervalFactor": 3, "legendFormat": "C $__interval $__rate_interval"},
       {"refId": "D", "expr": "sum(up)", "instant": true, "range": true, "legendFormat": "D"},
       {"refId": "E", "expr": "sum(up)", "hide": true, "legendFormat": "E"}]},
    {"id": 4, "type": "stat", "title": "shifted", "gridPos": {"x": 0, "y": 12, "w": 6, "h": 4}, "maxDataPoints": 100,
     "timeShift": "2h", "fieldConfig": {"defaults": {"unit": "none"}}, "options": {"reduceOptions": {"calcs": ["count"]}},
     "targets": [{"refId": "A", "expr": "sum(up)"}]},
    {"id": 5, "type": "stat", "title": "unshifted", "gridPos": {"x": 6, "y": 12, "w": 6, "h": 4},
     "fieldConfig": {"defaults": {"noValue": "nothing yet"}}, "targets": [{"refId": "A", "expr": "sum(up)"}]},
    {"id": 6, "type": "stat", "title": "last hour", "gridPos": {"x": 12, "y": 12, "w": 6, "h": 4}, "timeFrom": "1h",
     "targets": [{"refId": "A", "expr": "sum(up)"}]},
    {"id": 7, "type": "stat", "title": "quiet", "gridPos": {"x": 18, "y": 12, "w": 6, "h": 4}, "timeFrom": "7d",
     "hideTimeOverride": true, "targets": [{"refId": "A", "expr": "sum(up)"}]},
    {"id": 8, "type": "timeseries", "title": "fixed", "gridPos": {"x": 0, "y": 16, "w": 8, "h": 6},
     "fieldConfig": {"defaults": {"color": {"mode": "fixed", "fixedColor": "dark-red"}}},
     "targets": [{"refId": "A", "expr": "sum(up)", "legendFormat": "up"}]},
    {"id": 9, "type": "stat", "title": "percent", "gridPos": {"x": 8, "y": 16, "w": 8, "h": 6},
     "fieldConfig": {"defaults": {"min": 0, "max": 4, "thresholds": {"mode": "percentage",
       "steps": [{"value": null, "color": "green"}, {"value": 20, "color": "red"}]}}},
     "targets": [{"refId": "A", "expr": "sum(up)"}]},
    {"id": 13, "type": "gauge", "title": "scheme", "gridPos": {"x": 8, "y": 28, "w": 8, "h": 6},
     "fieldConfig": {"defaults": {"min": 0, "max": 2, "color": {"mode": "continuous-GrYlRd"}}},
     "targets": [{"refId": "A", "expr": "sum(up)"}]},
    {"id": 10, "type": "timeseries", "title": "by threshold", "gridPos": {"x": 16, "y": 16, "w": 8, "h": 6},
     "fieldConfig": {"defaults": {"color": {"mode": "thresholds"}, "thresholds": {"mode": "absolute",
       "steps": [{"value": null, "color": "green"}, {"value": 1, "color": "light-orange"}]}},
       "overrides": [{"matcher": {"id": "byName", "options": "twice"}, "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": "blue"}}]}]},
     "targets": [{"refId": "A", "expr": "sum(up)", "legendFormat": "once"}, {"refId": "B", "expr": "sum(up) * 2", "legendFormat": "twice"},
       {"refId": "C", "expr": "sum(up) - 1", "legendFormat": "none"}]},
    {"id": 11, "type": "timeseries", "title": "shares", "gridPos": {"x": 0, "y": 22, "w": 12, "h": 6},
     "fieldConfig": {"defaults": {"unit": "bytes", "custom": {"stacking": {"mode": "percent"}, "fillOpacity": 10}}},
     "options": {"tooltip": {"mode": "multi", "sort": "desc"}},
     "targets": [{"refId": "A", "expr": "sum(up)", "legendFormat": "one"}, {"refId": "B", "expr": "sum(up) * 3", "legendFormat": "three"}]},
    {"id": 12, "type": "table", "title": "organized", "gridPos": {"x": 12, "y": 22, "w": 12, "h": 6},
     "targets": [{"refId": "A", "expr": "up", "format": "table", "instant": true}],
     "transformations": [{"id": "organize", "options": {"excludeByName": {"__name__": true, "job": true, "Time": true},
       "indexByName": {"Value": 0, "instance": 1}, "renameByName": {"Value": "Up", "instance": "<Host>"}}}],
     "fieldConfig": {"defaults": {"custom": {"cellOptions": {"type": "color-background"}},
       "thresholds": {"mode": "absolute", "steps": [{"value": null, "color": "green"}, {"value": 1, "color": "red"}]}}}}
  ]
}"#;

const OTHER: &str = r#"{"uid": "other", "title": "Other <x>", "tags": ["u", "t"], "panels": []}"#;
const UNTAGGED: &str = r#"{"uid": "untagged", "title": "Untagged", "panels": []}"#;

/// The HTML of panel `id` on `page`.
fn panel(page: &str, id: u32) -> &str {
    let at = page.find(&format!("data-panel-id=\"{id}\"")).unwrap_or_else(|| panic!("panel {id} in {page}"));
    let rest = &page[at..];
    &rest[..rest.find("</section>").unwrap()]
}

/// A stat panel's value.
fn stat(page: &str, id: u32) -> &str {
    let p = panel(page, id);
    let v = &p[p.find("<div class=\"stat").unwrap_or_else(|| panic!("{p}"))..];
    &v[v.find('>').unwrap() + 1..v.find("</div>").unwrap()]
}

/// A time series panel's legend names.
fn legend(page: &str, id: u32) -> Vec<String> {
    panel(page, id)
        .split("<span class=\"swatch\"")
        .skip(1)
        .map(|l| l[l.find("</span>").unwrap() + 7..l.find("</li>").unwrap()].to_string())
        .collect()
}

/// A time series panel's legend colours.
fn swatches(page: &str, id: u32) -> Vec<String> {
    panel(page, id)
        .split("<span class=\"swatch\" style=\"background: ")
        .skip(1)
        .map(|l| l[..l.find('"').unwrap()].to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targets_are_asked_as_grafana_asks_them() {
    let router = web::router(fixture::state_with(fixture::store(1), &[DASHBOARD, OTHER, UNTAGGED]));
    let (status, page) = fixture::get(router.clone(), &format!("/d/q?from={T0}&to={}", T0 + HOUR)).await;
    assert_eq!(status, 200, "{page}");
    // An hour over 100 points: `$__interval` is 1m (36 s rounded up Grafana's ladder), 61 steps.
    assert_eq!(stat(&page, 1), "61", "a range query's points");
    assert_eq!(stat(&page, 2), "1", "an instant query: one point at the range's end");
    // Each target's step: the panel's interval, the target's own floor, its factor;
    // `$__rate_interval` = max(step + scrape interval, 4 × scrape interval), where a
    // target's own interval stands for the scrape interval (15 s here).
    assert_eq!(
        legend(&page, 3),
        ["A 1m 1m15s", "B 5m 20m", "C 3m 3m15s", "D", "D"],
        "each target's step and rate interval; the hidden one not asked"
    );
    assert!(!panel(&page, 3).contains("data-no-data"));

    // Links: variables filled in, kept and the time range kept when asked;
    // no script links; a dashboards link lists other dashboards only.
    let links = &page[page.find("<nav class=\"dash-links\">").expect("links")..];
    let links = &links[..links.find("</nav>").unwrap()];
    assert_eq!(
        links,
        format!(
            "<nav class=\"dash-links\"><a href=\"https://runbooks.example/a b?x=1&#38;var-team=a+b&#38;from={T0}&#38;to={}\" \
             title=\"&#60;i&#62;help&#60;/i&#62;\" target=\"_blank\" rel=\"noopener\">Runbook of a b</a> \
             <a href=\"/d/other?var-team=a+b\">Other &#60;x&#62;</a> ",
            T0 + HOUR
        )
    );

    // Annotations on time series, not on stats: one span where `up` holds all
    // hour, three where the second query is non-zero (a step apart joined);
    // the disabled one not asked, the broken one named above the panels.
    let marks: Vec<&str> = panel(&page, 3).split("<g class=\"mark\"><title>").skip(1).collect();
    assert_eq!(marks.len(), 5, "{marks:?}");
    // `useValueForTime`: every step's value names the same time, one mark there (a line, no band).
    assert!(marks[4].starts_with("When\n") && marks[4].contains("width=\"7\""), "{}", marks[4]);
    assert!(marks[0].starts_with("&lt;b&gt;api&lt;/b&gt; up\nall of api\ntags: api\n"), "{}", marks[0]);
    assert!(marks[0].contains("stroke=\"#37872D\""), "{}", marks[0]);
    assert!(marks[1..4]
        .iter()
        .all(|m| m.starts_with("Every 20 minutes\n") && m.contains("fill=\"rgba(0, 211, 255, 1)\"")));
    assert!(!panel(&page, 1).contains("class=\"mark\""));
    assert!(page.contains("<p class=\"bad note\">annotation &#34;Broken&#34;: "), "the failing annotation is named");
    assert_eq!(page.matches("class=\"bad note\"").count(), 1);

    // Colours: the panel's fixed colour; a threshold in percent of min..max (1 is
    // 25% of 0..4: red); series coloured by their last value's threshold unless
    // an override names a colour.
    assert_eq!(swatches(&page, 8), ["#C4162A"]);
    assert!(panel(&page, 9).contains("color: #F2495C\">"), "{}", panel(&page, 9));
    assert_eq!(swatches(&page, 10), ["#FFB357", "#5794F2", "#73BF69"]);
    // A continuous scheme: 1 halfway along 0..2 of green-yellow-red is yellow.
    assert!(panel(&page, 13).contains("style=\"color: #FADE2A\""), "{}", panel(&page, 13));
    // A table as the `organize` transformation leaves it, its value cells coloured by thresholds.
    let table = panel(&page, 12);
    assert!(table.contains("<thead><tr><th>Up</th><th>&#60;Host&#62;</th></tr></thead>"), "{table}");
    assert!(
        table.contains("<tr><td style=\"background: #F2495C; color: #111\">1</td><td>host-000:9100</td></tr>"),
        "{table}"
    );
    // Percent stacking: each series' share of the time's total.
    assert!(panel(&page, 11).contains("\nthree: 75%\none: 25%</title>"), "{}", panel(&page, 11));

    // A panel's own range: shifted back two hours it sees the stored hour; the
    // same range unshifted has nothing; `timeFrom` ends now, far from the data.
    let (_, page) = fixture::get(router, &format!("/d/q?from={}&to={}", T0 + 2 * HOUR, T0 + 3 * HOUR)).await;
    assert_eq!(stat(&page, 4), "61");
    assert!(panel(&page, 4).contains("<span class=\"time-info\">timeshift -2h</span>"));
    assert_eq!(stat(&page, 5), "nothing yet", "noValue");
    assert!(!panel(&page, 5).contains("time-info"));
    assert_eq!(stat(&page, 6), "No data");
    assert!(panel(&page, 6).contains("<span class=\"time-info\">Last 1 hour</span>"));
    assert!(!panel(&page, 7).contains("time-info"), "hideTimeOverride");
}
