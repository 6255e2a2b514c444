//! `vigil run`: load the config, start scraping and serve HTTP until a signal.

use crate::config::{self, Config};
use crate::metrics::{Metrics, CONTENT_TYPE};
use crate::scrape::manager::Manager;
use anyhow::Context;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use storage::Db;
use web::{AppState, Control, PoolInfo, RuntimeInfo, ScrapeView, TargetInfo};

/// What `vigil run` needs to know.
#[derive(Debug, Clone)]
pub struct Options {
    /// None: the embedded default config that scrapes Vigil itself.
    pub config_file: Option<PathBuf>,
    pub listen: String,
    pub data_dir: PathBuf,
    pub retention: Duration,
    pub checkpoint_interval: Duration,
    pub admin_api: bool,
    /// Bytes the data dir may take (0: no limit).
    pub retention_size: u64,
    /// Grafana dashboard JSON files to serve (`--dashboards DIR`).
    pub dashboards: Option<PathBuf>,
}

/// A config that failed to load at start: the process exits with code 2.
#[derive(Debug)]
pub struct BadConfig(pub String);

impl std::fmt::Display for BadConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadConfig {}

/// Reads the config named in `opts`, or the embedded default.
pub fn load_config(opts: &Options) -> Result<Config, config::ConfigError> {
    match &opts.config_file {
        Some(p) => config::load(p),
        None => {
            let text = config::DEFAULT_CONFIG.replace("{listen}", &self_target(&opts.listen));
            config::parse(&text, "<default config>", std::path::Path::new("."))
        }
    }
}

/// The address Vigil scrapes itself at.
fn self_target(listen: &str) -> String {
    match listen.strip_prefix(':') {
        Some(port) => format!("127.0.0.1:{port}"),
        None => listen.replace("0.0.0.0:", "127.0.0.1:").replace("[::]:", "[::1]:"),
    }
}

struct Scrapes(Arc<Manager>);

impl ScrapeView for Scrapes {
    fn pools(&self) -> Vec<PoolInfo> {
        self.0
            .view()
            .into_iter()
            .map(|p| PoolInfo {
                job: p.job,
                targets: p
                    .targets
                    .iter()
                    .map(|t| {
                        let s = t.status();
                        TargetInfo {
                            labels: t.labels.clone(),
                            discovered: t.discovered.clone(),
                            url: t.url.clone(),
                            health: s.health.as_str(),
                            last_error: s.last_error,
                            last_scrape: s.last_scrape,
                            last_duration: s.last_duration,
                            last_samples: s.last_samples,
                            interval: t.interval,
                            timeout: t.timeout,
                            metadata: t.metadata.lock().unwrap_or_else(|e| e.into_inner()).clone(),
                        }
                    })
                    .collect(),
                dropped: p.dropped.into_iter().map(|d| d.discovered).collect(),
                errors: p.errors,
            })
            .collect()
    }
}

/// Reloads and metrics for the web side.
struct Controller {
    opts: Options,
    manager: Arc<Manager>,
    metrics: Arc<Metrics>,
    /// The config in force; replaced only by a config that loaded cleanly.
    current: Mutex<Config>,
    started: SystemTime,
    /// Whether the last reload worked, and when a config was last applied.
    last_reload: Mutex<(bool, SystemTime)>,
    corrupt_wal_segments: u64,
    db: Arc<Db>,
    /// Served dashboards: read again with each config (its `vigil.dashboards`).
    dashboards: Arc<std::sync::RwLock<web::Dashboards>>,
}

impl Control for Controller {
    fn reload(&self) -> Result<(), String> {
        let cfg = load_config(&self.opts).map_err(|e| {
            tracing::error!("reload failed, keeping the running config: {e}");
            self.last_reload.lock().unwrap_or_else(|e| e.into_inner()).0 = false;
            e.to_string()
        })?;
        for w in &cfg.warnings {
            tracing::warn!("{w}");
        }
        // The manager spawns tasks: enter the runtime this is called from.
        self.manager.apply(&cfg);
        *self.dashboards.write().unwrap_or_else(|e| e.into_inner()) = load_dashboards(&self.opts, &cfg);
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = cfg;
        *self.last_reload.lock().unwrap_or_else(|e| e.into_inner()) = (true, SystemTime::now());
        tracing::info!("configuration reloaded");
        Ok(())
    }

    fn metrics(&self) -> (String, &'static str) {
        (self.metrics.render(), CONTENT_TYPE)
    }

    fn query_done(&self, kind: web::QueryKind, took: std::time::Duration, outcome: web::QueryOutcome) {
        self.metrics.record_query(kind, took, outcome);
    }

