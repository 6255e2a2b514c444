//! Writing query answers: a 10k-series instant vector and a 100-series ×
//! 1,000-point matrix (17-digit values, and values of a few decimals),
//! labelled like the bench farm's series.
//! `cargo bench -p web --bench serialize`. The `serde_json_tree` variants
//! build a `serde_json::Value` first, as Vigil's API did before. The
//! `api_time` group reads and writes the API's RFC 3339 times.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use promql::{Series, VectorSample};
use serde_json::json;
use std::hint::black_box;
use storage::Labels;
use web::api::json;

fn labels(i: usize) -> Labels {
    Labels::from_pairs([
        ("__name__", "http_request_duration_seconds_bucket".to_string()),
        ("handler", format!("/api/v1/endpoint{}", i % 40)),
        ("instance", format!("127.0.0.1:{}", 19100 + i / 2000)),
        ("job", "farm".to_string()),
        (
            "le",
            ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"][i % 12].to_string(),
        ),
        ("method", "GET".to_string()),
    ])
}

fn tree(v: &[VectorSample]) -> String {
    let result: Vec<serde_json::Value> = v
        .iter()
        .map(|s| {
            let metric: serde_json::Map<String, serde_json::Value> =
                s.labels.iter().map(|l| (l.name.to_string(), json!(l.value))).collect();
            json!({"metric": metric, "value": [s.t as f64 / 1000.0, promql::format_value(s.v)]})
        })
        .collect();
    json!({"status": "success", "data": {"resultType": "vector", "result": result}}).to_string()
}

fn bench(c: &mut Criterion) {
    let vector: Vec<VectorSample> = (0..10_000)
        .map(|i| VectorSample { labels: labels(i), t: 1_700_000_000_123, v: (i as f64) * 0.37 + 1.0 })
        .collect();
    let mut g = c.benchmark_group("vector_10k_series");
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("writer", |b| {
        b.iter(|| {
            let mut out = String::new();
            json::vector(&mut out, black_box(&vector));
            out.len()
        })
    });
    g.bench_function("serde_json_tree", |b| b.iter(|| tree(black_box(&vector)).len()));
    g.finish();

    let matrix: Vec<Series> = (0..100)
        .map(|i| Series {
            labels: labels(i),
            points: (0..1_000).map(|k| (1_700_000_000_000 + k * 15_000, (k as f64 * 1.7 + i as f64).sqrt())).collect(),
        })
        .collect();
    // Values of a few decimals, as counters, gauges and most rates are.
    let short: Vec<Series> = matrix
        .iter()
        .enumerate()
        .map(|(i, s)| Series {
            labels: s.labels.clone(),
            points: s.points.iter().enumerate().map(|(k, (t, _))| (*t, (i as f64 + k as f64 * 1.25) % 97.0)).collect(),
        })
        .collect();
    let mut g = c.benchmark_group("matrix_100_series_1000_points");
    g.throughput(Throughput::Elements(100_000));
    g.bench_function("writer_17_digit_values", |b| {
        b.iter(|| {
            let mut out = String::new();
            json::matrix(&mut out, black_box(&matrix));
            out.len()
        })
    });
    g.bench_function("writer_short_values", |b| {
        b.iter(|| {
            let mut out = String::new();
            json::matrix(&mut out, black_box(&short));
            out.len()
        })
    });
    g.finish();
}

fn api_time(c: &mut Criterion) {
    let mut g = c.benchmark_group("api_time");
    let texts: Vec<String> =
        (0..1000).map(|i| format!("2015-07-{:02}T20:{:02}:51.{i:03}+02:00", i % 28 + 1, i % 60)).collect();
    g.throughput(Throughput::Elements(texts.len() as u64));
    g.bench_function("parse_rfc3339_1000", |b| {
        b.iter(|| texts.iter().map(|t| web::time::parse_time(black_box(t)).unwrap_or(0)).sum::<i64>())
    });
    g.bench_function("format_rfc3339_1000", |b| {
        b.iter(|| {
            (0..1000i64).map(|i| web::time::format_rfc3339(black_box(1_435_781_451_781 + i * 997)).len()).sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, bench, api_time);
criterion_main!(benches);
