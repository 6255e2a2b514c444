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
     "targets": [{"refId": "A", "expr": "m", "legendFormat": "{{a}}"}],
     "fieldConfig": {"defaults": {"custom": {"fillOpacity": 20, "stacking": {"mode": "normal"}}}},
     "options": {"legend": {"displayMode": "table", "calcs": ["min", "max", "mean", "lastNotNull"]}}},
    {"id": 3, "type": "flamegraph", "title": "not drawn", "gridPos": {"x": 0, "y": 8, "w": 24, "h": 4}},
    {"id": 4, "type": "gauge", "title": "g", "gridPos": {"x": 0, "y": 12, "w": 6, "h": 6},
     "targets": [{"refId": "A", "expr": "sum(m)"}], "fieldConfig": {"defaults": {"max": 4, "unit": "none",
       "thresholds": {"steps": [{"value": null, "color": "green"}, {"value": 2, "color": "red"}]}}}},
    {"id": 5, "type": "bargauge", "title": "b", "gridPos": {"x": 6, "y": 12, "w": 6, "h": 6},
     "targets": [{"refId": "A", "expr": "m", "legendFormat": "{{a}}"}]},
    {"id": 6, "type": "piechart", "title": "p", "gridPos": {"x": 12, "y": 12, "w": 6, "h": 6},
     "targets": [{"refId": "A", "expr": "m", "legendFormat": "{{a}}"}], "options": {"pieType": "donut"}},
    {"id": 7, "type": "table", "title": "t", "gridPos": {"x": 18, "y": 12, "w": 6, "h": 6},
     "targets": [{"refId": "A", "expr": "m", "instant": true}, {"refId": "B", "expr": "m * 10", "instant": true}]},
    {"id": 8, "type": "timeseries", "title": "overridden", "gridPos": {"x": 0, "y": 18, "w": 12, "h": 8},
     "targets": [{"refId": "A", "expr": "m", "legendFormat": "{{a}}"}],
     "fieldConfig": {"defaults": {}, "overrides": [
       {"matcher": {"id": "byName", "options": "2"}, "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": "purple"}}, {"id": "displayName", "value": "two"}]},
       {"matcher": {"id": "byRegexp", "options": "/script/"}, "properties": [{"id": "custom.transform", "value": "negative-Y"}]}]}},
    {"id": 10, "type": "timeseries", "title": "intervals", "gridPos": {"x": 12, "y": 22, "w": 12, "h": 6},
     "targets": [{"refId": "A", "expr": "sum(rate(m[$__rate_interval]))", "legendFormat": "rate over $__rate_interval"}]},
    {"id": 9, "type": "stat", "title": "mapped", "gridPos": {"x": 12, "y": 18, "w": 12, "h": 4},
     "targets": [{"refId": "A", "expr": "sum(m)"}],
     "fieldConfig": {"defaults": {"mappings": [{"type": "value", "options": {"3": {"text": "three", "color": "blue"}}}]}}}
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
    assert!(!list.body.contains("<script>alert"), "titles escaped in the list");

    let page = get(&format!("{}/d/hostile?from=now-5m&to=now", v.base));
    assert_eq!(page.status, 200);
    let b = &page.body;
    assert!(!b.contains("<script>alert") && !b.contains("<img"), "dashboard strings and label values escaped");
    assert!(b.contains("Panel type &#34;flamegraph&#34; is not drawn"), "a placeholder names the type");
    assert!(
        // A line opening with <script> is an HTML block in CommonMark: shown as text, whole.
        b.contains("<div class=\"markdown\">&lt;script&gt;alert('text')&lt;/script&gt; a</div>"),
        "text as escaped markdown, the variable filled in: {}",
        b.split("class=\"markdown\"").nth(1).map_or("", |t| &t[..t.len().min(120)])
    );
    assert!(b.contains("class=\"line\""), "the time series panel draws");
    assert_eq!(b.matches("class=\"swatch\"").count(), 7, "legends of the time series and pie");
    let bars = b.split("data-panel-id=\"5\"").nth(1).unwrap().split("</section>").next().unwrap();
    assert_eq!(bars.matches("<g class=\"bar-gauge\">").count(), 2, "a bar per series, named in the gauge: {bars}");
    assert!(!b.contains("panel-error"), "no panel fails");
    assert!(b.contains("<th>Min</th><th>Max</th><th>Mean</th><th>Last *</th>"), "a table legend with its calculations");
    let overridden = b.split("data-panel-id=\"8\"").nth(1).unwrap().split("</section>").next().unwrap();
    assert!(overridden.contains("background: #B877D9\"></span>two</li>"), "colour and display name by name");
    assert!(overridden.contains("stroke=\"#B877D9\"") || overridden.contains("fill=\"#B877D9\""), "drawn in it");
    assert!(overridden.contains("&lt;/script&gt;: -1"), "negative-Y by regex: the value drawn below zero");
    assert!(b.contains("color: #5794F2\">three</div>"), "a value mapping");
    // With a 1 s scrape interval, $__rate_interval is 4 × 1 s (Grafana's default 15 s would give 1m).
    assert!(b.contains("</span>rate over 4s</li>"), "the scrape interval of the config");
    assert!(b.contains("<td>2</td><td>2</td><td>2</td><td>2</td>"), "the series at 2, reduced");
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
    assert!(page.body.contains("color: #73BF69\">1</div>"), "one target up in job j");
    assert!(page.body.contains("<meta http-equiv=\"refresh\" content=\"30\">"), "the overview's own refresh");
    let page = get(&format!("{}/d/vigil-overview?refresh=10s", v.base));
    assert!(page.body.contains("content=\"10\"") && page.body.contains("<option value=\"10s\" selected>"));
    let page = get(&format!("{}/d/vigil-overview?refresh=", v.base));
    assert!(!page.body.contains("http-equiv=\"refresh\""), "refresh off");
    let one = get(&format!("{}/d/vigil-overview?viewPanel=5&from=now-5m", v.base));
    assert_eq!(one.body.matches("<section class=\"panel").count(), 1);
    assert!(one.body.contains("<input type=\"hidden\" name=\"viewPanel\" value=\"5\">"), "the form keeps the view");
    // The whole view is in the URL: time links keep the variables and theme; the theme is the page's.
    // (askama writes `&` as `&#38;`, the template's own as `&amp;`: one spelling for the checks)
    let dark =
        get(&format!("{}/d/vigil-overview?var-job=j&theme=dark&from=now-5m", v.base)).body.replace("&#38;", "&amp;");
    assert!(dark.contains("<html lang=\"en\" data-theme=\"dark\">"), "the URL's theme");
    assert!(
        dark.contains("href=\"/d/vigil-overview?var-job=j&amp;theme=dark&amp;from=now-15m&amp;to=now\""),
        "quick range"
    );
    assert!(dark.contains("?var-job=j&amp;theme=dark&amp;from=now-5m&amp;viewPanel=5\""), "panel link");
    assert!(dark.contains("stroke=\"currentColor\"") && !dark.contains("fill=\"#FFFFFF\""), "charts follow the page");
    let title = dark.split("<title>").nth(1).and_then(|t| t.split("</title>").next()).unwrap();
    assert!(!title.contains('<'), "the title is text: {title}");
    assert_eq!(get(&format!("{}/d/nope", v.base)).status, 404);

    // Panel images for chats and incident notes.
    let img = get(&format!("{}/render/panel?uid=hostile&panelId=2&width=800&height=300&from=now-5m", v.base));
    assert_eq!(img.status, 200);
    assert!(img.body.starts_with("<svg width=\"800\" height=\"300\""), "{}", &img.body[..200.min(img.body.len())]);
    assert!(["class=\"line\"", "<circle"].iter().any(|e| img.body.contains(e)), "the series are drawn");
    let img = get(&format!("{}/render/panel?uid=hostile&panelId=1", v.base));
    assert!(img.body.starts_with("<svg") && !img.body.contains("<script>alert"), "a text panel as an escaped image");
    let png = http_raw(&format!("{}/render/panel?uid=hostile&panelId=4&format=png&width=300&height=200", v.base));
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 300, "its width");
    assert_eq!(get(&format!("{}/render/panel?uid=hostile", v.base)).status, 400);
    assert_eq!(get(&format!("{}/render/panel?uid=hostile&panelId=99", v.base)).status, 404);
}