    fn import(&self, body: Vec<u8>) -> Result<web::ImportReport, web::ImportFailure> {
        use crate::import::{decode_body_limited, import_text, ImportError};
        use web::ImportFailure;
        /// A decompressed body may take this much (four times the largest request body).
        const MAX_TEXT: u64 = 4 * web::api::MAX_IMPORT_BODY as u64;
        let text = decode_body_limited("body", body, MAX_TEXT).map_err(|e| ImportFailure::BadInput(e.to_string()))?;
        match import_text(&self.db, "body", &text, &|_| {}) {
            Ok(s) => {
                tracing::info!(series = s.series, samples = s.samples, rejected = s.rejected(), "import over HTTP");
                Ok(web::ImportReport {
                    series: s.series,
                    samples: s.samples,
                    no_timestamp: s.no_timestamp,
                    duplicate: s.duplicate,
                    already_stored: s.already_stored,
                })
            }
            Err(e @ (ImportError::Parse { .. } | ImportError::NotUtf8 { .. } | ImportError::Read { .. })) => {
                Err(ImportFailure::BadInput(e.to_string()))
            }
            Err(e @ ImportError::Store { .. }) => Err(ImportFailure::Store(e.to_string())),
        }
    }

    fn scrape_interval(&self) -> Duration {
        self.current.lock().unwrap_or_else(|e| e.into_inner()).global.scrape_interval
    }

    fn external_labels(&self) -> storage::Labels {
        self.current.lock().unwrap_or_else(|e| e.into_inner()).global.external_labels.clone()
    }

    fn config_yaml(&self) -> String {
        config::redact_secrets(&self.current.lock().unwrap_or_else(|e| e.into_inner()).source)
    }

