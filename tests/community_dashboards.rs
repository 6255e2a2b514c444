//! Four popular community dashboards (`tests/corpus/dashboards`; sources and
//! licences in its NOTICE) drawn over data of their shape: a real
//! node_exporter for the host views, a real Prometheus for the Prometheus
//! view, generated kube-state-metrics, cAdvisor and kubelet families for the
//! Kubernetes views.
//!
//! Debian's Prometheus scrapes the same targets with the same config and is
//! the reference: every panel has data exactly when Prometheus answers its
//! queries (as Vigil ran them, from the panel's menu) with some series, and a
//! legend lists as many series as Prometheus returns. Overrides must show in
//! the SVG (dashes, fills, negative-Y, right axes), titles and units be
//! present, and Chromium must find nothing clipped and every chart full width.

mod common;

use common::*;
use serde_json::Value;
use std::time::Duration;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/dashboards");

/// The dashboards of the corpus: uid and file.
const DASHBOARDS: [(&str, &str); 4] = [
    ("rYdddlPWk", "node-exporter-full.json"),
    ("k8s_views_nodes", "k8s-views-nodes.json"),
    ("k8s_views_global", "k8s-views-global.json"),
    ("k8s_addons_prometheus", "k8s-addons-prometheus.json"),
];

/// Pods of the generated cluster: namespace, pod, container, image.
const PODS: [(&str, &str, &str, &str); 6] = [
    ("kube-system", "coredns-5d78c9869d-x2k8p", "coredns", "registry.k8s.io/coredns/coredns:v1.11.1"),
    ("kube-system", "kube-proxy-7h2lq", "kube-proxy", "registry.k8s.io/kube-proxy:v1.30.0"),
    ("monitoring", "prometheus-0", "prometheus", "quay.io/prometheus/prometheus:v2.42.0"),
    ("shop", "web-6b7f9c6d5-abcde", "web", "shop/web:1.4.2"),
    ("shop", "web-6b7f9c6d5-fghij", "web", "shop/web:1.4.2"),
    ("shop", "db-0", "postgres", "postgres:16"),
];

