//! Vigil's HTTP side, on one port: the Prometheus API under `/api/v1`,
//! server-rendered pages, Vigil's own `/metrics`, and the lifecycle
//! endpoints (`/-/healthy`, `/-/ready`, `/-/reload`).
//!
//! A tour:
//! - [`router`] builds the axum `Router` from an [`AppState`];
//! - [`api`]: the Prometheus HTTP API (JSON handlers, their parameters and
//!   error shapes), `/federate`, and the import endpoints;
//! - [`pages`]: the server-rendered pages (askama templates under
//!   `web/templates`): home, targets, status, flags, config;
//! - [`graph`]: `/graph`, the expression browser;
//! - [`dashboard`]: Grafana dashboards read, interpolated and drawn on the grid;
//! - [`chart`]: plotters charts as SVG; [`png`]: the same rasterised;
//! - [`units`]: values formatted as Grafana formats a unit;
//! - [`html`]: what every page shares (rendering, a series' name);
//! - [`time`]: API time and duration parameters.
//!
//! The web crate knows nothing of how targets are scraped or how config is
//! reloaded: the binary hands it the small traits [`ScrapeView`] and
//! [`Control`], as Prometheus's web package is handed its managers. The
//! capabilities to come are handed in the same way: a `RulesView` (rule
//! groups, their rules and health, active alerts, the Alertmanagers in use)
//! behind `/api/v1/rules`, `/api/v1/alerts`, `/api/v1/alertmanagers` and the
//! rules and alerts pages; the remote-write receiver's body goes to the
//! binary through [`Control`] as imports do (`api` checks headers and size,
//! the binary decodes and appends).

#![warn(missing_docs)]

pub mod api;
pub mod chart;
pub mod dashboard;
pub mod graph;
pub mod html;
pub mod pages;
pub mod png;
pub mod time;
pub mod units;

use axum::routing::{get, post};
use axum::Router;
use promql::Engine;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use storage::{Db, Labels};

/// One target as the pages and the targets API show it.
#[derive(Clone, Debug)]
pub struct TargetInfo {
    /// Labels after relabeling (what samples carry).
    pub labels: Labels,
    /// Labels before relabeling (`__address__`, `__meta_*`, …).
    pub discovered: Labels,
    /// The scrape URL.
    pub url: String,
    /// "up", "down" or "unknown".
    pub health: &'static str,
    /// The last scrape's error (empty when it succeeded).
    pub last_error: String,
    /// When the last scrape started.
    pub last_scrape: Option<SystemTime>,
    /// How long it took.
    pub last_duration: Duration,
    /// Samples it returned.
    pub last_samples: u64,
    /// Scrape interval.
    pub interval: Duration,
    /// Scrape timeout.
    pub timeout: Duration,
    /// Its families' metadata, sorted by name.
    pub metadata: Arc<Vec<storage::MetricMetadata>>,
}

/// The targets of one job.
#[derive(Clone, Debug)]
pub struct PoolInfo {
    /// The job's name.
    pub job: String,
    /// Its active targets.
    pub targets: Vec<TargetInfo>,
    /// Discovered labels of targets that relabeling dropped.
    pub dropped: Vec<Labels>,
    /// Problems with discovery or target labels.
    pub errors: Vec<String>,
}

/// What the web side may ask of the scrape manager.
pub trait ScrapeView: Send + Sync {
    /// Every job's targets, in config order.
    fn pools(&self) -> Vec<PoolInfo>;
}