    fn flags(&self) -> Vec<(String, String)> {
        let o = &self.opts;
        let config = o.config_file.as_ref().map_or(String::new(), |p| p.display().to_string());
        let retention = config::duration::format_duration(o.retention);
        let size = format_size(o.retention_size);
        // Vigil's names, and Prometheus's for the same settings.
        [
            ("config", config.clone()),
            ("config.file", config),
            ("listen", o.listen.clone()),
            ("web.listen-address", o.listen.clone()),
            ("data-dir", o.data_dir.display().to_string()),
            ("storage.tsdb.path", o.data_dir.display().to_string()),
            ("retention", retention.clone()),
            ("storage.tsdb.retention.time", retention),
            ("retention.size", size.clone()),
            ("storage.tsdb.retention.size", size),
            ("storage.wal-checkpoint-interval", config::duration::format_duration(o.checkpoint_interval)),
            ("web.enable-admin-api", o.admin_api.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn runtime_info(&self) -> RuntimeInfo {
        let (ok, last) = *self.last_reload.lock().unwrap_or_else(|e| e.into_inner());
        let rt = tokio::runtime::Handle::try_current().map(|h| h.metrics());
        let mut retention = config::duration::format_duration(self.opts.retention);
        if self.opts.retention_size > 0 {
            retention = format!("{retention} or {}", format_size(self.opts.retention_size));
        }
        RuntimeInfo {
            start_time: self.started,
            cwd: std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default(),
            reload_config_success: ok,
            last_config_time: last,
            corruption_count: self.corrupt_wal_segments,
            task_count: rt.as_ref().map_or(0, |m| m.num_alive_tasks()),
            workers: rt.as_ref().map_or(0, |m| m.num_workers()),
            storage_retention: retention,
        }
    }
}

/// Bytes in Prometheus's notation for sizes: `0B`, `512MiB`, `10GiB`.
fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["EiB", "PiB", "TiB", "GiB", "MiB", "KiB"];
    for (i, u) in UNITS.iter().enumerate() {
        let shift = 60 - 10 * i as u32;
        if bytes > 0 && bytes.is_multiple_of(1 << shift) {
            return format!("{}{u}", bytes >> shift);
        }
    }
    format!("{bytes}B")
}

/// Runs Vigil until SIGINT or SIGTERM.
pub async fn run(opts: Options) -> anyhow::Result<()> {
    let cfg = load_config(&opts).map_err(|e| BadConfig(e.to_string()))?;
    for w in &cfg.warnings {
        tracing::warn!("{w}");
    }
    let db = open_store(&opts)?;
    let metrics = Arc::new(Metrics::new(db.clone()));
    let manager = Manager::new(db.clone(), metrics.clone());

    let addr: SocketAddr = resolve_listen(&opts.listen)?;
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;

    manager.apply(&cfg);
    let ready = Arc::new(AtomicBool::new(false));
    let dashboards = Arc::new(std::sync::RwLock::new(load_dashboards(&opts, &cfg)));
    let controller = Arc::new(Controller {
        opts: opts.clone(),
        manager: manager.clone(),
        metrics,
        current: Mutex::new(cfg),
        started: SystemTime::now(),
        last_reload: Mutex::new((true, SystemTime::now())),
        corrupt_wal_segments: db.open_report().map_or(0, |r| r.corrupt_wal_segments),
        db: db.clone(),
        dashboards: dashboards.clone(),
    });
    let state = AppState {
        db: db.clone(),
        engine: promql::Engine::default(),
        scrapes: Arc::new(Scrapes(manager.clone())),
        control: controller.clone(),
        ready: ready.clone(),
        admin_api: opts.admin_api,
        dashboards,
    };
    spawn_retention(db.clone(), opts.retention, opts.retention_size);
    spawn_sighup(controller);

    ready.store(true, Ordering::Release);
    let host = if local.ip().is_unspecified() { "127.0.0.1".to_string() } else { local.ip().to_string() };
    let url = if local.is_ipv6() {
        format!("http://[{host}]:{}/", local.port())
    } else {
        format!("http://{host}:{}/", local.port())
    };
    println!("Vigil is running: open {url}");
    tracing::info!(%local, "listening");
    axum::serve(listener, web::router(state)).with_graceful_shutdown(shutdown_signal()).await?;
    manager.stop_all().await;
    let closing = db.clone();
    match tokio::task::spawn_blocking(move || closing.close()).await {
        Ok(Ok(())) => tracing::info!("storage closed"),
        Ok(Err(e)) => tracing::error!(error = %e, "closing storage failed; the WAL still holds the data"),
        Err(e) => tracing::error!(error = %e, "closing storage failed"),
    }
    Ok(())
}

/// The built-in dashboards, those of `--dashboards` and of the config's
/// `vigil.dashboards`, then the uploaded ones, with a warning per file that does not load.
fn load_dashboards(opts: &Options, cfg: &Config) -> web::Dashboards {
    let uploaded = opts.data_dir.join("dashboards");
    let mut dirs: Vec<&std::path::Path> = opts.dashboards.iter().chain(&cfg.dashboards).map(|p| p.as_path()).collect();
    if uploaded.is_dir() {
        dirs.push(&uploaded);
    }
    let d = web::Dashboards::load(&dirs);
    for e in &d.errors {
        tracing::warn!("dashboard not loaded: {e}");
    }
    tracing::info!(dashboards = d.list.len(), "dashboards loaded");
    d
}

/// Opens the data dir, rebuilding the head from the WAL.
fn open_store(opts: &Options) -> anyhow::Result<Arc<Db>> {
    let dir = &opts.data_dir;
    let db = Db::open(dir, storage::Options { checkpoint_every: opts.checkpoint_interval, ..Default::default() })?;
    if let Some(r) = db.open_report() {
        tracing::info!(
            dir = %dir.display(),
            series = r.series,
            wal_samples = r.wal_samples,
            took_ms = r.took.as_millis() as u64,
            "storage opened"
        );
        if r.corrupt_wal_segments > 0 {
            tracing::warn!(segments = r.corrupt_wal_segments, "WAL segments ended in a torn or corrupt record");
        }
    }
    Ok(db)
}

fn resolve_listen(listen: &str) -> anyhow::Result<SocketAddr> {
    use std::net::ToSocketAddrs;
    let full = if listen.starts_with(':') { format!("0.0.0.0{listen}") } else { listen.to_string() };
    full.to_socket_addrs()
        .with_context(|| format!("invalid listen address {listen:?}"))?
        .next()
        .with_context(|| format!("listen address {listen:?} resolves to nothing"))
}

/// Applies the retention, by time and by size, once a minute.
fn spawn_retention(db: Arc<Db>, retention: Duration, max_bytes: u64) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            let cutoff = storage::model::timestamp::now_ms() - retention.as_millis() as i64;
            let db = db.clone();
            let _ = tokio::task::spawn_blocking(move || {
                db.truncate_before(cutoff);
                if max_bytes > 0 {
                    db.enforce_size(max_bytes);
                }
            })
            .await;
        }
    });
}

/// SIGHUP reloads the config, as in Prometheus.
fn spawn_sighup(controller: Arc<Controller>) {
    #[cfg(unix)]
    tokio::spawn(async move {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else { return };
        while hup.recv().await.is_some() {
            let _ = controller.reload();
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_target_is_reachable() {
        assert_eq!(self_target("127.0.0.1:3000"), "127.0.0.1:3000");
        assert_eq!(self_target(":3000"), "127.0.0.1:3000");
        assert_eq!(self_target("0.0.0.0:9"), "127.0.0.1:9");
    }
}