/// kube-state-metrics, cAdvisor and kubelet families of a one-node cluster
/// on `node`, as their `n`-th scrape shows them: counters that grow, gauges that move.
fn cluster(node: String) -> impl Fn(u64) -> String + Send + Sync + 'static {
    move |n| {
        let c = format!("cluster=\"local\",node=\"{node}\"");
        let mut o = format!(
            "kube_node_info{{{c},kernel_version=\"6.1.0\",os_image=\"Debian GNU/Linux 12\",container_runtime_version=\"containerd://1.7.0\",kubelet_version=\"v1.30.0\",internal_ip=\"127.0.0.1\"}} 1\n\
             machine_cpu_cores{{{c}}} 2\nmachine_memory_bytes{{{c}}} 8.3e+09\n"
        );
        let mut namespaces: Vec<&str> = PODS.iter().map(|p| p.0).collect();
        namespaces.dedup();
        for (i, ns) in namespaces.iter().enumerate() {
            o += &format!("kube_namespace_created{{cluster=\"local\",namespace=\"{ns}\"}} 1.7e+09\n");
            o += &format!("kube_namespace_labels{{cluster=\"local\",namespace=\"{ns}\"}} 1\n");
            for (family, label) in [
                ("kube_configmap_info", "configmap"),
                ("kube_secret_info", "secret"),
                ("kube_service_info", "service"),
                ("kube_endpoint_info", "endpoint"),
                ("kube_deployment_labels", "deployment"),
                ("kube_statefulset_labels", "statefulset"),
                ("kube_daemonset_labels", "daemonset"),
                ("kube_ingress_info", "ingress"),
                ("kube_hpa_labels", "horizontalpodautoscaler"),
                ("kube_networkpolicy_labels", "networkpolicy"),
            ] {
                o += &format!("{family}{{cluster=\"local\",namespace=\"{ns}\",{label}=\"{ns}-{i}\"}} 1\n");
            }
            let pvc = if *ns == "monitoring" { "prometheus-data".to_string() } else { format!("{ns}-data") };
            o += &format!(
                "kube_persistentvolumeclaim_info{{cluster=\"local\",namespace=\"{ns}\",persistentvolumeclaim=\"{pvc}\",storageclass=\"local-path\",volumename=\"pv-{i}\"}} 1\n"
            );
            let v = format!("{c},namespace=\"{ns}\",persistentvolumeclaim=\"{pvc}\"");
            o += &format!("kubelet_volume_stats_capacity_bytes{{{v}}} 1.07e+10\n");
            o += &format!(
                "kubelet_volume_stats_used_bytes{{{v}}} {}\n",
                2.0e9 + (n * 1_000_000 * (i as u64 + 1)) as f64
            );
            o += &format!("kubelet_volume_stats_inodes{{{v}}} 655360\n");
            o += &format!("kubelet_volume_stats_inodes_used{{{v}}} {}\n", 1000 + n * (i as u64 + 1));
        }
        for (i, (ns, pod, container, image)) in PODS.iter().enumerate() {
            let k = i as u64 + 1;
            let p = format!("cluster=\"local\",namespace=\"{ns}\",pod=\"{pod}\"");
            o += &format!(
                "kube_pod_info{{{c},namespace=\"{ns}\",pod=\"{pod}\",host_ip=\"127.0.0.1\",pod_ip=\"10.0.0.{k}\",created_by_kind=\"ReplicaSet\",created_by_name=\"{container}\",uid=\"u{k}\"}} 1\n"
            );
            for phase in ["Pending", "Running", "Succeeded", "Failed", "Unknown"] {
                o += &format!("kube_pod_status_phase{{{p},phase=\"{phase}\"}} {}\n", u8::from(phase == "Running"));
            }
            for qos in ["BestEffort", "Burstable", "Guaranteed"] {
                o +=
                    &format!("kube_pod_status_qos_class{{{p},qos_class=\"{qos}\"}} {}\n", u8::from(qos == "Burstable"));
            }
            for reason in ["Evicted", "NodeLost", "UnexpectedAdmissionError"] {
                o += &format!("kube_pod_status_reason{{{p},reason=\"{reason}\"}} 0\n");
            }
            let pc = format!("{p},container=\"{container}\"");
            o += &format!("kube_pod_container_status_running{{{pc}}} 1\n");
            o += &format!("kube_pod_container_status_restarts_total{{{pc}}} {}\n", n / 20 * u64::from(i == 5));
            for (kind, unit, request, limit) in [("cpu", "core", 0.1, 0.5), ("memory", "byte", 1.34e8, 2.68e8)] {
                let r = format!("{pc},node=\"{node}\",resource=\"{kind}\",unit=\"{unit}\"");
                o += &format!("kube_pod_container_resource_requests{{{r}}} {}\n", request * k as f64);
                o += &format!("kube_pod_container_resource_limits{{{r}}} {}\n", limit * k as f64);
            }
            // cAdvisor: per container (with its image) and for the pod's sandbox (without).
            let cc = format!("{c},namespace=\"{ns}\",pod=\"{pod}\",container=\"{container}\",image=\"{image}\"");
            o += &format!(
                "container_cpu_usage_seconds_total{{{cc}}} {}\n",
                (n * k) as f64 * 0.013 + (n % 5) as f64 * 0.01
            );
            o += &format!("container_memory_working_set_bytes{{{cc}}} {}\n", (40 + 15 * k + n % 7) * 1_048_576);
            o += &format!("container_cpu_cfs_throttled_seconds_total{{{cc}}} {}\n", (n * k) as f64 * 0.002);
            o += &format!("container_oom_events_total{{{cc}}} 0\n");
            let net = format!("{c},namespace=\"{ns}\",pod=\"{pod}\",interface=\"eth0\"");
            for (family, per) in [
                ("container_network_receive_bytes_total", 2048),
                ("container_network_transmit_bytes_total", 1024),
                ("container_network_receive_packets_total", 12),
                ("container_network_transmit_packets_total", 9),
                ("container_network_receive_packets_dropped_total", 1),
                ("container_network_transmit_packets_dropped_total", 1),
                ("container_network_receive_errors_total", 1),
                ("container_network_transmit_errors_total", 1),
            ] {
                o += &format!("{family}{{{net}}} {}\n", n * per * k + n % 3);
            }
        }
        o
    }
}

