//! A small instrumented web service to scrape: `cargo run --example demo_app`
//! serves http://127.0.0.1:8081/metrics (override with `--listen ADDR`).
//!
//! It simulates traffic to a shop API whose load rises and falls over a
//! ten-minute cycle, with occasional error bursts and a cache that warms up
//! and is flushed now and then, and exposes it with prometheus-client:
//! request counters by method/status/handler, latency histograms, an
//! in-flight gauge, cache hits and misses, and queue depth.

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    handler: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HandlerLabels {
    handler: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    cache: String,
}

struct Shop {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<HandlerLabels, Histogram>,
    in_flight: Family<HandlerLabels, Gauge>,
    cache_hits: Family<CacheLabels, Counter>,
    cache_misses: Family<CacheLabels, Counter>,
    queue_depth: Gauge,
}

/// (method, handler, base requests per second, median latency in seconds)
const HANDLERS: &[(&str, &str, f64, f64)] = &[
    ("GET", "/api/products", 40.0, 0.012),
    ("GET", "/api/products/:id", 25.0, 0.008),
    ("POST", "/api/cart", 6.0, 0.030),
    ("GET", "/api/cart", 10.0, 0.010),
    ("POST", "/api/checkout", 1.5, 0.250),
    ("GET", "/healthz", 1.0, 0.001),
];

/// A tiny xorshift generator: no dependency needed for simulated traffic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    /// A log-normal draw around `median`.
    fn latency(&mut self, median: f64) -> f64 {
        let (u1, u2) = (self.next().max(1e-12), self.next());
        let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        median * (0.6 * z).exp()
    }
}

impl Shop {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("shop");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<HandlerLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5])
        });
        let in_flight = Family::<HandlerLabels, Gauge>::default();
        let cache_hits = Family::<CacheLabels, Counter>::default();
        let cache_misses = Family::<CacheLabels, Counter>::default();
        let queue_depth = Gauge::default();
        registry.register("http_requests", "HTTP requests served", requests.clone());
        registry.register("http_request_duration_seconds", "HTTP request latency", latency.clone());
        registry.register("http_requests_in_flight", "Requests being served now", in_flight.clone());
        registry.register("cache_hits", "Cache lookups that hit", cache_hits.clone());
        registry.register("cache_misses", "Cache lookups that missed", cache_misses.clone());
        registry.register("worker_queue_depth", "Jobs waiting for a worker", queue_depth.clone());
        Shop { registry, requests, latency, in_flight, cache_hits, cache_misses, queue_depth }
    }

    /// Advances the simulation by `dt` seconds at wall-clock phase `t`.
    fn tick(&self, rng: &mut Rng, t: f64, dt: f64) {
        let cycle = 1.0 + 0.6 * (2.0 * std::f64::consts::PI * t / 600.0).sin();
        let error_burst = (t as u64 / 60) % 7 == 3;
        for &(method, handler, rps, median) in HANDLERS {
            let expected = rps * cycle * dt;
            let n = (expected + rng.next() * 2.0 - 1.0).max(0.0).round() as u64;
            for _ in 0..n {
                let r = rng.next();
                let status = if error_burst && handler != "/healthz" && r < 0.08 {
                    "500"
                } else if r < 0.02 {
                    "404"
                } else if method == "POST" && r < 0.04 {
                    "400"
                } else {
                    "200"
                };
                let labels = RequestLabels { method: method.into(), handler: handler.into(), status: status.into() };
                self.requests.get_or_create(&labels).inc();
                let slow = if error_burst { 3.0 } else { 1.0 };
                self.latency
                    .get_or_create(&HandlerLabels { handler: handler.into() })
                    .observe(rng.latency(median * slow));
            }
            let inflight = (rps * cycle * median * 4.0 * rng.next()).round() as i64;
            self.in_flight.get_or_create(&HandlerLabels { handler: handler.into() }).set(inflight);
        }
        // The cache warms up over each 5-minute epoch, then is flushed.
        let warm = ((t % 300.0) / 300.0).min(0.95);
        for cache in ["products", "sessions"] {
            let lookups = (60.0 * cycle * dt) as u64;
            let hits = (lookups as f64 * warm) as u64;
            self.cache_hits.get_or_create(&CacheLabels { cache: cache.into() }).inc_by(hits);
            self.cache_misses.get_or_create(&CacheLabels { cache: cache.into() }).inc_by(lookups - hits);
        }
        let depth = self.queue_depth.get() + (rng.next() * 7.0) as i64 - 3;
        self.queue_depth.set(depth.clamp(0, 50));
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let listen = args
        .iter()
        .position(|a| a == "--listen")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:8081".into());
    let shop = Arc::new(Shop::new());
    let sim = shop.clone();
    tokio::spawn(async move {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let start = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tick.tick().await;
            sim.tick(&mut rng, start.elapsed().as_secs_f64(), 0.25);
        }
    });
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let shop = shop.clone();
            async move {
                let mut body = String::new();
                let _ = encode(&mut body, &shop.registry);
                ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], body)
                    .into_response()
            }
        }),
    );
    let listener = match tokio::net::TcpListener::bind(&listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("demo_app: cannot listen on {listen}: {e}");
            std::process::exit(1);
        }
    };
    println!("demo_app: serving http://{listen}/metrics");
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("demo_app: {e}");
    }
}
