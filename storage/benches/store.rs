//! Store speed: appends into existing series (in memory, and with the WAL),
//! a range scan (decoded into vectors, and through the lazy iterators), and opening a data dir whose WAL holds a million samples.
//! `cargo bench -p storage --bench store`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};
use storage::{Db, Labels, MatchOp, Matcher, Options, Sample, SeriesRef};

const SERIES: usize = 10_000;

fn labels(i: usize) -> Labels {
    Labels::from_pairs([
        ("__name__", format!("metric_{}", i % 100)),
        ("instance", format!("host-{}:9100", i / 100)),
        ("job", "node".to_string()),
        ("i", i.to_string()),
    ])
}

fn refs(db: &Db) -> Vec<SeriesRef> {
    (0..SERIES).map(|i| db.get_or_create(&labels(i))).collect()
}

/// One scrape's batch at time `t`: a counter per series.
fn batch(refs: &[SeriesRef], t: i64, out: &mut Vec<(SeriesRef, Sample)>) {
    out.clear();
    out.extend(refs.iter().enumerate().map(|(i, r)| (*r, Sample { t, v: (t / 15_000 * (i as i64 % 7)) as f64 })));
}

fn opts() -> Options {
    // Maintenance runs inline, as the background thread would every second.
    Options { maintain_every: None, checkpoint_bytes: u64::MAX, checkpoint_every: Duration::MAX, ..Options::default() }
}

fn append(c: &mut Criterion) {
    let mut g = c.benchmark_group("append_existing_10k_series");
    g.throughput(Throughput::Elements(SERIES as u64));
    g.sample_size(30);
    let mem = Db::in_memory();
    let r = refs(&mem);
    let mut t = 0i64;
    let mut buf = Vec::new();
    g.bench_function("memory", |b| {
        b.iter(|| {
            t += 15_000;
            batch(&r, t, &mut buf);
            black_box(mem.append(&buf))
        })
    });
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::open(tmp.path(), opts()).unwrap();
    let r = refs(&db);
    let mut t = 0i64;
    let mut n = 0u64;
    g.bench_function("wal", |b| {
        b.iter(|| {
            t += 15_000;
            n += 1;
            batch(&r, t, &mut buf);
            let o = db.append(&buf);
            // Chunks are written as they seal, as the maintenance thread does.
            if n.is_multiple_of(120) {
                db.maintain();
            }
            black_box(o)
        })
    });
    g.finish();
}

fn scan(c: &mut Criterion) {
    // 10k series × 720 samples (3 h at 15 s): most on disk, the rest in memory.
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::open(tmp.path(), opts()).unwrap();
    let r = refs(&db);
    let mut buf = Vec::new();
    for k in 1..=720 {
        batch(&r, k * 15_000, &mut buf);
        db.append(&buf);
        if k % 120 == 0 {
            db.maintain();
        }
    }
    let total = (SERIES * 720) as u64;
    let mut g = c.benchmark_group("select_10k_series_720_samples");
    g.throughput(Throughput::Elements(total));
    g.sample_size(10);
    let m = Matcher::new(MatchOp::Equal, "job", "node").unwrap();
    g.bench_function("all", |b| {
        b.iter(|| {
            let got = db.select(std::slice::from_ref(&m), 0, i64::MAX);
            assert_eq!(got.iter().map(|s| s.samples.len() as u64).sum::<u64>(), total);
            black_box(got)
        })
    });
    g.bench_function("lazy_iterators", |b| {
        b.iter(|| {
            let got = db.select_series(std::slice::from_ref(&m), 0, i64::MAX);
            let (mut n, mut sum) = (0u64, 0.0);
            for s in &got {
                for x in s.samples() {
                    n += 1;
                    sum += x.v;
                }
            }
            assert_eq!(n, total);
            black_box(sum)
        })
    });
    g.finish();
}

fn open(c: &mut Criterion) {
    // A million samples in the WAL and nothing else: the slowest start.
    let tmp = tempfile::tempdir().unwrap();
    {
        let db = Db::open(tmp.path(), opts()).unwrap();
        let r = refs(&db);
        let mut buf = Vec::new();
        for k in 1..=100 {
            batch(&r, k * 15_000, &mut buf);
            db.append(&buf);
        }
    }
    let mut g = c.benchmark_group("open");
    g.sample_size(10);
    g.bench_function("wal_1m_samples", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                let started = Instant::now();
                let db: Arc<Db> = Db::open(tmp.path(), opts()).unwrap();
                spent += started.elapsed();
                assert_eq!(db.open_report().unwrap().wal_samples, 1_000_000);
                drop(db);
            }
            spent
        })
    });
    g.finish();
}

criterion_group!(benches, append, scan, open);
criterion_main!(benches);