/// One panel of a rendered dashboard page.
struct Panel<'a> {
    id: String,
    kind: String,
    title: String,
    html: &'a str,
    /// Its queries as run: the `/graph` links of its menu.
    hrefs: Vec<String>,
    no_data: bool,
    legend: usize,
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = s.find(start)? + start.len();
    Some(&s[from..from + s[from..].find(end)?])
}

fn unescape(s: &str) -> String {
    s.replace("&#38;", "&").replace("&amp;", "&").replace("&#34;", "\"").replace("&quot;", "\"").replace("&#39;", "'")
}

fn panels(page: &str) -> Vec<Panel<'_>> {
    page.split("<section class=\"panel panel-")
        .skip(1)
        .map(|s| {
            let html = &s[..s.find("</section>").unwrap_or(s.len())];
            let head = &html[..html.find('>').unwrap_or(0)];
            let title = between(html, "<h3>", "</h3>").unwrap_or("");
            let title = between(title, "\">", "</a>").unwrap_or(title);
            let menu = between(html, "<details class=\"panel-queries\">", "</details>").unwrap_or("");
            Panel {
                id: between(head, "data-panel-id=\"", "\"").unwrap_or("?").to_string(),
                kind: head.split([' ', '"']).next().unwrap_or("").to_string(),
                title: unescape(title),
                html,
                hrefs: menu.split("<a href=\"").skip(1).filter_map(|h| h.split('"').next()).map(unescape).collect(),
                no_data: head.contains("data-no-data"),
                legend: html.matches("<span class=\"swatch\"").count(),
            }
        })
        .collect()
}

/// How many series Prometheus answers a panel query with, asked over the
/// same range, end and step as Vigil ran it.
fn reference_series(prom: &Prometheus, href: &str) -> usize {
    let q = &href[href.find('?').expect("a query") + 1..];
    let params: Vec<(String, String)> =
        q.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.to_string(), percent_decode(v))).collect();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let end: f64 = get("end").parse().expect("end");
    let range: f64 = get("range").trim_end_matches('s').parse().expect("range");
    let url = format!(
        "{}/api/v1/query_range?query={}&start={}&end={end}&step={}",
        prom.base,
        urlencode(&get("expr")),
        end - range,
        get("step")
    );
    let answer = get_json(&url);
    assert_eq!(answer["status"], "success", "Prometheus on {}: {answer}", get("expr"));
    // Series of NaN only count: Grafana lists them too.
    answer["data"]["result"].as_array().map_or(0, Vec::len)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).expect("hex"));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).expect("UTF-8")
}

/// Every panel of `json`, rows' children included.
fn json_panels(json: &Value) -> Vec<&Value> {
    fn walk<'a>(ps: &'a Value, out: &mut Vec<&'a Value>) {
        for p in ps.as_array().into_iter().flatten() {
            out.push(p);
            walk(&p["panels"], out);
        }
    }
    let mut out = Vec::new();
    walk(&json["panels"], &mut out);
    out
}

