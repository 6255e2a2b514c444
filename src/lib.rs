//! The `vigil` binary's library half: config, scraping and wiring, so that
//! benchmarks and tests can reach them.
//!
//! A tour:
//! - [`config`]: prometheus.yml → [`config::Config`], with file:line:col errors;
//! - [`scrape`]: discovery, targets, scrape loops, exposition parsers, relabeling;
//! - [`import`]: backfill from Prometheus text or OpenMetrics (`vigil import`);
//! - [`metrics`]: Vigil's own /metrics;
//! - [`server`]: starts everything for `vigil run` and wires the web crate to it.
//!
//! `main.rs` is only the command line.

pub mod config;
pub mod import;
pub mod metrics;
pub mod query_cli;
pub mod scrape;
pub mod server;
