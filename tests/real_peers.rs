//! Vigil beside the real thing: Debian's Prometheus and promtool, and
//! Debian's node_exporter as a real target. Both servers scrape the same
//! targets; their answers must agree.
//!
//! These need Debian's `prometheus` and `prometheus-node-exporter`
//! packages, so they are ignored by default; `.ci/run` installs the
//! packages and runs them with `--include-ignored`.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;

const NEEDS: &str = "needs Debian's prometheus and prometheus-node-exporter packages; .ci/run installs them";

/// The series of `selector` as a set of label sets (without target labels
/// that differ by nature between the two servers: none here).
fn series(base: &str, selector: &str) -> BTreeSet<String> {
    let j = get_json(&format!("{base}/api/v1/series?match[]={}", urlencode(selector)));
    assert_eq!(j["status"], "success", "{j}");
    j["data"].as_array().unwrap().iter().map(|m| m.to_string()).collect()
}

fn instant(base: &str, q: &str) -> Vec<Value> {
    let j = get_json(&format!("{base}/api/v1/query?query={}", urlencode(q)));
    assert_eq!(j["status"], "success", "{q}: {j}");
    j["data"]["result"].as_array().cloned().unwrap_or_default()
}

fn scrape_config(jobs: &[(&str, &str, &str)]) -> String {
    let mut cfg = String::from("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n");
    for (job, addr, path) in jobs {
        cfg.push_str(&format!(
            "  - job_name: {job}\n    metrics_path: {path}\n    static_configs:\n      - targets: ['{addr}']\n"
        ));
    }
    cfg
}

