//! Server-rendered pages (askama templates under `web/templates`). Every
//! value from a target is escaped by askama's HTML escaping.

use crate::html::render;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::atomic::Ordering;

struct JobSummary {
    job: String,
    up: usize,
    down: usize,
    unknown: usize,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    jobs: Vec<JobSummary>,
    up: usize,
    down: usize,
    unknown: usize,
    series: usize,
    samples: u64,
    /// Chunk files, index and WAL, formatted ("12.3 MiB"); empty for an in-memory store.
    disk: String,
    /// Bytes per sample on disk, formatted; empty before any chunk is written.
    bytes_per_sample: String,
    /// The store's last write error (disk full, read-only), if writes are failing.
    storage_error: String,
    /// (uid, title) of every dashboard.
    dashboards: Vec<(String, String)>,
}

/// `1234567` → `1.2 MiB`.
fn iec_bytes(n: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

/// GET /
pub async fn home(State(st): State<AppState>) -> Response {
    let jobs: Vec<JobSummary> = st
        .scrapes
        .pools()
        .into_iter()
        .map(|p| JobSummary {
            up: p.targets.iter().filter(|t| t.health == "up").count(),
            down: p.targets.iter().filter(|t| t.health == "down").count(),
            unknown: p.targets.iter().filter(|t| t.health == "unknown").count(),
            job: p.job,
        })
        .collect();
    let page = HomePage {
        up: jobs.iter().map(|j| j.up).sum(),
        down: jobs.iter().map(|j| j.down).sum(),
        unknown: jobs.iter().map(|j| j.unknown).sum(),
        jobs,
        series: st.db.num_series(),
        samples: st.db.stats().samples_appended.load(Ordering::Relaxed),
        disk: st
            .db
            .path()
            .map(|_| {
                let u = st.db.disk_usage();
                iec_bytes(u.chunks + u.index + u.wal)
            })
            .unwrap_or_default(),
        bytes_per_sample: st.db.disk_usage().bytes_per_sample().map(|b| format!("{b:.2}")).unwrap_or_default(),
        storage_error: st.db.last_error().unwrap_or_default(),
        dashboards: {
            let host = crate::dashboard::host_listed(&st);
            st.dashboards
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .list
                .iter()
                .filter(|d| d.uid != crate::dashboard::HOST_UID || host)
                .map(|d| (d.uid.clone(), d.title.clone()))
                .collect()
        },
    };
    render(&page)
}

struct TargetRow {
    url: String,
    health: &'static str,
    labels: Vec<(String, String)>,
    last_scrape: String,
    duration: String,
    samples: u64,
    error: String,
}

struct PoolSection {
    job: String,
    up: usize,
    dropped: usize,
    errors: Vec<String>,
    targets: Vec<TargetRow>,
}

#[derive(Template)]
#[template(path = "targets.html")]
struct TargetsPage {
    pools: Vec<PoolSection>,
}

fn ago(t: Option<std::time::SystemTime>) -> String {
    match t.and_then(|t| t.elapsed().ok()) {
        None => "never".into(),
        Some(d) if d.as_secs() < 1 => format!("{}ms ago", d.as_millis()),
        Some(d) => format!("{:.1}s ago", d.as_secs_f64()),
    }
}

/// GET /targets
pub async fn targets(State(st): State<AppState>) -> Response {
    let pools = st
        .scrapes
        .pools()
        .into_iter()
        .map(|p| PoolSection {
            up: p.targets.iter().filter(|t| t.health == "up").count(),
            dropped: p.dropped.len(),
            errors: p.errors,
            targets: p
                .targets
                .iter()
                .map(|t| TargetRow {
                    url: t.url.clone(),
                    health: t.health,
                    labels: t.labels.iter().map(|l| (l.name.to_string(), l.value.to_string())).collect(),
                    last_scrape: ago(t.last_scrape),
                    duration: format!("{:.3}s", t.last_duration.as_secs_f64()),
                    samples: t.last_samples,
                    error: t.last_error.clone(),
                })
                .collect(),
            job: p.job,
        })
        .collect();
    render(&TargetsPage { pools })
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    version: &'static str,
    started: String,
    cwd: String,
    reload_ok: bool,
    last_config: String,
    retention: String,
    storage_error: String,
    series: usize,
    chunks_in_memory: u64,
    disk_samples: u64,
    bytes_per_sample: String,
    chunk_bytes: String,
    index_bytes: String,
    wal_bytes: String,
    partitions: u64,
    time_bounds: String,
    by_metric: Vec<(String, u64)>,
    by_label: Vec<(String, u64)>,
    flags: Vec<(String, String)>,
    config: String,
}

fn rfc3339(t: std::time::SystemTime) -> String {
    crate::time::format_rfc3339(storage::model::timestamp::from_system_time(t))
}

/// GET /status: build, runtime, storage figures, cardinality, flags and
/// the running config (secrets hidden).
pub async fn status(State(st): State<AppState>) -> Response {
    let r = st.control.runtime_info();
    let u = st.db.disk_usage();
    let c = st.db.cardinality(10);
    let page = StatusPage {
        version: env!("CARGO_PKG_VERSION"),
        started: rfc3339(r.start_time),
        cwd: r.cwd,
        reload_ok: r.reload_config_success,
        last_config: rfc3339(r.last_config_time),
        retention: r.storage_retention,
        storage_error: st.db.last_error().unwrap_or_default(),
        series: st.db.num_series(),
        chunks_in_memory: st.db.chunks_in_memory(),
        disk_samples: u.samples,
        bytes_per_sample: u.bytes_per_sample().map_or("—".into(), |b| format!("{b:.3}")),
        chunk_bytes: iec_bytes(u.chunks),
        index_bytes: iec_bytes(u.index),
        wal_bytes: iec_bytes(u.wal),
        partitions: u.partitions,
        time_bounds: st.db.time_bounds().map_or("—".into(), |(a, b)| {
            format!("{} – {}", crate::time::format_rfc3339(a), crate::time::format_rfc3339(b))
        }),
        by_metric: c.series_by_metric,
        by_label: c.values_by_label,
        flags: st.control.flags(),
        config: st.control.config_yaml(),
    };
    render(&page)
}

/// GET /static/vigil.css (embedded in the binary).
pub async fn stylesheet(headers: axum::http::HeaderMap) -> Response {
    static CSS: &str = include_str!("../static/vigil.css");
    static ETAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    // The same bytes give the same tag across restarts and builds (FNV-1a over the file).
    let etag = ETAG.get_or_init(|| {
        let hash = CSS.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
        format!("\"{hash:016x}\"")
    });
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let cache = [(header::ETAG, etag.as_str()), (header::CACHE_CONTROL, "max-age=3600")];
    if matches {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (cache, [(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response()
}

#[cfg(test)]
mod tests {
    use super::iec_bytes;

    #[test]
    fn sizes_in_powers_of_1024() {
        assert_eq!(iec_bytes(0), "0 B");
        assert_eq!(iec_bytes(1023), "1023 B");
        assert_eq!(iec_bytes(1536), "1.5 KiB");
        assert_eq!(iec_bytes(5 << 30), "5.0 GiB");
    }
}
