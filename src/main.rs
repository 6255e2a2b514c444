//! The `vigil` command line. Everything it runs lives in the library.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use vigil::config;
use vigil::server::{self, BadConfig, Options};

/// Prometheus + Grafana in one binary: scrape, store, query and show metrics.
#[derive(Parser, Debug)]
#[command(name = "vigil", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Scrape, store and serve (the default).
    Run(RunArgs),
    /// Check files without running.
    Check {
        #[command(subcommand)]
        what: CheckWhat,
    },
    /// Backfill: write samples with timestamps (Prometheus text or OpenMetrics,
    /// gzip too) straight into a data dir that no Vigil has open. Data older
    /// than the retention is kept until a running Vigil's retention removes it.
    Import {
        /// Files to import, in order.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// The data dir to write into.
        #[arg(long = "data-dir", visible_alias = "storage.tsdb.path", value_name = "DIR", default_value = "data")]
        data_dir: PathBuf,
    },
    /// Write a consistent copy of a data dir that no Vigil has open (for a
    /// running one: POST /api/v1/admin/tsdb/snapshot).
    Snapshot {
        /// New or empty directory to write the copy to.
        #[arg(value_name = "DEST")]
        dest: PathBuf,
        /// The data dir to copy.
        #[arg(long = "data-dir", visible_alias = "storage.tsdb.path", value_name = "DIR", default_value = "data")]
        data_dir: PathBuf,
    },
    /// Run a query against a running Vigil (or Prometheus) and print the
    /// answer as `promtool query` does.
    Query {
        #[command(subcommand)]
        kind: QueryKind,
    },
}

#[derive(Subcommand, Debug)]
enum QueryKind {
    /// An instant query.
    Instant {
        expr: String,
        /// Evaluation time (RFC 3339 or Unix seconds); now by default.
        #[arg(long)]
        time: Option<String>,
        /// The server to ask.
        #[arg(long, default_value = "http://127.0.0.1:3000")]
        server: String,
    },
    /// A range query.
    Range {
        expr: String,
        /// Start (RFC 3339 or Unix seconds); five minutes before the end by default.
        #[arg(long)]
        start: Option<String>,
        /// End (RFC 3339 or Unix seconds); now by default.
        #[arg(long)]
        end: Option<String>,
        /// Step (a duration or seconds); about 250 points by default.
        #[arg(long)]
        step: Option<String>,
        /// The server to ask.
        #[arg(long, default_value = "http://127.0.0.1:3000")]
        server: String,
    },
}

#[derive(Subcommand, Debug)]
enum CheckWhat {
    /// Validate a prometheus.yml: exit 0, or print file:line:col and exit 2.
    Config { file: PathBuf },
}

#[derive(Args, Debug, Clone)]
struct RunArgs {
    /// prometheus.yml to read (default: built-in, scrapes Vigil itself).
    #[arg(long = "config", visible_alias = "config.file", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to serve the UI and API on.
    #[arg(
        long = "listen",
        visible_alias = "web.listen-address",
        value_name = "ADDR",
        default_value = "127.0.0.1:3000"
    )]
    listen: String,
    /// Where data is kept.
    #[arg(long = "data-dir", visible_alias = "storage.tsdb.path", value_name = "DIR", default_value = "data")]
    data_dir: PathBuf,
    /// How long samples are kept (Prometheus duration: 15d, 12h, 2w …).
    #[arg(long = "retention", visible_alias = "storage.tsdb.retention.time", value_name = "DURATION", default_value = "15d", value_parser = parse_retention)]
    retention: std::time::Duration,
    /// How often the WAL is replaced by a checkpoint of the in-memory chunks
    /// (also when it has grown by 16 MiB); shorter means faster restarts.
    #[arg(long = "storage.wal-checkpoint-interval", value_name = "DURATION", default_value = "5m", value_parser = parse_retention)]
    checkpoint_interval: std::time::Duration,
    /// Keep the data dir under this size (512MB, 10GB …; units B, KB, MB, GB, TB, PB, EB in
    /// powers of 1024, as Prometheus): the oldest partitions go first. 0 means no limit.
    #[arg(long = "retention.size", visible_alias = "storage.tsdb.retention.size", value_name = "SIZE", default_value = "0", value_parser = parse_size)]
    retention_size: u64,
    /// Serve the admin endpoints (POST /api/v1/admin/tsdb/snapshot).
    #[arg(long = "web.enable-admin-api")]
    admin_api: bool,
    /// A directory of Grafana dashboard JSON files to serve.
    #[arg(long = "dashboards", value_name = "DIR")]
    dashboards: Option<PathBuf>,
}