/// Process-level actions the web side may trigger.
pub trait Control: Send + Sync {
    /// Re-reads the config; on error the running config stays and the error says why.
    fn reload(&self) -> Result<(), String>;
    /// Vigil's own metrics in the exposition format, and its content type.
    fn metrics(&self) -> (String, &'static str);
    /// The running config's text, secrets replaced by `<secret>`.
    fn config_yaml(&self) -> String;
    /// Command-line flags and their values (defaults included).
    fn flags(&self) -> Vec<(String, String)>;
    /// What /api/v1/status/runtimeinfo reports.
    fn runtime_info(&self) -> RuntimeInfo;
    /// `global.external_labels` of the running config.
    fn external_labels(&self) -> Labels;
    /// `global.scrape_interval` of the running config (dashboards' `$__rate_interval` and step floor).
    fn scrape_interval(&self) -> Duration;
    /// Imports a body of OpenMetrics or Prometheus text with timestamps
    /// (gzip too): all of it, or nothing when a line is bad.
    fn import(&self, body: Vec<u8>) -> Result<ImportReport, ImportFailure>;
    /// A query ended (API, graph page or dashboard panel): for Vigil's own metrics.
    fn query_done(&self, _kind: QueryKind, _took: Duration, _outcome: QueryOutcome) {}
}

/// Which kind of query ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryKind {
    /// `/api/v1/query` or one panel value.
    Instant,
    /// `/api/v1/query_range` or a chart.
    Range,
}

/// How a query ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryOutcome {
    /// An answer was returned.
    Answered,
    /// The query failed (bad query, too many samples, …).
    Failed,
    /// The query ran past its timeout.
    TimedOut,
    /// The client went away before the answer was ready.
    Canceled,
}

impl QueryOutcome {
    /// How an evaluation's result ended.
    pub fn of<T>(r: &Result<T, promql::EvalError>) -> QueryOutcome {
        match r {
            Ok(_) => QueryOutcome::Answered,
            Err(promql::EvalError::Timeout(_)) => QueryOutcome::TimedOut,
            Err(promql::EvalError::Canceled(_)) => QueryOutcome::Canceled,
            Err(_) => QueryOutcome::Failed,
        }
    }
}

/// What an import wrote and what it turned away.
#[derive(Clone, Debug, Default)]
pub struct ImportReport {
    /// Series that received samples.
    pub series: u64,
    /// Samples stored.
    pub samples: u64,
    /// Lines without a timestamp (an import needs one).
    pub no_timestamp: u64,
    /// Repeated timestamps with another value.
    pub duplicate: u64,
    /// Samples the store already held.
    pub already_stored: u64,
}

/// Why an import wrote nothing.
#[derive(Clone, Debug)]
pub enum ImportFailure {
    /// The body is at fault (the message names the line and column).
    BadInput(String),
    /// The store refused it (disk full, …).
    Store(String),
}

/// What /api/v1/status/runtimeinfo reports.
#[derive(Clone, Debug)]
pub struct RuntimeInfo {
    /// When Vigil started.
    pub start_time: SystemTime,
    /// The working directory.
    pub cwd: String,
    /// Whether the last reload succeeded.
    pub reload_config_success: bool,
    /// When the running config was loaded.
    pub last_config_time: SystemTime,
    /// WAL segments found torn or corrupt when the store opened.
    pub corruption_count: u64,
    /// Tasks alive in the runtime (Prometheus: goroutines).
    pub task_count: usize,
    /// Runtime worker threads (Prometheus: GOMAXPROCS).
    pub workers: usize,
    /// Retention as Prometheus words it (`15d`, `10GiB`, …).
    pub storage_retention: String,
}

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub db: Arc<Db>,
    /// The query engine with its limits.
    pub engine: Engine,
    /// The scrape manager, as the pages see it.
    pub scrapes: Arc<dyn ScrapeView>,
    /// Process actions (reload, import, own metrics).
    pub control: Arc<dyn Control>,
    /// Set once queries can be served (/-/ready answers 503 before).
    pub ready: Arc<AtomicBool>,
    /// `--web.enable-admin-api`: the /api/v1/admin endpoints answer.
    pub admin_api: bool,
    /// The dashboards served (reloaded in place).
    pub dashboards: Arc<std::sync::RwLock<Dashboards>>,
}

impl AppState {
    /// Runs one query on this thread and reports it to Vigil's own metrics.
    pub fn timed<T>(
        &self,
        kind: QueryKind,
        f: impl FnOnce(&Engine) -> Result<T, promql::EvalError>,
    ) -> Result<T, promql::EvalError> {
        let started = std::time::Instant::now();
        let r = f(&self.engine);
        self.control.query_done(kind, started.elapsed(), QueryOutcome::of(&r));
        r
    }