fn vigil_cli(args: &[&str]) -> String {
    let out = Command::new(vigil_bin()).args(args).output().expect("vigil");
    assert!(out.status.success(), "vigil {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn promtool(args: &[&str]) -> String {
    let out = Command::new("promtool").args(args).output().expect("promtool");
    assert!(out.status.success(), "promtool {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[ignore = "needs Debian's prometheus and prometheus-node-exporter packages; .ci/run installs them"]
fn promtool_instant_queries_match_prometheus() {
    let _ = NEEDS;
    let body = "# TYPE m gauge\nm{path=\"/a\"} 1.5\nm{path=\"/b\",q=\"x\\\"y\"} -2\nm{path=\"/c\"} NaN\n";
    let fake = FakeTarget::start(vec![("/metrics", Reply::text(body))]);
    let cfg = scrape_config(&[("fake", &fake.addr, "/metrics")]);
    let vigil = Vigil::start(&cfg);
    let prom = Prometheus::start(&cfg);
    for base in [&vigil.base, &prom.base] {
        wait_for("three series scraped", Duration::from_secs(20), || (instant(base, "m").len() == 3).then_some(()));
    }
    // Evaluate both at the same instant, a moment in the past that both have covered.
    std::thread::sleep(Duration::from_millis(1500));
    let t = format!(
        "{:.3}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64() - 1.0
    );
    for q in ["m", "m{path=~\"/(a|b)\"}", "{__name__=\"m\",path!=\"/a\"}", "up{job=\"fake\"}", "42"] {
        let ours = promtool(&["query", "instant", "--time", &t, &vigil.base, q]);
        let theirs = promtool(&["query", "instant", "--time", &t, &prom.base, q]);
        assert_eq!(ours, theirs, "promtool query instant {q}");
        assert!(!ours.trim().is_empty(), "{q}");
        // `vigil query` prints what promtool prints, against either server.
        for base in [&vigil.base, &prom.base] {
            let printed = vigil_cli(&["query", "instant", "--time", &t, "--server", base, q]);
            assert_eq!(printed, theirs, "vigil query instant {q} against {base}");
        }
    }
    // Both servers have scraped since before t - 0.5 s (see above).
    let end: f64 = t.parse().unwrap();
    let (start, end) = (format!("{:.3}", end - 0.5), format!("{end:.3}"));
    for q in ["m", "sum(m)", "m * 2 > 0"] {
        let args = ["query", "range", "--start", &start, "--end", &end, "--step", "250ms"];
        let theirs = promtool(&[&args[..], &[&prom.base, q]].concat());
        let ours = promtool(&[&args[..], &[&vigil.base, q]].concat());
        assert_eq!(ours, theirs, "promtool query range {q}");
        let printed = vigil_cli(&[&args[..], &["--server", &prom.base, q]].concat());
        assert_eq!(printed, theirs, "vigil query range {q}");
    }
    let err = Command::new(vigil_bin()).args(["query", "instant", "--server", &vigil.base, "sum("]).output().unwrap();
    assert!(!err.status.success());
    assert!(String::from_utf8_lossy(&err.stderr).contains("bad_data"), "{}", String::from_utf8_lossy(&err.stderr));
    // promtool 2.42 cannot print string results; compare the API's JSON instead.
    for q in ["\"text\"", "m", "1.5e-7", "0x1F"] {
        let url = |base: &str| format!("{base}/api/v1/query?time={t}&query={}", urlencode(q));
        let (ours, theirs) = (get_json(&url(&vigil.base)), get_json(&url(&prom.base)));
        assert_eq!(ours["data"], theirs["data"], "/api/v1/query {q}");
    }
}

#[test]
#[ignore = "needs Debian's prometheus and prometheus-node-exporter packages; .ci/run installs them"]
fn prometheus_testdata_pages_parse_as_prometheus_parses_them() {
    let dir = shared("prometheus-testdata/textparse");
    if !dir.exists() {
        panic!("{} is missing: run beside ../shared", dir.display());
    }
    let read = |f: &str| std::fs::read(dir.join(f)).expect("testdata page");
    let om = |b: Vec<u8>| Reply {
        content_type: "application/openmetrics-text; version=1.0.0; charset=utf-8",
        ..Reply::text(b)
    };
    let fake = FakeTarget::start(vec![
        ("/prom", Reply::text(read("alltypes.237mfs.prom.txt"))),
        ("/nometa", Reply::text(read("alltypes.237mfs.nometa.prom.txt"))),
        ("/om", om(read("alltypes.5mfs.om.txt"))),
        ("/hist", om(read("1histogram.om.txt"))),
    ]);
    let jobs = [
        ("prom", fake.addr.as_str(), "/prom"),
        ("nometa", &fake.addr, "/nometa"),
        ("om", &fake.addr, "/om"),
        ("hist", &fake.addr, "/hist"),
    ];
    let cfg = scrape_config(&jobs);
    let vigil = Vigil::start(&cfg);
    let prom = Prometheus::start(&cfg);
    for (job, _, _) in jobs {
        let sel = format!("{{job=\"{job}\"}}");
        // Prometheus 2.42 stores OpenMetrics `_created` series; 3.x (and Vigil) leave them out.
        let sets = || {
            let ours = series(&vigil.base, &sel);
            let theirs: BTreeSet<String> =
                series(&prom.base, &sel).into_iter().filter(|s| !s.contains("_created\"")).collect();
            (ours, theirs)
        };
        // Both scrape on their own schedules (and a loaded machine can time a first scrape out):
        // give them until the sets agree, then compare what they hold.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let (ours, theirs) = loop {
            let (o, t) = sets();
            if (o == t && o.len() > 5) || std::time::Instant::now() > deadline {
                break (o, t);
            }
            std::thread::sleep(Duration::from_millis(250));
        };
        let only_ours: Vec<_> = ours.difference(&theirs).take(5).collect();
        let only_theirs: Vec<_> = theirs.difference(&ours).take(5).collect();
        assert!(
            only_ours.is_empty() && only_theirs.is_empty(),
            "{job}: only in Vigil {only_ours:?}, only in Prometheus {only_theirs:?}"
        );
        // And the values agree (the pages are static).
        let v = instant(&vigil.base, &format!("scrape_samples_post_metric_relabeling{sel}"));
        assert_eq!(v.len(), 1);
    }
    for (q, job) in [("go_gc_duration_seconds", "prom"), ("golang_manual_histogram_seconds_bucket", "hist")] {
        let sel = format!("{q}{{job=\"{job}\"}}");
        let mut ours: Vec<String> =
            instant(&vigil.base, &sel).iter().map(|s| format!("{} {}", s["metric"], s["value"][1])).collect();
        let mut theirs: Vec<String> =
            instant(&prom.base, &sel).iter().map(|s| format!("{} {}", s["metric"], s["value"][1])).collect();
        ours.sort();
        theirs.sort();
        assert!(!ours.is_empty(), "{sel}");
        assert_eq!(ours, theirs, "{sel}");
    }
}

#[test]
#[ignore = "needs Debian's prometheus and prometheus-node-exporter packages; .ci/run installs them"]
fn node_exporter_scraped_like_prometheus_does() {
    let addr = format!("127.0.0.1:{}", free_port());
    let _exporter = Proc::spawn(
        "node_exporter",
        Command::new("prometheus-node-exporter")
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let body = wait_for("node_exporter up", Duration::from_secs(20), || {
        http("GET", &format!("http://{addr}/metrics"), "").ok().filter(|r| r.status == 200)
    })
    .body;
    // promtool parses the page (exit 3 means lint remarks only; 1 would be a parse failure).
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), body.as_bytes()).unwrap();
    let code = child.wait().unwrap().code();
    assert!(matches!(code, Some(0) | Some(3)), "promtool check metrics exited {code:?}");

    let cfg = scrape_config(&[("node", &addr, "/metrics")]);
    let vigil = Vigil::start(&cfg);
    let prom = Prometheus::start(&cfg);
    let names = |base: &str| -> BTreeSet<String> {
        let j = get_json(&format!("{base}/api/v1/label/__name__/values?match[]={}", urlencode("{job=\"node\"}")));
        j["data"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
    };
    wait_for("both scraped node_exporter", Duration::from_secs(20), || {
        (instant(&vigil.base, "up{job=\"node\"}").len() == 1 && instant(&prom.base, "up{job=\"node\"}").len() == 1)
            .then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    let (ours, theirs) = (names(&vigil.base), names(&prom.base));
    assert!(ours.len() > 100, "only {} metric names", ours.len());
    assert_eq!(ours, theirs, "metric names scraped from node_exporter");
    // The label sets of a stable family agree exactly.
    let cpu = "node_cpu_seconds_total{job=\"node\"}";
    assert_eq!(series(&vigil.base, cpu), series(&prom.base, cpu));
    // Every sample line of the page is counted as Prometheus counts it.
    let lines = body.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).count() as f64;
    let scraped: f64 =
        instant(&vigil.base, "scrape_samples_scraped{job=\"node\"}")[0]["value"][1].as_str().unwrap().parse().unwrap();
    assert!((scraped - lines).abs() / lines < 0.05, "Vigil counted {scraped} samples, the page has about {lines}");
    let up = instant(&vigil.base, "up{job=\"node\"}");
    assert_eq!(up[0]["value"][1], "1");
}

#[test]
#[ignore = "needs Debian's prometheus and prometheus-node-exporter packages; .ci/run installs them"]
fn prometheus_federates_from_vigil() {
    let body = "# TYPE m gauge\nm{path=\"/a\"} 1.5\nm{path=\"/b\",q=\"x\\\"y\"} -2e-7\nm{path=\"/c\"} 1234567\n";
    let fake = FakeTarget::start(vec![("/metrics", Reply::text(body))]);
    let vigil = Vigil::start(&format!(
        "global:\n  scrape_interval: 1s\n  external_labels:\n    site: lab\nscrape_configs:\n  - job_name: fake\n    static_configs:\n      - targets: ['{}']\n",
        fake.addr
    ));
    let prom = Prometheus::start(&format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: federate\n    honor_labels: true\n    metrics_path: /federate\n    params:\n      'match[]': ['{{job=\"fake\"}}']\n    static_configs:\n      - targets: ['{}']\n",
        vigil.addr
    ));
    wait_for("Prometheus to have federated the three series", Duration::from_secs(30), || {
        (instant(&prom.base, "m").len() == 3).then_some(())
    });
    let key = |v: &Value| (v["metric"].to_string(), v["value"][1].as_str().unwrap_or("").to_string());
    let mut theirs: Vec<(String, String)> = instant(&prom.base, "m").iter().map(key).collect();
    theirs.sort();
    // Vigil's own series, with the external label the federation adds.
    let mut ours: Vec<(String, String)> = instant(&vigil.base, "label_replace(m, \"site\", \"lab\", \"\", \"\")")
        .iter()
        .map(|v| {
            let mut v = v.clone();
            // label_replace keeps the name; the instant query result of m has it too.
            v["metric"]["__name__"] = "m".into();
            key(&v)
        })
        .collect();
    ours.sort();
    assert_eq!(ours, theirs);
    // The scrape itself went through Prometheus's parser cleanly.
    let up = instant(&prom.base, "up{job=\"federate\"}");
    assert_eq!(up[0]["value"][1], "1", "{up:?}");
    let r = get(&format!("{}/federate", vigil.base));
    assert_eq!(r.status, 400, "match[] is required: {}", r.body);
}

/// Two hours of history for the comparison below: counters, a gauge and a
/// classic histogram, at 15 s with timestamps 370 ms past the second, so
/// that no evaluation at a whole second falls on a window's edge (Vigil
/// follows Prometheus 3.x, whose windows exclude their start; 2.42's include it).
fn history(end_s: i64) -> String {
    let mut om = String::from("# TYPE req counter\n");
    let start = end_s - 7200;
    let at = |k: i64| format!("{}.370", start + k * 15);
    for (h, rate) in [("/a", 3), ("/b", 7), ("/c\\\"q", 1)] {
        for k in 0..480 {
            // A reset halfway through /b.
            let v = if h == "/b" && k >= 240 { (k - 240) * rate } else { k * rate };
            om.push_str(&format!("req_total{{handler=\"{h}\",code=\"200\"}} {v} {}\n", at(k)));
        }
    }
    om.push_str("# TYPE temp gauge\n");
    for k in 0..480 {
        om.push_str(&format!("temp{{room=\"x\"}} {} {}\n", 20.0 + ((k * 37) % 11) as f64 * 0.25, at(k)));
    }
    om.push_str("# TYPE lat histogram\n");
    let les = ["0.1", "0.5", "1", "+Inf"];
    for k in 0..480 {
        let mut cum = 0;
        for (i, le) in les.iter().enumerate() {
            cum += k * (4 - i as i64);
            om.push_str(&format!("lat_bucket{{le=\"{le}\"}} {cum} {}\n", at(k)));
        }
        om.push_str(&format!("lat_count {cum} {}\nlat_sum {} {}\n", at(k), cum as f64 * 0.3, at(k)));
    }
    om.push_str("# EOF\n");
    om
}

/// promtool outputs that agree line for line, values to 1e-12 relative:
/// Prometheus 2.42's `avg_over_time` keeps an incremental mean, while 3.x
/// (and Vigil) sum with Kahan compensation, so last digits may differ.
fn assert_same_answer(ours: &str, theirs: &str, what: &str) {
    let (a, b): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), theirs.lines().collect());
    assert_eq!(a.len(), b.len(), "{what}:\n{ours}\nvs\n{theirs}");
    for (x, y) in a.iter().zip(&b) {
        if x == y {
            continue;
        }
        // `<labels> => <value> @[t]` or `<value> @[t]`: the value may differ in its last digits.
        let parts = |l: &str| -> Option<(String, f64, String)> {
            let (head, at) = l.rsplit_once(" @[")?;
            let (prefix, v) = head.rsplit_once(' ').unwrap_or(("", head));
            Some((prefix.to_string(), v.parse().ok()?, at.to_string()))
        };
        let (Some((pa, va, ta)), Some((pb, vb, tb))) = (parts(x), parts(y)) else {
            panic!("{what}: {x} vs {y}");
        };
        let close = (va - vb).abs() <= 1e-12 * va.abs().max(vb.abs());
        assert!(pa == pb && ta == tb && close, "{what}: {x} vs {y}");
    }
}

