//! Gorilla chunk encode and decode speed: `cargo bench -p storage --bench chunks`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use storage::chunkenc::{XorAppender, XorIterator, SAMPLES_PER_CHUNK};

/// 1,000 chunks of 120 samples shaped like scraped data: regular 15 s
/// timestamps with a little jitter every few samples, and a counter that
/// grows by small integer steps.
fn series() -> Vec<Vec<(i64, f64)>> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..1000)
        .map(|_| {
            let mut t = 1_700_000_000_000i64;
            let mut v = (rnd() % 100_000) as f64;
            (0..SAMPLES_PER_CHUNK)
                .map(|k| {
                    t += 15_000 + if k % 7 == 0 { (rnd() % 3) as i64 } else { 0 };
                    v += (rnd() % 20) as f64;
                    (t, v)
                })
                .collect()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let data = series();
    let total: u64 = data.iter().map(|s| s.len() as u64).sum();
    let chunks: Vec<Vec<u8>> = data
        .iter()
        .map(|s| {
            let mut a = XorAppender::new();
            for (t, v) in s {
                a.append(*t, *v);
            }
            a.into_bytes()
        })
        .collect();
    let bytes: usize = chunks.iter().map(|c| c.len()).sum();
    println!("chunk bytes per sample: {:.3}", bytes as f64 / total as f64);
    let mut g = c.benchmark_group("xor_chunk");
    g.throughput(Throughput::Elements(total));
    g.bench_function("encode", |b| {
        b.iter(|| {
            let mut n = 0;
            for s in &data {
                let mut a = XorAppender::new();
                for (t, v) in s {
                    a.append(*t, *v);
                }
                n += a.bytes().len();
            }
            n
        })
    });
    g.bench_function("decode", |b| {
        b.iter(|| {
            let mut sum = 0.0;
            for c in &chunks {
                for (_, v) in XorIterator::new(black_box(c)) {
                    sum += v;
                }
            }
            sum
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
