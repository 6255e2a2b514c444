//! Scraping: discovery → targets → one loop per target → parse → relabel → append.
//!
//! - [`manager`]: one pool per job, reconciled on reload and on discovery updates;
//! - [`discovery`]: file discovery (`file_sd_configs`);
//! - [`target`]: target labels and URL from discovered groups (relabeling included);
//! - [`scrape_loop`]: the per-target task; [`fetch`]: one HTTP scrape;
//! - [`append`]: one body into one store batch (series cache, limits, staleness);
//! - [`parse`]: the exposition parsers (relabeling rules live in `storage::model::relabel`).

pub mod append;
pub mod discovery;
pub mod fetch;
pub mod manager;
pub mod parse;
pub mod scrape_loop;
pub mod target;