/// Histogram lines for `name` with `labels` (without braces), `n` scrapes in:
/// every bucket grows, the lower ones less.
fn histogram(out: &mut String, name: &str, labels: &str, les: &[&str], n: u64, per: u64) {
    let sep = if labels.is_empty() { "" } else { "," };
    let total = (n + 1) * per;
    for (i, le) in les.iter().enumerate() {
        let share = total * (i as u64 + 1) / les.len() as u64;
        out.push_str(&format!("{name}_bucket{{{labels}{sep}le=\"{le}\"}} {share}\n"));
    }
    out.push_str(&format!("{name}_sum{{{labels}}} {}\n{name}_count{{{labels}}} {total}\n", total as f64 * 0.05));
}

/// Metrics shaped like Traefik's, as its dashboard reads them.
fn traefik(n: u64) -> String {
    let mut o = String::new();
    let les = ["0.1", "0.3", "1.2", "5", "+Inf"];
    for (k, ep) in ["web", "websecure"].iter().enumerate() {
        o.push_str(&format!(
            "traefik_open_connections{{entrypoint=\"{ep}\",protocol=\"TCP\"}} {}\n",
            3 + (n + k as u64) % 5
        ));
        for code in ["200", "404"] {
            o.push_str(&format!(
                "traefik_entrypoint_requests_total{{entrypoint=\"{ep}\",code=\"{code}\",method=\"GET\",protocol=\"http\"}} {}\n",
                (n + 1) * 10
            ));
            histogram(
                &mut o,
                "traefik_entrypoint_request_duration_seconds",
                &format!("entrypoint=\"{ep}\",code=\"{code}\",method=\"GET\",protocol=\"http\""),
                &les,
                n,
                10,
            );
        }
    }
    for svc in ["api@internal", "whoami@docker"] {
        for code in ["200", "500"] {
            o.push_str(&format!(
                "traefik_service_requests_total{{service=\"{svc}\",code=\"{code}\",method=\"GET\",protocol=\"http\"}} {}\n",
                (n + 1) * 7
            ));
            histogram(
                &mut o,
                "traefik_service_request_duration_seconds",
                &format!("service=\"{svc}\",code=\"{code}\",method=\"GET\",protocol=\"http\""),
                &les,
                n,
                7,
            );
        }
        o.push_str(&format!(
            "traefik_service_requests_total{{service=\"{svc}\",code=\"404\",method=\"GET\",protocol=\"http\"}} {}\n",
            (n + 1) * 2
        ));
        o.push_str(&format!("traefik_service_requests_bytes_total{{service=\"{svc}\",code=\"200\",method=\"GET\",protocol=\"http\"}} {}\n", (n + 1) * 1000));
        o.push_str(&format!("traefik_service_responses_bytes_total{{service=\"{svc}\",code=\"200\",method=\"GET\",protocol=\"http\"}} {}\n", (n + 1) * 5000));
    }
    o.push_str(&format!("traefik_config_reloads_total {}\n", 1 + n / 10));
    o
}

