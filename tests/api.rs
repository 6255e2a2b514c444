//! The Prometheus HTTP API as clients see it: shapes, errors and annotations.

mod common;

use common::*;
use std::time::Duration;

fn vigil_with_data() -> (Vigil, FakeTarget) {
    vigil_scraping(
        "# HELP m A gauge, with \\\\ and \\n in its help.\n# TYPE m gauge\nm{a=\"1\"} 1\nm{a=\"2\"} 2\n\
                    # TYPE c counter\nc_total 5\n",
    )
}

/// Vigil scraping a target that serves `body` every second, after two scrapes of `m`.
fn vigil_scraping(body: &str) -> (Vigil, FakeTarget) {
    let fake = FakeTarget::start(vec![("/metrics", Reply::text(body))]);
    let v = Vigil::start(&format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: j\n    static_configs:\n      - targets: ['{}']\n",
        fake.addr
    ));
    wait_for("two scrapes", Duration::from_secs(15), || {
        (v.query("count_over_time(m[1m])").first()?["value"][1] != "1").then_some(())
    });
    (v, fake)
}

fn now_s() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64()
}

#[test]
fn query_range_and_errors_have_prometheus_shapes() {
    let (v, _fake) = vigil_with_data();
    let end = now_s();
    let url =
        format!("{}/api/v1/query_range?query={}&start={}&end={end}&step=1", v.base, urlencode("sum(m)"), end - 5.0);
    let j = get_json(&url);
    assert_eq!(j["status"], "success", "{j}");
    assert_eq!(j["data"]["resultType"], "matrix");
    let values = j["data"]["result"][0]["values"].as_array().unwrap();
    assert!(!values.is_empty());
    assert_eq!(values.last().unwrap()[1], "3");

    for (path, want) in [
        ("/api/v1/query", "query must not be empty"),
        ("/api/v1/query?query=sum(", "parse error"),
        ("/api/v1/query?query=up&time=yesterday", "invalid parameter \"time\""),
        ("/api/v1/query_range?query=up&start=1&end=2&step=0", "zero or negative"),
        ("/api/v1/query_range?query=up&start=0&end=100000&step=1", "11,000 points"),
        ("/api/v1/series?match[]=%7B", "invalid parameter \"match[]\""),
    ] {
        let r = get(&format!("{}{path}", v.base));
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        let j: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(j["status"], "error");
        assert_eq!(j["errorType"], "bad_data");
        assert!(j["error"].as_str().unwrap().contains(want), "{path}: {}", j["error"]);
    }
    let r = get(&format!("{}/api/v1/query?query={}", v.base, urlencode("m + on(a) group_left m{a=\"1\"} + m")));
    assert!(r.status == 200 || r.status == 422, "{}", r.body);
}

#[test]
fn annotations_are_returned_as_prometheus_returns_them() {
    let (v, _fake) = vigil_with_data();
    let j = get_json(&format!("{}/api/v1/query?query={}", v.base, urlencode("rate(m[1m])")));
    assert_eq!(j["status"], "success");
    let infos = j["infos"].as_array().expect("infos");
    assert_eq!(
        infos[0],
        "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"m\" (1:6)"
    );
    let j = get_json(&format!("{}/api/v1/query?query={}", v.base, urlencode("quantile(2, m)")));
    assert_eq!(j["warnings"][0], "PromQL warning: quantile value should be between 0 and 1, got 2 (1:10)");
    let j = get_json(&format!("{}/api/v1/query?query={}", v.base, urlencode("sum(m)")));
    assert!(j.get("warnings").is_none() && j.get("infos").is_none(), "{j}");
}

