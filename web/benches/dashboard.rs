//! Dashboards rendered on the server: the 20-panel service dashboard over an
//! hour at 100,000 stored series (every query and every chart, through the
//! router as a browser's request, plain and gzipped), and one chart of 10 series × 720 points
//! drawn to SVG. `cargo bench -p web --bench dashboard`.

#[path = "fixture/mod.rs"]
mod fixture;

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use web::chart::{self, Line, TimeChart};

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let built = std::time::Instant::now();
    let db = fixture::store(100);
    eprintln!("store: {} series in {:.1?}", db.num_series(), built.elapsed());
    let router = web::router(fixture::state(db));
    let url = fixture::url();
    // Whole before fast: every panel draws and the page is what it should weigh.
    let (status, page) = rt.block_on(fixture::get(router.clone(), &url));
    assert_eq!(status, 200, "{page}");
    assert_eq!(page.matches("<section class=\"panel").count(), 20);
    assert!(fixture::failing_panels(&page).is_empty(), "{:?}", fixture::failing_panels(&page));
    eprintln!("page weight: {} bytes", page.len());
    let mut g = c.benchmark_group("dashboard");
    g.sample_size(30);
    g.bench_function("20_panels_1h_100k_series", |b| {
        b.iter(|| rt.block_on(fixture::get(router.clone(), black_box(&url))).1.len())
    });
    let (_, encoding, zipped) = rt.block_on(fixture::get_encoded(router.clone(), &url, Some("gzip")));
    assert_eq!(encoding.as_deref(), Some("gzip"));
    eprintln!("page weight gzipped: {} bytes", zipped.len());
    g.bench_function("20_panels_1h_100k_series_gzip", |b| {
        b.iter(|| rt.block_on(fixture::get_encoded(router.clone(), black_box(&url), Some("gzip"))).2.len())
    });
    g.finish();

    // Node Exporter Full, every row open, over a day of one host.
    let built = std::time::Instant::now();
    let host = fixture::host::host_store();
    eprintln!("host store: {} series in {:.1?}", host.num_series(), built.elapsed());
    let router = web::router(fixture::state_with(host, &[fixture::host::dashboard_json()]));
    let url = fixture::host::url();
    let (status, page) = rt.block_on(fixture::get(router.clone(), &url));
    assert_eq!(status, 200, "{page}");
    assert_eq!(page.matches("<section class=\"panel").count(), 125);
    assert!(!page.contains("panel-error"), "no panel fails");
    let (_, _, zipped) = rt.block_on(fixture::get_encoded(router.clone(), &url, Some("gzip")));
    let (_, _, brotli) = rt.block_on(fixture::get_encoded(router.clone(), &url, Some("br")));
    eprintln!(
        "host page: {} bytes, {} gzipped, {} brotli; {} panels without data",
        page.len(),
        zipped.len(),
        brotli.len(),
        page.matches("data-no-data").count()
    );
    let mut g = c.benchmark_group("dashboard");
    g.sample_size(10);
    g.bench_function("node_exporter_full_125_panels_24h", |b| {
        b.iter(|| rt.block_on(fixture::get(router.clone(), black_box(&url))).1.len())
    });
    g.bench_function("node_exporter_full_125_panels_24h_gzip", |b| {
        b.iter(|| rt.block_on(fixture::get_encoded(router.clone(), black_box(&url), Some("gzip"))).2.len())
    });
    g.finish();

    let lines: Vec<Line> = (0..10)
        .map(|i| Line {
            name: format!("series {i}"),
            points: (0..720)
                .map(|k| (fixture::T0 + k * 5_000, ((k + i * 37) as f64 / 40.0).sin() * 100.0 + 200.0))
                .collect(),
            colour: None,
            style: Default::default(),
        })
        .collect();
    let frame = TimeChart {
        width: 1200,
        height: 300,
        start: fixture::T0,
        end: fixture::T0 + fixture::HOUR,
        step: 5_000,
        unit: "bytes",
        decimals: None,
        right: None,
        bounds: Default::default(),
        theme: chart::Theme::Page,
        marks: &[],
        thresholds: Default::default(),
        scheme: None,
        tooltip: Default::default(),
        axis_labels: ("", ""),
    };
    eprintln!("chart: {} bytes of SVG", chart::time_series(&lines, &frame).len());
    c.bench_function("chart/10_series_720_points_svg", |b| {
        b.iter(|| chart::time_series(black_box(&lines), &frame).len())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