/// Metrics shaped like DittoFS's NFS server.
fn dittofs(n: u64) -> String {
    let mut o = String::new();
    for share in ["/export", "/data"] {
        for proc_ in ["READ", "WRITE", "GETATTR"] {
            let l = format!("share=\"{share}\",procedure=\"{proc_}\"");
            for status in ["ok", "error"] {
                let v = if status == "ok" { (n + 1) * 20 } else { n + 1 };
                o.push_str(&format!("dittofs_nfs_requests_total{{{l},status=\"{status}\"}} {v}\n"));
            }
            o.push_str(&format!("dittofs_nfs_requests_in_flight{{{l}}} {}\n", n % 4));
            o.push_str(&format!("dittofs_nfs_bytes_transferred_total{{{l},direction=\"read\"}} {}\n", (n + 1) * 4096));
            histogram(&mut o, "dittofs_nfs_request_duration_milliseconds", &l, &["1", "5", "25", "100", "+Inf"], n, 20);
        }
        histogram(
            &mut o,
            "dittofs_nfs_operation_size_bytes",
            &format!("share=\"{share}\",operation=\"read\""),
            &["4096", "65536", "1048576", "+Inf"],
            n,
            20,
        );
    }
    o.push_str(&format!("dittofs_nfs_active_connections {}\n", 2 + n % 3));
    for c in ["accepted", "closed", "force_closed"] {
        o.push_str(&format!("dittofs_nfs_connections_{c}_total {}\n", (n + 1) * 3));
    }
    o
}

