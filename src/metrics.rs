//! Vigil's own /metrics: scraping, storage and process figures, exposed
//! with prometheus-client in the OpenMetrics text format.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::family::MetricConstructor;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use storage::Db;

/// The registry and the handles the rest of the binary updates.
pub struct Metrics {
    registry: Registry,
    db: Arc<Db>,
    scrapes: Counter,
    scrape_failures: Counter,
    scraped_samples: Counter,
    head_series: Gauge,
    head_chunk_bytes: Gauge,
    samples_appended: Counter,
    out_of_order: Counter,
    duplicate: Counter,
    resident_memory: Gauge,
    cpu_seconds: Counter<f64, AtomicU64>,
    /// CPU seconds already added to `cpu_seconds` (f64 bits).
    cpu_copied: AtomicU64,
    start_time: Gauge<f64, AtomicU64>,
    write_errors: Counter,
    chunks_written: Counter,
    checkpoints: Counter,
    series_removed: Counter,
    storage_bytes: Family<Vec<(String, String)>, Gauge>,
    bytes_per_sample: Gauge<f64, AtomicU64>,
    disk_samples: Gauge,
    partitions: Gauge,
    index_cache: Gauge,
    /// Store counters already copied into the exported counters.
    copied: [AtomicU64; 7],
    /// Query evaluation time by kind (instant, range).
    query_duration: Family<Vec<(String, String)>, Histogram, QueryBuckets>,
    /// Queries that ended otherwise than answered, by reason (failed, timeout, canceled).
    queries_unanswered: Family<Vec<(String, String)>, Counter>,
}

/// Buckets of the query duration histogram: 1 ms to 60 s.
#[derive(Clone)]
struct QueryBuckets;

impl MetricConstructor<Histogram> for QueryBuckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0])
    }
}

impl Metrics {
    pub fn new(db: Arc<Db>) -> Self {
        let mut registry = Registry::default();
        let m = Metrics {
            registry: Registry::default(),
            db,
            scrapes: Counter::default(),
            scrape_failures: Counter::default(),
            scraped_samples: Counter::default(),
            head_series: Gauge::default(),
            head_chunk_bytes: Gauge::default(),
            samples_appended: Counter::default(),
            out_of_order: Counter::default(),
            duplicate: Counter::default(),
            resident_memory: Gauge::default(),
            cpu_seconds: Counter::default(),
            cpu_copied: AtomicU64::new(0),
            start_time: Gauge::default(),
            write_errors: Counter::default(),
            chunks_written: Counter::default(),
            checkpoints: Counter::default(),
            series_removed: Counter::default(),
            storage_bytes: Family::default(),
            bytes_per_sample: Gauge::default(),
            disk_samples: Gauge::default(),
            partitions: Gauge::default(),
            index_cache: Gauge::default(),
            copied: Default::default(),
            query_duration: Family::new_with_constructor(QueryBuckets),
            queries_unanswered: Family::default(),
        };
        registry.register(
            "vigil_engine_query_duration_seconds",
            "Time to evaluate a PromQL query (API, graph page and dashboard panels), by kind",
            m.query_duration.clone(),
        );
        registry.register(
            "vigil_engine_queries_unanswered",
            "Queries that failed, timed out, or were canceled because the client went away",
            m.queries_unanswered.clone(),
        );
        registry.register("vigil_scrapes", "Scrapes performed", m.scrapes.clone());
        registry.register("vigil_scrape_failures", "Scrapes that failed (target down)", m.scrape_failures.clone());
        registry.register(
            "vigil_scrape_samples",
            "Samples scraped, after metric relabeling",
            m.scraped_samples.clone(),
        );
        registry.register("vigil_tsdb_head_series", "Series in the head", m.head_series.clone());
        registry.register(
            "vigil_tsdb_head_chunk_bytes",
            "Bytes of compressed sample data (Gorilla chunks) in the head",
            m.head_chunk_bytes.clone(),
        );
        registry.register(
            "vigil_tsdb_head_samples_appended",
            "Samples appended to the store",
            m.samples_appended.clone(),
        );
        registry.register(
            "vigil_tsdb_out_of_order_samples",
            "Samples rejected as out of order",
            m.out_of_order.clone(),
        );
        registry.register(
            "vigil_tsdb_duplicate_samples",
            "Samples rejected as duplicates with another value",
            m.duplicate.clone(),
        );
        registry.register(
            "vigil_tsdb_write_errors",
            "Failed writes of the WAL, chunk files or index (disk full, read-only); data stays in memory",
            m.write_errors.clone(),
        );
        registry.register("vigil_tsdb_chunks_written", "Sealed chunks written to disk", m.chunks_written.clone());
        registry.register("vigil_tsdb_wal_checkpoints", "WAL checkpoints taken", m.checkpoints.clone());
        registry.register(
            "vigil_tsdb_series_removed",
            "Series forgotten after retention removed all their samples",
            m.series_removed.clone(),
        );
        registry.register(
            "vigil_tsdb_storage_bytes",
            "Bytes on disk by kind: chunks (chunk files), index (sled), wal",
            m.storage_bytes.clone(),
        );
        registry.register(
            "vigil_tsdb_bytes_per_sample",
            "Bytes of chunk files and index on disk per sample they hold",
            m.bytes_per_sample.clone(),
        );
        registry.register("vigil_tsdb_disk_samples", "Samples in chunk files on disk", m.disk_samples.clone());
        registry.register("vigil_tsdb_partitions", "Two-hour time partitions on disk", m.partitions.clone());
        registry.register(
            "vigil_tsdb_index_cache_capacity_bytes",
            "Capacity of the index's (sled's) page cache",
            m.index_cache.clone(),
        );
        registry.register("process_resident_memory_bytes", "Resident memory size in bytes", m.resident_memory.clone());
        registry.register(
            "process_cpu_seconds",
            "User and system CPU time in seconds (a counter)",
            m.cpu_seconds.clone(),
        );
        registry.register(
            "process_start_time_seconds",
            "Start time of the process since the Unix epoch",
            m.start_time.clone(),
        );
        m.start_time.set(now_s());
        Metrics { registry, ..m }
    }