#[test]
fn metadata_endpoints_answer_from_the_scraped_type_and_help() {
    let (v, fake) = vigil_with_data();
    let j = get_json(&format!("{}/api/v1/metadata", v.base));
    assert_eq!(j["status"], "success", "{j}");
    assert_eq!(
        j["data"]["m"],
        serde_json::json!([{"type": "gauge", "help": "A gauge, with \\ and \n in its help.", "unit": ""}])
    );
    assert_eq!(j["data"]["c"][0]["type"], "counter");
    let j = get_json(&format!("{}/api/v1/metadata?metric=c&limit=5", v.base));
    assert_eq!(j["data"].as_object().unwrap().len(), 1, "{j}");
    let j = get_json(&format!("{}/api/v1/metadata?limit=1", v.base));
    assert_eq!(j["data"].as_object().unwrap().len(), 1, "{j}");

    let sel = urlencode("{job=\"j\"}");
    let j = get_json(&format!("{}/api/v1/targets/metadata?match_target={sel}&metric=m", v.base));
    let list = j["data"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{j}");
    assert_eq!(list[0]["target"], serde_json::json!({"instance": fake.addr.to_string(), "job": "j"}));
    assert_eq!(list[0]["type"], "gauge");
    assert!(list[0].get("metric").is_none(), "no metric field when one was asked for: {j}");
    let j = get_json(&format!("{}/api/v1/targets/metadata?match_target={sel}", v.base));
    let names: Vec<&str> = j["data"].as_array().unwrap().iter().map(|e| e["metric"].as_str().unwrap()).collect();
    assert_eq!(names, ["c", "m"]);
    let j = get_json(&format!("{}/api/v1/targets/metadata?match_target={}", v.base, urlencode("{job=\"other\"}")));
    assert_eq!(j["data"], serde_json::json!([]));

    for path in ["/api/v1/metadata?limit=x", "/api/v1/targets/metadata?match_target=%7B", "/api/v1/query_exemplars"] {
        let r = get(&format!("{}{path}", v.base));
        assert_eq!(r.status, 400, "{path}: {}", r.body);
    }
    let j = get_json(&format!("{}/api/v1/query_exemplars?query=m&start=0&end=10", v.base));
    assert_eq!(j, serde_json::json!({"status": "success", "data": []}));
}

#[test]
fn format_query_answers_as_prometheus_formats() {
    let v = Vigil::start("scrape_configs: []\n");
    let q = urlencode("sum(rate(x{b='2',a=\"1\"}[5m]))by(job)");
    let j = get_json(&format!("{}/api/v1/format_query?query={q}", v.base));
    assert_eq!(j, serde_json::json!({"status": "success", "data": "sum by (job) (rate(x{a=\"1\",b=\"2\"}[5m]))"}));
    let r = http("POST", &format!("{}/api/v1/format_query", v.base), &format!("query={}", urlencode("a+b"))).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("\"a + b\""), "{}", r.body);
    let r = get(&format!("{}/api/v1/format_query?query={}", v.base, urlencode("sum(")));
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("bad_data") && r.body.contains("1:5"), "{}", r.body);
}

#[test]
fn status_endpoints_show_config_flags_and_runtime() {
    let config = "scrape_configs:\n  - job_name: secretive\n    basic_auth:\n      username: u\n      password: hunter2\n    static_configs:\n      - targets: ['127.0.0.1:1']\n";
    let v = Vigil::start_with(config, &["--retention", "30d"]);
    let j = get_json(&format!("{}/api/v1/status/config", v.base));
    let yaml = j["data"]["yaml"].as_str().unwrap();
    assert!(yaml.contains("job_name: secretive") && yaml.contains("password: <secret>"), "{yaml}");
    assert!(!yaml.contains("hunter2"), "{yaml}");

    let j = get_json(&format!("{}/api/v1/status/flags", v.base));
    assert_eq!(j["data"]["storage.tsdb.retention.time"], "30d", "{j}");
    assert_eq!(j["data"]["web.listen-address"], v.addr.as_str());
    assert_eq!(j["data"]["web.enable-admin-api"], "false");

    let j = get_json(&format!("{}/api/v1/status/runtimeinfo", v.base));
    let d = &j["data"];
    assert_eq!(d["reloadConfigSuccess"], true, "{j}");
    assert_eq!(d["storageRetention"], "30d");
    assert!(d["startTime"].as_str().unwrap().ends_with('Z'), "{j}");
    assert!(d["GOMAXPROCS"].as_u64().unwrap() >= 1 && d["goroutineCount"].as_u64().unwrap() >= 1, "{j}");

    // A bad reload keeps the running config and shows in runtimeinfo.
    std::fs::write(&v.config, "scrape_configs: [\n").unwrap();
    let r = http("POST", &format!("{}/-/reload", v.base), "").unwrap();
    assert_ne!(r.status, 200);
    let j = get_json(&format!("{}/api/v1/status/runtimeinfo", v.base));
    assert_eq!(j["data"]["reloadConfigSuccess"], false, "{j}");
    let j = get_json(&format!("{}/api/v1/status/config", v.base));
    assert!(j["data"]["yaml"].as_str().unwrap().contains("secretive"));
}