    /// A copy whose queries stop once the returned guard is dropped (when the
    /// page's request goes away before it is answered).
    pub fn cancellable(&self) -> (AppState, CancelOnDrop) {
        let flag = Arc::new(AtomicBool::new(false));
        let mut st = self.clone();
        st.engine.cancel = Some(flag.clone());
        (st, CancelOnDrop(flag))
    }
}

/// Sets its flag when dropped: the queries watching it stop.
pub struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The dashboards served, and the files that could not be read.
#[derive(Clone, Debug, Default)]
pub struct Dashboards {
    /// The dashboards, uid-unique.
    pub list: Vec<dashboard::model::Dashboard>,
    /// Files that could not be read, and why.
    pub errors: Vec<String>,
}

impl Dashboards {
    /// The built-in ones, then those of each dir in turn (provisioning, then
    /// uploads); a uid already taken keeps the first.
    pub fn load(dirs: &[&std::path::Path]) -> Dashboards {
        let mut d = Dashboards { list: dashboard::builtin(), errors: Vec::new() };
        for dir in dirs {
            let (list, errors) = dashboard::load_dir(dir);
            d.errors.extend(errors);
            for x in list {
                if d.list.iter().any(|y| y.uid == x.uid) {
                    d.errors.push(format!("{}: uid {:?} is already taken; skipped", x.title, x.uid));
                } else {
                    d.list.push(x);
                }
            }
        }
        d
    }
}

/// All routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/targets", get(pages::targets))
        .route("/status", get(pages::status))
        .route("/graph", get(graph::graph))
        .route("/dashboards", get(dashboard::list))
        .route(
            "/dashboards/import",
            post(dashboard::import).layer(axum::extract::DefaultBodyLimit::max(dashboard::model::MAX_JSON_BYTES * 4)),
        )
        .route("/d/{uid}", get(dashboard::show))
        .route("/render/panel", get(dashboard::render_image))
        .route("/static/vigil.css", get(pages::stylesheet))
        .route("/metrics", get(api::metrics))
        .route("/federate", get(api::federate))
        .route("/api/v1/export", get(api::export).post(api::export))
        .route(
            "/api/v1/import/openmetrics",
            post(api::import).layer(axum::extract::DefaultBodyLimit::max(api::MAX_IMPORT_BODY)),
        )
        .route("/-/healthy", get(api::healthy).head(api::healthy))
        .route("/-/ready", get(api::ready).head(api::ready))
        .route("/-/reload", post(api::reload).put(api::reload))
        .route("/api/v1/query", get(api::query).post(api::query))
        .route("/api/v1/query_range", get(api::query_range).post(api::query_range))
        .route("/api/v1/labels", get(api::labels).post(api::labels))
        .route("/api/v1/label/{name}/values", get(api::label_values))
        .route("/api/v1/series", get(api::series).post(api::series))
        .route("/api/v1/targets", get(api::targets))
        .route("/api/v1/targets/metadata", get(api::targets_metadata))
        .route("/api/v1/metadata", get(api::metadata))
        .route("/api/v1/format_query", get(api::format_query).post(api::format_query))
        .route("/api/v1/query_exemplars", get(api::query_exemplars).post(api::query_exemplars))
        .route("/api/v1/status/buildinfo", get(api::buildinfo))
        .route("/api/v1/status/tsdb", get(api::tsdb_status))
        .route("/api/v1/status/config", get(api::status_config))
        .route("/api/v1/status/flags", get(api::status_flags))
        .route("/api/v1/status/runtimeinfo", get(api::runtime_info))
        .route("/api/v1/admin/tsdb/snapshot", post(api::snapshot).put(api::snapshot))
        .fallback(api::not_found)
        .layer(axum::extract::DefaultBodyLimit::max(api::MAX_FORM_BODY))
        // gzip or brotli when the client asks for it, as Prometheus compresses
        // its API and pages; tiny answers and images are sent as they are.
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(state)
}