/// The legend's entries: each series' name and its values (table legends).
fn legend_entries(html: &str) -> Vec<(String, Vec<String>)> {
    html.split("<span class=\"swatch\"")
        .skip(1)
        .filter_map(|e| {
            let e = &e[e.find("</span>")? + 7..];
            let name = unescape(&e[..e.find("</")?]);
            let row = &e[..e.find("</tr>").or_else(|| e.find("</li>"))?];
            let values = row.split("<td>").skip(1).filter_map(|v| v.split("</td>").next()).map(unescape).collect();
            Some((name, values))
        })
        .collect()
}

/// Whether Grafana's matcher picks the series named `name` (the matchers
/// these dashboards use).
fn matches(matcher: &Value, name: &str) -> bool {
    let options = matcher["options"].as_str().unwrap_or("");
    match matcher["id"].as_str() {
        Some("byName") => options == name,
        Some("byNames") => {
            let listed = matcher["options"]["names"].as_array().is_some_and(|n| n.iter().any(|n| n == name));
            listed != (matcher["options"]["mode"] == "exclude")
        }
        Some("byRegexp") => {
            let pattern = options.strip_prefix('/').and_then(|p| p.rsplit_once('/')).map_or(options, |(p, _)| p);
            regex::Regex::new(pattern).is_ok_and(|r| r.is_match(name))
        }
        _ => false,
    }
}

/// Whether the series named `name` is hidden from the chart by an override.
fn props_hidden(p: &Value, name: &str) -> bool {
    p["fieldConfig"]["overrides"].as_array().into_iter().flatten().any(|o| {
        matches(&o["matcher"], name)
            && o["properties"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["id"] == "custom.hideFrom" && p["value"]["viz"] == true)
    })
}

/// Every property the defaults' `custom` sets (for every series drawn) and
/// each override sets for a series drawn (one of `legend`), as `(id, value)`.
fn properties(p: &Value, legend: &[(String, Vec<String>)]) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = p["fieldConfig"]["defaults"]["custom"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (format!("custom.{k}"), v.clone()))
        .collect();
    let overrides = p["fieldConfig"]["overrides"].as_array().map_or(&[][..], Vec::as_slice);
    // Series hidden from the chart (listed in the legend only) show none of their settings.
    let hidden = |name: &str| {
        overrides.iter().any(|o| {
            matches(&o["matcher"], name)
                && o["properties"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|p| p["id"] == "custom.hideFrom" && p["value"]["viz"] == true)
        })
    };
    for o in overrides {
        // Of a negative-Y series, only one with a value other than zero shows below the axis.
        let picked: Vec<&(String, Vec<String>)> =
            legend.iter().filter(|(n, _)| matches(&o["matcher"], n) && !hidden(n)).collect();
        for prop in o["properties"].as_array().into_iter().flatten() {
            let id = prop["id"].as_str().unwrap_or("");
            let shows = if id == "custom.transform" {
                picked.iter().any(|(_, vs)| vs.iter().any(|v| !v.starts_with('0') && !v.starts_with('—')))
            } else {
                !picked.is_empty()
            };
            if shows {
                out.push((id.to_string(), prop["value"].clone()));
            }
        }
    }
    out
}

/// What a unit's values end with on the page (for the units checked).
fn unit_suffix(unit: &str) -> Option<&'static str> {
    Some(match unit {
        "bytes" | "decbytes" => "B",
        "percent" | "percentunit" => "%",
        "bps" | "binbps" => "b/s",
        "Bps" | "binBps" => "B/s",
        "s" => "s",
        "ms" => "ms",
        "iops" => "iops",
        _ => return None,
    })
}

/// The same config for Vigil and the reference Prometheus.
fn config(node_exporter: &str, kube: &str, prometheus: &str) -> String {
    format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n\
         - job_name: node\n  static_configs:\n  - targets: ['{node_exporter}']\n\
         - job_name: node-exporter\n  static_configs:\n  - targets: ['{node_exporter}']\n    labels: {{cluster: local}}\n\
         - job_name: kube-state-metrics\n  honor_labels: true\n  static_configs:\n  - targets: ['{kube}']\n\
         - job_name: prometheus\n  static_configs:\n  - targets: ['{prometheus}']\n    labels: {{cluster: local, pod: prometheus-0}}\n"
    )
}

