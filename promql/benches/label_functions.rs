//! Label-changing functions in range queries: `label_replace` and
//! `label_join` over 4,000 counters × 240 steps, beside the same query
//! without them (they are per-series operations, so they should cost about
//! nothing more). `cargo bench -p promql --bench label_functions`.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use storage::{Db, Labels, Sample};

const T0: i64 = 1_700_000_000_000;
const STEP: i64 = 15_000;
const POINTS: i64 = 260;

/// 4,000 counters (100 instances × 40 handlers), one sample every 15 s.
fn store() -> Db {
    let db = Db::in_memory();
    let refs: Vec<_> = (0..4000)
        .map(|i| {
            db.get_or_create(&Labels::from_pairs([
                ("__name__", "http_requests_total".to_string()),
                ("instance", format!("host-{:03}:9100", i / 40)),
                ("handler", format!("/api/v1/h{:02}", i % 40)),
                ("job", "api".to_string()),
            ]))
        })
        .collect();
    for k in 0..POINTS {
        let batch: Vec<_> = refs
            .iter()
            .enumerate()
            .map(|(i, r)| (*r, Sample { t: T0 + k * STEP, v: (k * (1 + i as i64 % 7)) as f64 }))
            .collect();
        db.append(&batch);
    }
    db
}

fn bench(c: &mut Criterion) {
    let db = store();
    let engine = promql::Engine::default();
    let (start, end) = (T0 + 20 * STEP, T0 + (POINTS - 1) * STEP);
    let mut g = c.benchmark_group("range_4000_series_240_steps");
    g.sample_size(10);
    for (name, q) in [
        ("plain", "rate(http_requests_total[1m])"),
        ("label_replace", r#"label_replace(rate(http_requests_total[1m]), "host", "$1", "instance", "(.*):.*")"#),
        ("label_join", r#"label_join(rate(http_requests_total[1m]), "where", "/", "instance", "handler")"#),
    ] {
        let expr = promql::parse(q).unwrap();
        let n = match engine.range(&db, &expr, start, end, STEP).unwrap() {
            promql::Value::Matrix(m) => m.len(),
            _ => 0,
        };
        assert_eq!(n, 4000, "{name}");
        g.bench_function(name, |b| b.iter(|| engine.range(&db, black_box(&expr), start, end, STEP).unwrap()));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