/// What Debian's Prometheus 2.42 does not expose itself but the Prometheus
/// dashboard reads (Consul and Kubernetes discovery, remote storage, older
/// names), under the scraped Prometheus's own `instance` and `job`.
fn prometheus_extras(instance: String) -> impl Fn(u64) -> String + Send + Sync + 'static {
    move |n| {
        let l = format!("instance=\"{instance}\",job=\"prometheus\"");
        let mut o = String::new();
        for q in ["0.01", "0.05", "0.5", "0.9", "0.99"] {
            for m in [
                "consul_rpc_duration_seconds",
                "prometheus_engine_query_duration_seconds",
                "prometheus_notifications_latency_seconds",
                "prometheus_rule_evaluation_duration_seconds",
                "prometheus_sd_file_scan_duration_seconds",
                "prometheus_sd_refresh_duration_seconds",
                "prometheus_tsdb_wal_fsync_duration_seconds",
                "prometheus_target_interval_length_seconds",
            ] {
                o.push_str(&format!("{m}{{{l},quantile=\"{q}\",slice=\"inner_eval\",mechanism=\"consul\",alertmanager=\"am\",interval=\"1s\"}} 0.0{}\n", 1 + n % 9));
            }
        }
        o.push_str(&format!("prometheus_sd_discovered_targets{{{l},config=\"prometheus\",name=\"scrape\"}} 1\n"));
        o.push_str(&format!(
            "prometheus_target_scrapes_sample_duplicate_timestamp_total{{{l},name=\"extra\"}} {}\n",
            n * 2
        ));
        for (m, k) in [
            ("net_conntrack_listener_conn_accepted_total", "listener_name"),
            ("net_conntrack_listener_conn_closed_total", "listener_name"),
            ("net_conntrack_dialer_conn_established_total", "dialer_name"),
            ("net_conntrack_dialer_conn_closed_total", "dialer_name"),
        ] {
            o.push_str(&format!("{m}{{{l},{k}=\"extra\"}} {}\n", n * 3));
        }
        o.push_str(&format!("prometheus_tsdb_wal_truncate_duration_seconds_sum{{{l}}} {}\n", (n + 1) as f64 * 0.2));
        o.push_str(&format!("prometheus_tsdb_wal_truncate_duration_seconds_count{{{l}}} {}\n", n + 1));
        for m in [
            "prometheus_api_remote_read_queries",
            "prometheus_remote_storage_remote_read_queries",
            "prometheus_remote_storage_shard_capacity",
            "prometheus_remote_storage_shards",
            "prometheus_rule_group_interval_seconds",
            "prometheus_rule_group_last_duration_seconds",
            "prometheus_rule_group_rules",
            "prometheus_engine_queries",
        ] {
            o.push_str(&format!("{m}{{{l},rule_group=\"g\",url=\"http://remote\"}} {}\n", 1 + n % 3));
        }
        for m in [
            "prometheus_remote_storage_succeeded_samples_total",
            "prometheus_sd_consul_rpc_duration_seconds_count",
            "prometheus_sd_kubernetes_http_request_duration_seconds_count",
            "prometheus_sd_kubernetes_http_request_duration_seconds_sum",
            "prometheus_sd_refresh_duration_seconds_count",
            "prometheus_tsdb_vertical_compactions_total",
            "prometheus_tsdb_size_retentions_total",
            "prometheus_tsdb_time_retentions_total",
            "prometheus_tsdb_compactions_total",
            "prometheus_notifications_sent_total",
        ] {
            o.push_str(&format!("{m}{{{l},url=\"http://remote\",mechanism=\"consul\"}} {}\n", (n + 1) * 5));
        }
        o.push_str(&format!(
            "prometheus_notifications_queue_length{{{l}}} {}\nprometheus_notifications_queue_capacity{{{l}}} 10000\n",
            n % 7
        ));
        histogram(
            &mut o,
            "prometheus_remote_storage_sent_batch_duration_seconds",
            &format!("{l},url=\"http://remote\""),
            &["0.1", "1", "+Inf"],
            n,
            5,
        );
        histogram(&mut o, "prometheus_tsdb_compaction_duration_seconds", &l, &["1", "10", "+Inf"], n, 2);
        o
    }
}