#[test]
fn hostile_requests_get_prometheus_errors_never_a_500() {
    let v = Vigil::start("scrape_configs: []\n");
    let check = |r: Response, want: &str| {
        assert_eq!(r.status, 400, "{}", r.body);
        let j: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("not JSON: {}", r.body));
        assert_eq!((j["status"].as_str(), j["errorType"].as_str()), (Some("error"), Some("bad_data")), "{j}");
        assert!(j["error"].as_str().unwrap().contains(want), "want {want:?} in {j}");
    };
    // Larger than the 10 MiB Go's form parsing takes.
    let big = format!("query={}", "1".repeat(11 << 20));
    check(http("POST", &format!("{}/api/v1/query", v.base), &big).unwrap(), "error parsing form values");
    // Invalid UTF-8, in the query string and in a form body.
    check(get(&format!("{}/api/v1/query?query=up%FF", v.base)), "");
    let r = http_bytes("POST", &format!("{}/api/v1/query", v.base), "application/x-www-form-urlencoded", b"query=\xff")
        .unwrap();
    check(r, "UTF-8");
    for (path, want) in [
        ("/api/v1/query_range?query=up&start=1&end=2&step=-5", "zero or negative"),
        ("/api/v1/query_range?query=up&start=x&end=2&step=1", "invalid parameter \"start\""),
        ("/api/v1/query?query=up&time=NaN", "invalid parameter \"time\""),
        ("/api/v1/labels?start=never", "invalid parameter \"start\""),
        ("/api/v1/label/job/values?match[]=up{", "invalid parameter \"match[]\""),
        ("/api/v1/series?match[]=sum(up)", "invalid parameter \"match[]\""),
        ("/api/v1/query?query=up%20offset%201e400y", "parse error"),
    ] {
        check(get(&format!("{}{path}", v.base)), want);
    }
    // Ten thousand selectors in one request are answered.
    let many: Vec<String> =
        (0..10_000).map(|i| format!("match[]={}", urlencode(&format!("up{{job=\"j{i}\"}}")))).collect();
    let r = http("POST", &format!("{}/api/v1/series", v.base), &many.join("&")).unwrap();
    assert_eq!(r.status, 200, "{}", &r.body[..r.body.len().min(300)]);
    // The import route takes more than the form limit.
    let mut body = String::new();
    let mut k = 0;
    while body.len() < 11 << 20 {
        body.push_str(&format!("bulk{{k=\"{}\"}} {k} 1700000000\n", k % 1000));
        k += 1;
    }
    let r =
        http_bytes("POST", &format!("{}/api/v1/import/openmetrics", v.base), "text/plain", body.as_bytes()).unwrap();
    assert_eq!(r.status, 200, "{}", &r.body[..r.body.len().min(300)]);
}

/// The requests Grafana's Prometheus data source sends (its health check,
/// version detection, the query editor's completions, and panel queries
/// over POST), each with the answer's shape checked.
#[test]
fn grafana_data_source_requests_are_answered() {
    let (v, _fake) = vigil_with_data();
    let end = now_s().floor();
    let start = end - 3600.0;
    let ok = |r: Response| -> serde_json::Value {
        assert_eq!(r.status, 200, "{}", r.body);
        let j: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(j["status"], "success", "{j}");
        j["data"].clone()
    };
    let get_ok = |path: &str| ok(get(&format!("{}{path}", v.base)));
    let post_ok = |path: &str, form: &str| ok(http("POST", &format!("{}{path}", v.base), form).unwrap());

    // Health check: an instant query of 1+1.
    let d = post_ok("/api/v1/query", &format!("query={}&time={end}", urlencode("1+1")));
    assert_eq!(d["result"][1], "2");
    // Version detection.
    let d = get_ok("/api/v1/status/buildinfo");
    assert!(d["version"].as_str().is_some_and(|s| !s.is_empty()));
    // Completions: metric names, label names (with and without a selector), values, series, metadata.
    let d = get_ok(&format!("/api/v1/label/__name__/values?start={start}&end={end}"));
    assert!(d.as_array().unwrap().iter().any(|n| n == "m"), "{d}");
    let d = get_ok(&format!("/api/v1/labels?start={start}&end={end}&match[]={}", urlencode("m")));
    assert_eq!(d, serde_json::json!(["__name__", "a", "instance", "job"]));
    let d = post_ok("/api/v1/labels", &format!("start={start}&end={end}"));
    assert!(d.as_array().unwrap().iter().any(|n| n == "job"), "{d}");
    let d = get_ok(&format!("/api/v1/label/a/values?start={start}&end={end}&match[]={}", urlencode("m{job=\"j\"}")));
    assert_eq!(d, serde_json::json!(["1", "2"]));
    let d = post_ok("/api/v1/series", &format!("match[]={}&start={start}&end={end}", urlencode("m")));
    assert_eq!(d.as_array().unwrap().len(), 2);
    let d = get_ok("/api/v1/metadata?limit=1000");
    assert_eq!(d["m"][0]["type"], "gauge");
    // Panel queries: range over POST with step and timeout, instant for tables, exemplars.
    let form = format!("query={}&start={start}&end={end}&step=15&timeout=30s", urlencode("sum by (a) (m)"));
    let d = post_ok("/api/v1/query_range", &form);
    assert_eq!(d["resultType"], "matrix");
    assert_eq!(d["result"].as_array().unwrap().len(), 2);
    let d = post_ok("/api/v1/query", &format!("query={}&time={end}", urlencode("m")));
    assert_eq!(d["resultType"], "vector");
    let d = post_ok("/api/v1/query_exemplars", &format!("query=m&start={start}&end={end}"));
    assert_eq!(d, serde_json::json!([]));
}