fn parse_retention(s: &str) -> Result<std::time::Duration, String> {
    config::duration::parse_duration(s)
}

/// A byte size as Prometheus's `--storage.tsdb.retention.size` takes it.
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("invalid size {s:?}: expected a number and a unit, e.g. 512MB"))?;
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "KB" | "KIB" => 10,
        "MB" | "MIB" => 20,
        "GB" | "GIB" => 30,
        "TB" | "TIB" => 40,
        "PB" | "PIB" => 50,
        "EB" | "EIB" => 60,
        u => return Err(format!("invalid size {s:?}: unknown unit {u:?} (B, KB, MB, GB, TB, PB, EB)")),
    };
    let bytes = n * (1u64 << shift) as f64;
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return Err(format!("invalid size {s:?}: out of range"));
    }
    Ok(bytes as u64)
}

/// Large buffers (scrape bodies, query answers) come and go every few
/// seconds. Taken from the heap, they leave it fragmented between long-lived
/// series data, and resident long after they are freed; served by `mmap`
/// they go back to the system when freed. glibc would raise this threshold
/// on its own after the first large free; a fixed one keeps it. Measured with
/// ../shared/bench scenario S (BENCHMARKS.md): 1,144 → 886 bytes per series.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    // SAFETY: a plain FFI call that only changes a glibc allocator setting.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}

fn main() -> ExitCode {
    tune_allocator();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Some(Command::Check { what: CheckWhat::Config { file } }) => check_config(&file),
        Some(Command::Run(args)) => run(args),
        Some(Command::Import { files, data_dir }) => import(&files, &data_dir),
        Some(Command::Snapshot { dest, data_dir }) => snapshot(&dest, &data_dir),
        Some(Command::Query { kind }) => query(kind),
        None => run(cli.run),
    }
}

fn query(kind: QueryKind) -> ExitCode {
    use vigil::query_cli::{run, Query};
    let (server, q) = match kind {
        QueryKind::Instant { expr, time, server } => (server, Query::Instant { expr, time }),
        QueryKind::Range { expr, start, end, step, server } => (server, Query::Range { expr, start, end, step }),
    };
    match run(&server, &q) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn check_config(file: &std::path::Path) -> ExitCode {
    match config::load(file) {
        Ok(c) => {
            for w in &c.warnings {
                eprintln!("warning: {w}");
            }
            println!("{}: SUCCESS: {} scrape configs", file.display(), c.scrape_configs.len());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}

/// Opens a data dir for an offline command (nothing runs in the background).
fn open_offline(data_dir: &std::path::Path) -> Result<std::sync::Arc<storage::Db>, ExitCode> {
    let opts = storage::Options { maintain_every: None, ..Default::default() };
    storage::Db::open(data_dir, opts).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::FAILURE
    })
}

fn import(files: &[PathBuf], data_dir: &std::path::Path) -> ExitCode {
    let db = match open_offline(data_dir) {
        Ok(db) => db,
        Err(code) => return code,
    };
    let started = std::time::Instant::now();
    let res = vigil::import::import_files(&db, files);
    if let Err(e) = db.close() {
        eprintln!("error: closing {}: {e}", data_dir.display());
        return ExitCode::FAILURE;
    }
    match res {
        Ok(total) => {
            println!(
                "imported {} file(s) into {} in {:.1} s: {total}",
                files.len(),
                data_dir.display(),
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("nothing of that file was written; files before it were imported");
            ExitCode::FAILURE
        }
    }
}

fn snapshot(dest: &std::path::Path, data_dir: &std::path::Path) -> ExitCode {
    let db = match open_offline(data_dir) {
        Ok(db) => db,
        Err(code) => return code,
    };
    match db.snapshot(dest) {
        Ok(()) => {
            println!("snapshot of {} written to {}", data_dir.display(), dest.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: RunArgs) -> ExitCode {
    let opts = Options {
        config_file: args.config,
        listen: args.listen,
        data_dir: args.data_dir,
        retention: args.retention,
        checkpoint_interval: args.checkpoint_interval,
        admin_api: args.admin_api,
        retention_size: args.retention_size,
        dashboards: args.dashboards,
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(server::run(opts)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<BadConfig>().is_some() => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
