//! Exposition parsing and the scrape append path.
//!
//! `cargo bench --bench scrape`. Inputs: Prometheus's own test page
//! (../shared/prometheus-testdata, when present), a generated page shaped
//! like ../shared/bench's farm targets (10,000 series), and a captured
//! node_exporter page when `NODE_EXPORTER_PAGE` names a file
//! (`curl -s 127.0.0.1:9100/metrics > /tmp/node.txt`).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use storage::{Db, Labels};
use vigil::scrape::append::Appender;
use vigil::scrape::parse::{Entry, Format, Parser};

/// A page like the bench farm's: counters and 12-bucket histograms per
/// handler, gauges padding to `series` lines.
fn farm_page(series: usize) -> String {
    let mut out = String::new();
    let mut n = 0;
    let mut handler = 0;
    out.push_str("# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\n");
    let buckets = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"];
    while n < series {
        for (m, s) in [
            ("GET", "200"),
            ("GET", "404"),
            ("GET", "500"),
            ("POST", "200"),
            ("POST", "201"),
            ("POST", "400"),
            ("PUT", "200"),
            ("DELETE", "204"),
        ] {
            out.push_str(&format!(
                "http_requests_total{{handler=\"/api/v1/resource{handler}\",method=\"{m}\",status=\"{s}\"}} {}\n",
                1000 + n * 7
            ));
            n += 1;
        }
        for b in buckets {
            out.push_str(&format!("http_request_duration_seconds_bucket{{handler=\"/api/v1/resource{handler}\",method=\"GET\",le=\"{b}\"}} {}\n", n * 3));
            n += 1;
        }
        out.push_str(&format!(
            "http_request_duration_seconds_sum{{handler=\"/api/v1/resource{handler}\",method=\"GET\"}} {}.{}\n",
            n,
            n % 1000
        ));
        out.push_str(&format!(
            "http_request_duration_seconds_count{{handler=\"/api/v1/resource{handler}\",method=\"GET\"}} {}\n",
            n * 3
        ));
        n += 2;
        handler += 1;
    }
    out
}

fn inputs() -> Vec<(String, String)> {
    let mut v = vec![("farm_10k_series".to_string(), farm_page(10_000))];
    let shared =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/prometheus-testdata/textparse/alltypes.237mfs.prom.txt");
    if let Ok(t) = std::fs::read_to_string(shared) {
        v.push(("prometheus_237mfs".to_string(), t));
    }
    if let Some(t) = std::env::var_os("NODE_EXPORTER_PAGE").and_then(|p| std::fs::read_to_string(p).ok()) {
        v.push(("node_exporter".to_string(), t));
    }
    v
}

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse_text");
    for (name, body) in inputs() {
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(&name), &body, |b, body| {
            b.iter(|| {
                let mut n = 0usize;
                for e in Parser::new(black_box(body), Format::Text) {
                    if let Ok(Entry::Sample(s)) = e {
                        n += s.value.is_finite() as usize;
                    }
                }
                n
            })
        });
    }
    g.finish();
}

fn append(c: &mut Criterion) {
    let body = farm_page(10_000);
    let samples = Parser::new(&body, Format::Text).filter(|e| matches!(e, Ok(Entry::Sample(_)))).count();
    let cfg = vigil::config::parse("scrape_configs:\n  - job_name: farm\n", "bench.yml", Path::new("."))
        .expect("config")
        .scrape_configs
        .remove(0);
    let db = Arc::new(Db::in_memory());
    let target = Labels::from_pairs([("job", "farm"), ("instance", "127.0.0.1:19100")]);
    let mut app = Appender::new(db, target, Arc::new(cfg));
    let mut ts = 1_700_000_000_000i64;
    app.append_body(&body, Format::Text, ts).expect("first scrape");
    let mut g = c.benchmark_group("scrape_append");
    g.throughput(Throughput::Elements(samples as u64));
    g.bench_function("farm_10k_series_existing", |b| {
        b.iter(|| {
            ts += 15_000;
            app.append_body(black_box(&body), Format::Text, ts).expect("scrape")
        })
    });
    g.finish();
}

criterion_group!(benches, parse, append);
criterion_main!(benches);