#[test]
fn status_page_shows_storage_cardinality_flags_and_escaped_config() {
    let config = "# <script>alert(1)</script>\nglobal:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ['{self}']\n    basic_auth:\n      username: u\n      password: hunter2\n";
    let v = Vigil::start(config);
    wait_for("a scrape of itself", Duration::from_secs(15), || (!v.query("up").is_empty()).then_some(()));
    let page = get(&format!("{}/status", v.base));
    assert_eq!(page.status, 200);
    let b = &page.body;
    assert!(b.contains("alert(1)") && !b.contains("<script>alert"), "config shown, escaped");
    assert!(!b.contains("hunter2") && b.contains("password: &#60;secret&#62;"), "secret hidden");
    for want in
        ["Bytes per sample on disk", "Write-ahead log", "<td>__name__</td>", "--storage.tsdb.retention.time", "15d"]
    {
        assert!(b.contains(want), "{want} missing from /status");
    }
}

#[test]
fn the_timeout_parameter_bounds_a_query() {
    let (v, _fake) = vigil_with_data();
    let end = now_s();
    let url = |timeout: &str| {
        format!(
            "{}/api/v1/query_range?query={}&start={}&end={end}&step=1&timeout={timeout}",
            v.base,
            urlencode("sum(count_over_time(m[10m]))"),
            end - 10_000.0
        )
    };
    let r = get(&url("0s"));
    assert_eq!(r.status, 503, "{}", r.body);
    let j: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(j["errorType"], "timeout", "{j}");
    assert!(j["error"].as_str().unwrap().contains("timed out"), "{j}");
    assert_eq!(get(&url("30s")).status, 200);
    assert_eq!(get(&url("soon")).status, 400);
}

#[test]
fn the_graph_page_charts_tables_and_points_at_parse_errors() {
    let (v, _fake) = vigil_scraping("# TYPE m gauge\nm{a=\"<script>alert(1)</script>\"} 1\nm{a=\"2\"} 2\n");
    // Enough scrapes for two points at the page's 2 s step: a line, not a dot.
    wait_for("five scrapes", Duration::from_secs(20), || {
        (v.query("count_over_time(m[1m])").first()?["value"][1].as_str()?.parse::<u32>().ok()? >= 5).then_some(())
    });
    let page = get(&format!("{}/graph?expr={}&range=5m", v.base, urlencode("m")));
    assert_eq!(page.status, 200);
    let b = &page.body;
    assert!(b.contains("<svg") && b.contains("class=\"line\""), "a chart with lines");
    assert_eq!(b.matches("class=\"swatch\"").count(), 2, "a legend entry per series");
    assert!(!b.contains("<script>alert"), "label values escaped everywhere");
    assert!(b.contains("alert(1)"));
    // A parse error: the message and a caret under the column.
    let page = get(&format!("{}/graph?expr={}", v.base, urlencode("sum(rate(m[1m])")));
    assert!(page.body.contains("1:16: parse error"), "{}", page.body);
    assert!(page.body.contains("sum(rate(m[1m])\n               ^</pre>"), "{}", page.body);
    // Bad controls are errors on the page, not failures.
    for q in ["expr=m&range=forever", "expr=m&step=-1", "expr=m&end=yesterday"] {
        let page = get(&format!("{}/graph?{q}", v.base));
        assert_eq!(page.status, 200);
        assert!(page.body.contains("class=\"bad\""), "{q}");
    }
}

/// A query whose client hangs up stops (counted as canceled), instead of
/// running to its end or its timeout.
#[test]
fn a_query_stops_when_its_client_goes_away() {
    use std::io::Write;
    let v = Vigil::start("scrape_configs: []\n");
    // Some 40 million subquery steps: seconds of work in little memory.
    let q = urlencode("count_over_time(vector(1)[1h:1s])");
    let mut s = std::net::TcpStream::connect(&v.addr).unwrap();
    write!(s, "GET /api/v1/query_range?query={q}&start=0&end=10000&step=1 HTTP/1.1\r\nHost: vigil\r\n\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    drop(s);
    wait_for("the query counted as canceled", Duration::from_secs(30), || {
        let m = get(&format!("{}/metrics", v.base)).body;
        m.contains("vigil_engine_queries_unanswered_total{reason=\"canceled\"} 1").then_some(())
    });
    // An answered query is timed by kind.
    let _ = get_json(&format!("{}/api/v1/query?query=1", v.base));
    let m = get(&format!("{}/metrics", v.base)).body;
    assert!(m.contains("vigil_engine_query_duration_seconds_count{kind=\"instant\"} 1"), "{m}");
}