#[test]
#[ignore = "needs Debian's prometheus, prometheus-node-exporter and chromium; .ci/run installs them"]
fn community_dashboards_draw_what_prometheus_answers_with_their_overrides() {
    let exporter_addr = format!("127.0.0.1:{}", free_port());
    let _exporter = Proc::spawn(
        "node_exporter",
        std::process::Command::new("prometheus-node-exporter")
            .arg(format!("--web.listen-address={exporter_addr}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null()),
    );
    let exporter_page = wait_for("node_exporter", Duration::from_secs(20), || {
        http("GET", &format!("http://{exporter_addr}/metrics"), "").ok().filter(|r| r.status == 200)
    });
    // The node as node_exporter names it (node_uname_info's nodename), for the cluster's families.
    let nodename = between(&exporter_page.body, "nodename=\"", "\"").expect("node_uname_info").to_string();
    let kube = FakeTarget::start_generated(cluster(nodename));
    let prom_port = free_port();
    let cfg = config(&exporter_addr, &kube.addr, &format!("127.0.0.1:{prom_port}"));
    let prom = Prometheus::start_on(&cfg, prom_port);
    let v = Vigil::start_with(&cfg, &["--dashboards", CORPUS]);
    // Rates over $__rate_interval (4 s at a 1 s scrape) and the longest
    // fixed windows the panels use need some 30 s of scrapes in both.
    for (who, base) in [("Vigil", &v.base), ("Prometheus", &prom.base)] {
        wait_for(&format!("30 s of scrapes in {who}"), Duration::from_secs(90), || {
            let r = get_json(&format!("{base}/api/v1/query?query={}", urlencode("min(count_over_time(up[1m]))")));
            (r["data"]["result"][0]["value"][1].as_str()?.parse::<u32>().ok()? >= 30).then_some(())
        });
    }
    let mut report = Vec::new();
    let mut counted = (0, 0, 0, 0);
    for (uid, file) in DASHBOARDS {
        let json: Value = serde_json::from_str(&std::fs::read_to_string(format!("{CORPUS}/{file}")).unwrap()).unwrap();
        let by_id: std::collections::HashMap<String, &Value> =
            json_panels(&json).into_iter().map(|p| (p["id"].to_string(), p)).collect();
        let page = get(&format!("{}/d/{uid}?from=now-1m&to=now&open=all", v.base));
        assert_eq!(page.status, 200, "{uid}");
        let drawn = panels(&page.body);
        let expected = by_id.values().filter(|p| p["type"] != "row").count();
        assert_eq!(drawn.len(), expected, "{uid}: every panel drawn, rows open");
        for p in &drawn {
            let place = format!("{uid} panel {} \"{}\"", p.id, p.title);
            let src = by_id.get(&p.id).unwrap_or_else(|| panic!("{place}: not in the JSON"));
            if p.html.contains("panel-error") || p.html.contains("class=\"muted placeholder\"") {
                report.push(format!("{place}: {}", &p.html[..p.html.len().min(400)]));
                continue;
            }
            // Titles: present, variables interpolated.
            if p.title.trim().is_empty() && !src["title"].as_str().unwrap_or("").is_empty() || p.title.contains('$') {
                report.push(format!("{place}: title {:?} for {}", p.title, src["title"]));
            }
            if p.hrefs.is_empty() {
                report.push(format!("{place}: no queries in its menu"));
                continue;
            }
            // Data exactly when Prometheus has some.
            let reference: Vec<usize> = p.hrefs.iter().map(|h| reference_series(&prom, h)).collect();
            let total: usize = reference.iter().sum();
            counted.0 += 1;
            if p.no_data != (total == 0) {
                report.push(format!(
                    "{place}: Vigil {} but Prometheus answers {reference:?} series for {:?}",
                    if p.no_data { "says No data" } else { "draws data" },
                    p.hrefs
                ));
                continue;
            }
            if p.no_data {
                counted.1 += 1;
                continue;
            }
            let legend = legend_entries(p.html);
            let props = properties(src, &legend);
            let set = |id: &'static str| props.iter().filter(move |(k, _)| k == id).map(|(_, v)| v);
            // A legend lists every series Prometheus returns (unless some are hidden from it).
            let hides = src["fieldConfig"].to_string().contains("\"legend\":true");
            let legend_off =
                src["options"]["legend"]["showLegend"] == false || src["options"]["legend"]["displayMode"] == "hidden";
            if p.kind == "timeseries" && !hides && !legend_off && p.legend != total {
                report.push(format!("{place}: {} legend entries, Prometheus has {total} series", p.legend));
            }
            if p.kind == "timeseries" {
                counted.2 += 1;
                let svg = p.html;
                if set("custom.lineStyle").any(|v| v["fill"] == "dash") && !svg.contains("stroke-dasharray") {
                    report.push(format!("{place}: dashed series drawn without dashes"));
                }
                if set("custom.transform").any(|v| v == "negative-Y") && !svg.contains("\n-") {
                    report.push(format!("{place}: a negative-Y series and no axis below zero"));
                }
                let stacked = matches!(
                    src["fieldConfig"]["defaults"]["custom"]["stacking"]["mode"].as_str(),
                    Some("normal" | "percent")
                );
                let shown = legend.iter().filter(|(n, _)| !props_hidden(src, n)).count();
                if stacked && shown > 1 {
                    counted.3 += 1;
                    if !svg.contains("data-stack=") {
                        report.push(format!("{place}: stacked series drawn unstacked"));
                    }
                }
                if set("custom.axisPlacement").any(|v| v == "right") && !svg.contains("text-anchor=\"start\"") {
                    report.push(format!("{place}: a series on the right axis and no labels there"));
                }
                let fill = src["fieldConfig"]["defaults"]["custom"]["fillOpacity"].as_f64().unwrap_or(0.0);
                let fill_off = set("custom.fillOpacity").any(|v| v == 0);
                if fill > 0.0
                    && !fill_off
                    && svg.contains("<path class=\"line\"")
                    && !svg.contains("fill-opacity=")
                    && !svg.contains("<path class=\"fill\" fill=\"url(#")
                {
                    report.push(format!("{place}: fillOpacity {fill} and nothing filled"));
                }
                if let Some(suffix) = src["fieldConfig"]["defaults"]["unit"].as_str().and_then(unit_suffix) {
                    if !svg.contains(&format!("{suffix}\n</text>")) {
                        report.push(format!("{place}: no axis label in {suffix}"));
                    }
                }
            }
        }
    }
    assert!(report.is_empty(), "{} findings:\n{}", report.len(), report.join("\n"));
    // Most panels draw (node_exporter here lacks a few collectors, and some
    // panels show only what is above zero).
    assert!(
        counted.0 >= 200 && counted.1 * 4 < counted.0 && counted.3 >= 5,
        "panels checked, without data, time series, stacked: {counted:?}"
    );

    // In a real browser: nothing clipped, every chart as wide as its panel allows.
    for (uid, _) in DASHBOARDS {
        let mut page =
            common::browser::Browser::open(&format!("{}/d/{uid}?from=now-1m&to=now&open=all", v.base), (1400, 1000));
        page.screenshot(&format!("community-{uid}"));
        let m = page.eval(common::browser::MEASURE_PANELS);
        assert_eq!(m["overflow"], serde_json::json!([]), "{uid}: clipped or overflowing: {m}");
        assert_eq!(m["narrow"], serde_json::json!([]), "{uid}: charts narrower than 90 % of their panel: {m}");
    }
}