    /// Called when a query ends.
    pub fn record_query(&self, kind: web::QueryKind, took: std::time::Duration, outcome: web::QueryOutcome) {
        let kind = match kind {
            web::QueryKind::Instant => "instant",
            web::QueryKind::Range => "range",
        };
        self.query_duration.get_or_create(&vec![("kind".into(), kind.into())]).observe(took.as_secs_f64());
        let reason = match outcome {
            web::QueryOutcome::Answered => return,
            web::QueryOutcome::Failed => "failed",
            web::QueryOutcome::TimedOut => "timeout",
            web::QueryOutcome::Canceled => "canceled",
        };
        self.queries_unanswered.get_or_create(&vec![("reason".into(), reason.into())]).inc();
    }

    /// Called by every scrape loop after each scrape, with the samples it
    /// kept after metric relabeling.
    pub fn record_scrape(&self, up: bool, samples: u64) {
        self.scrapes.inc();
        if !up {
            self.scrape_failures.inc();
        }
        self.scraped_samples.inc_by(samples);
    }

    /// The exposition, with gauges refreshed now.
    pub fn render(&self) -> String {
        self.head_series.set(self.db.num_series() as i64);
        self.head_chunk_bytes.set(self.db.chunk_bytes() as i64);
        let st = self.db.stats();
        for (k, (src, dst)) in [
            (&st.samples_appended, &self.samples_appended),
            (&st.out_of_order, &self.out_of_order),
            (&st.duplicate, &self.duplicate),
            (&st.write_errors, &self.write_errors),
            (&st.chunks_written, &self.chunks_written),
            (&st.checkpoints, &self.checkpoints),
            (&st.series_removed, &self.series_removed),
        ]
        .into_iter()
        .enumerate()
        {
            let now = src.load(Ordering::Relaxed);
            let before = self.copied[k].swap(now, Ordering::Relaxed);
            dst.inc_by(now.saturating_sub(before));
        }
        let usage = self.db.disk_usage();
        for (kind, bytes) in [("chunks", usage.chunks), ("index", usage.index), ("wal", usage.wal)] {
            self.storage_bytes.get_or_create(&vec![("kind".to_string(), kind.to_string())]).set(bytes as i64);
        }
        self.bytes_per_sample.set(usage.bytes_per_sample().unwrap_or(f64::NAN));
        self.disk_samples.set(usage.samples as i64);
        self.partitions.set(usage.partitions as i64);
        self.index_cache.set(usage.index_cache_capacity as i64);
        if let Some((rss, cpu)) = proc_self() {
            self.resident_memory.set(rss as i64);
            let before = f64::from_bits(self.cpu_copied.swap(cpu.to_bits(), Ordering::Relaxed));
            if cpu > before {
                self.cpu_seconds.inc_by(cpu - before);
            }
        }
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

fn now_s() -> f64 {
    storage::model::timestamp::now_ms() as f64 / 1000.0
}

/// (resident bytes, CPU seconds) from /proc/self on Linux.
fn proc_self() -> Option<(u64, f64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let rss_kb: u64 = status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()?;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are in clock ticks: USER_HZ, 100 on Linux.
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((rss_kb * 1024, (utime + stime) / 100.0))
}

/// Content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
