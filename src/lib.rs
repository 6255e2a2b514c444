//! The `vigil` binary's library half: config, scraping and wiring, so that
//! benchmarks and tests can reach them.
//!
//! A tour:
//! - [`config`]: prometheus.yml → [`config::Config`], with file:line:col errors;
//! - [`scrape`]: discovery, targets, scrape loops, exposition parsers, relabeling;
//! - [`import`]: backfill from Prometheus text or OpenMetrics (`vigil import`);
//! - [`metrics`]: Vigil's own /metrics;
//! - [`query_cli`]: `vigil query`, a client of any Prometheus API;
//! - [`server`]: starts everything for `vigil run` and wires the web crate to it.
//!
//! `main.rs` is only the command line.
//!
//! Rooms for the capabilities to come, decided before they move in:
//! - `rules`: rule files read and checked (`vigil check rules`), groups
//!   evaluated on their interval, alert state (pending, firing,
//!   `keep_firing_for`), and `vigil test rules`; it depends on `template`
//!   and hands alerts to `notifier`, never the other way;
//! - `template`: Go's text/template language with Prometheus's functions,
//!   for alert labels and annotations;
//! - `notifier`: Alertmanagers from `alerting:` (discovery and relabeling as
//!   for scrape targets), the queue and the API v2 sender;
//! - `remote`: `remote/write` (queues reading the WAL, shards, retries,
//!   Remote Write 1.0 and 2.0 through `prost` types) and `remote/receive`
//!   (bodies decoded and appended, as imports are);
//! - the protobuf exposition format as `scrape/parse/protobuf.rs`, beside
//!   the text parsers, feeding the same appender.
//!
//! The web crate sees them only through traits the server implements
//! (`web::ScrapeView` today, a `RulesView` with the rules).

pub mod config;
pub mod import;
pub mod metrics;
pub mod query_cli;
pub mod scrape;
pub mod server;