/// Families the extras target serves in place of Prometheus's own (which
/// need hours of history, or real errors, to show anything).
const EXTRAS: &str = "prometheus_tsdb_wal_truncate_duration_seconds.*|net_conntrack_.*|prometheus_target_interval_length_seconds|prometheus_engine_query_duration_seconds|prometheus_rule_evaluation_duration_seconds|prometheus_notifications_latency_seconds|prometheus_tsdb_wal_fsync_duration_seconds|prometheus_sd_.*";

/// The three example dashboards of ../shared, against data shaped like
/// theirs (a real Prometheus for the Prometheus dashboard, generated Traefik
/// and DittoFS metrics), every row opened: no panel fails and every data
/// panel draws something.
#[test]
#[ignore = "reads ../shared/dashboards and needs Debian's prometheus and chromium; .ci/run runs it"]
fn the_example_dashboards_render_completely() {
    let dir = shared("dashboards");
    assert!(dir.exists(), "{} is missing: run beside ../shared", dir.display());
    // Debian's Prometheus scraping itself, as the Prometheus dashboard expects.
    let prom_port = free_port();
    let prom = Prometheus::start_on(
        &format!("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:{prom_port}']\n"),
        prom_port,
    );
    let traefik_target = FakeTarget::start_generated(traefik);
    let dittofs_target = FakeTarget::start_generated(dittofs);
    let extras = FakeTarget::start_generated(prometheus_extras(prom.addr.clone()));
    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['{}']\n    metric_relabel_configs:\n      - source_labels: [__name__]\n        regex: '{EXTRAS}'\n        action: drop\n  - job_name: prometheus-extras\n    honor_labels: true\n    static_configs:\n      - targets: ['{}']\n  - job_name: traefik\n    static_configs:\n      - targets: ['{}']\n  - job_name: dittofs\n    static_configs:\n      - targets: ['{}']\n",
        prom.addr, extras.addr, traefik_target.addr, dittofs_target.addr
    );
    let dir_arg = dir.display().to_string();
    let v = Vigil::start_with(&config, &["--dashboards", &dir_arg]);
    // The Prometheus dashboard's error panel takes a subquery at a 20 s step over a
    // minute: it needs some 40 s of history.
    wait_for("40 s of scrapes of every target", Duration::from_secs(90), || {
        let r = v.query("min(count_over_time(up[1m]))");
        (r.first()?["value"][1].as_str()?.parse::<u32>().ok()? >= 40).then_some(())
    });
    let list = get(&format!("{}/dashboards", v.base)).body;
    let mut report = Vec::new();
    for uid in ["dittofs-nfs", "prometheus2-fusakla", "n5bu_kv45"] {
        assert!(list.contains(&format!("/d/{uid}\"")), "{uid} listed");
        let page = get(&format!("{}/d/{uid}?from=now-2m&to=now&open=all", v.base));
        assert_eq!(page.status, 200, "{uid}");
        let sections: Vec<&str> = page.body.split("<section class=\"panel").skip(1).collect();
        assert!(sections.len() >= 8, "{uid}: {} panels", sections.len());
        for s in &sections {
            let head = &s[..s.find('>').unwrap_or(0)];
            let id = head.split("data-panel-id=\"").nth(1).and_then(|x| x.split('"').next()).unwrap_or("?");
            let title = s.split("<h3>").nth(1).map(|t| t.split("</h3>").next().unwrap_or("")).unwrap_or("");
            if s.contains("panel-error") {
                report.push(format!(
                    "{uid} panel {id} fails: {}",
                    &s[s.find("panel-error").unwrap()..].chars().take(200).collect::<String>()
                ));
            } else if head.contains("data-no-data") {
                report.push(format!("{uid} panel {id} draws nothing: {title}"));
            }
        }
        // The same view in a real browser: what it built shows no failing or empty panel.
        let dom = chromium(&format!("{}/d/{uid}?from=now-2m&to=now&open=all", v.base), uid);
        assert_eq!(dom.matches("<section class=\"panel").count(), sections.len(), "{uid} in Chromium");
        assert!(!dom.contains("panel-error") && !dom.contains("data-no-data"), "{uid} in Chromium");
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

#[test]
fn an_uploaded_dashboard_is_served_and_kept_across_restarts() {
    let mut v = Vigil::start("scrape_configs: []\n");
    let json = r#"{"uid": "up-1", "title": "Uploaded <b>", "panels": [{"id": 1, "type": "timeseries", "title": "t", "gridPos": {"x": 0, "y": 0, "w": 24, "h": 8}, "targets": [{"expr": "up"}]}]}"#;
    let r = http_bytes("POST", &format!("{}/dashboards/import", v.base), "application/json", json.as_bytes()).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("\"uid\":\"up-1\""), "{}", r.body);
    assert_eq!(get(&format!("{}/d/up-1", v.base)).status, 200);
    // From the page's form: a redirect to the dashboard.
    let form = format!("json={}", urlencode(&json.replace("up-1", "up-2")));
    let r = http("POST", &format!("{}/dashboards/import", v.base), &form).unwrap();
    assert_eq!(r.status, 303, "{}", r.body);
    // Bad JSON: refused with its place, nothing kept.
    let r =
        http_bytes("POST", &format!("{}/dashboards/import", v.base), "application/json", b"{\"panels\": [}").unwrap();
    assert_eq!(r.status, 400);
    assert!(r.body.contains("line 1"), "{}", r.body);
    v.terminate();
    v.restart();
    let list = get(&format!("{}/dashboards", v.base)).body;
    assert!(list.contains("/d/up-1\"") && list.contains("/d/up-2\""), "uploads kept across a restart");
    assert!(list.contains("Uploaded &#60;b&#62;") || list.contains("Uploaded &lt;b&gt;"), "title escaped");
}