#[test]
#[ignore = "needs Debian's prometheus and prometheus-node-exporter packages; .ci/run installs them"]
fn promtool_answers_match_prometheus_on_imported_history() {
    let end_s = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64 - 60;
    let om = history(end_s);
    let vigil = Vigil::start("scrape_configs: []\n");
    let r = http_bytes("POST", &format!("{}/api/v1/import/openmetrics", vigil.base), "", om.as_bytes()).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let prom = Prometheus::start_with_data("scrape_configs: []\n", |data| {
        let file = data.with_extension("om");
        std::fs::write(&file, &om).unwrap();
        let out = Command::new("promtool")
            .args(["tsdb", "create-blocks-from", "openmetrics"])
            .arg(&file)
            .arg(data)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    });
    let t = (end_s - 600).to_string();
    for q in [
        "req_total",
        "rate(req_total[5m])",
        "sum by (code) (increase(req_total[10m]))",
        "resets(req_total[2h])",
        "avg_over_time(temp[1h])",
        "quantile_over_time(0.9, temp[30m])",
        "deriv(temp[15m])",
        "histogram_quantile(0.9, rate(lat_bucket[5m]))",
        "topk(2, req_total)",
        "temp > bool 21",
        "absent(nope)",
        "count_values(\"v\", temp)",
        "time()",
    ] {
        let ours = promtool(&["query", "instant", "--time", &t, &vigil.base, q]);
        let theirs = promtool(&["query", "instant", "--time", &t, &prom.base, q]);
        assert_same_answer(&ours, &theirs, &format!("promtool query instant {q}"));
    }
    let (start, end) = ((end_s - 3600).to_string(), (end_s - 60).to_string());
    for q in ["rate(req_total[1m])", "sum(temp)", "max_over_time(temp[10m])", "lat_count - lat_count offset 5m"] {
        let args = ["query", "range", "--start", &start, "--end", &end, "--step", "1m"];
        let ours = promtool(&[&args[..], &[&vigil.base, q]].concat());
        let theirs = promtool(&[&args[..], &[&prom.base, q]].concat());
        assert_same_answer(&ours, &theirs, &format!("promtool query range {q}"));
        assert!(ours.lines().count() > 50, "{q}: {ours}");
    }
    for m in ["req_total", "{__name__=~\"lat_.*\"}", "{room=\"x\"}"] {
        let args = ["query", "series", "--match", m, "--start", &start, "--end", &end];
        let ours = promtool(&[&args[..], &[&vigil.base]].concat());
        let theirs = promtool(&[&args[..], &[&prom.base]].concat());
        assert_eq!(ours, theirs, "promtool query series {m}");
    }
    for name in ["handler", "__name__", "le"] {
        let ours = promtool(&["query", "labels", &vigil.base, name]);
        let theirs = promtool(&["query", "labels", &prom.base, name]);
        assert_eq!(ours, theirs, "promtool query labels {name}");
    }
}