/// With Debian's node_exporter scraped, the built-in host dashboard is listed
/// and every panel draws; without one it is not listed.
#[test]
#[ignore = "needs Debian's prometheus-node-exporter; .ci/run installs it"]
fn the_host_dashboard_appears_with_a_node_exporter() {
    let v = Vigil::start("scrape_configs: []\n");
    assert!(
        !get(&format!("{}/dashboards", v.base)).body.contains("/d/vigil-host\""),
        "no node_exporter, no host dashboard"
    );
    drop(v);
    let addr = format!("127.0.0.1:{}", free_port());
    let _exporter = Proc::spawn(
        "node_exporter",
        std::process::Command::new("prometheus-node-exporter")
            .arg(format!("--web.listen-address={addr}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null()),
    );
    let v = Vigil::start(&format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['{addr}']\n"
    ));
    wait_for("a few scrapes of node_exporter", Duration::from_secs(30), || {
        let r = v.query("count_over_time(node_load1[1m])");
        (r.first()?["value"][1].as_str()?.parse::<u32>().ok()? >= 4).then_some(())
    });
    assert!(get(&format!("{}/dashboards", v.base)).body.contains("/d/vigil-host\""));
    assert!(get(&format!("{}/", v.base)).body.contains("/d/vigil-host\""), "on the home page too");
    let page = get(&format!("{}/d/vigil-host?from=now-2m", v.base)).body;
    let sections = page.matches("<section class=\"panel").count();
    assert_eq!(sections, 9);
    assert!(!page.contains("panel-error") && !page.contains("data-no-data"), "every host panel draws");
}

/// `vigil.dashboards` in the config names directories of dashboard JSON
/// (relative to the config file); a reload reads them again.
#[test]
fn the_config_file_provisions_dashboards_and_a_reload_reads_them_again() {
    let dir = TempDir::new("provisioned");
    std::fs::create_dir(dir.path().join("boards")).unwrap();
    let board = |uid: &str| {
        format!(
            r#"{{"uid": "{uid}", "title": "Board {uid}", "panels": [{{"id": 1, "type": "timeseries", "title": "t", "gridPos": {{"x": 0, "y": 0, "w": 24, "h": 8}}, "targets": [{{"expr": "up"}}]}}]}}"#
        )
    };
    std::fs::write(dir.path().join("boards/one.json"), board("one")).unwrap();
    let v = Vigil::start_in(dir, "scrape_configs: []\nvigil:\n  dashboards:\n    - boards\n", &[]);
    assert_eq!(get(&format!("{}/d/one", v.base)).status, 200, "provisioned at start");
    assert_eq!(get(&format!("{}/d/two", v.base)).status, 404);
    std::fs::write(v.dir.path().join("boards/two.json"), board("two")).unwrap();
    assert_eq!(http("POST", &format!("{}/-/reload", v.base), "").unwrap().status, 200);
    assert_eq!(get(&format!("{}/d/two", v.base)).status, 200, "read again on reload");
    assert!(get(&format!("{}/dashboards", v.base)).body.contains("Board two"));
}
