//! Where dashboards come from: the built-in ones, and every `*.json` of a
//! provisioning directory.

use super::model::{self, Dashboard};
use crate::AppState;
use storage::Matcher;

/// The built-in self-monitoring dashboard.
pub const OVERVIEW_JSON: &str = include_str!("../../dashboards/vigil-overview.json");

/// The built-in host dashboard, listed once node_exporter metrics are scraped.
pub const HOST_JSON: &str = include_str!("../../dashboards/host.json");

/// The uid of the built-in host dashboard (node_exporter).
pub const HOST_UID: &str = "vigil-host";

/// Reads every `*.json` in `dir` (sorted by name); a bad file is reported
/// by name and skipped.
pub fn load_dir(dir: &std::path::Path) -> (Vec<Dashboard>, Vec<String>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "json")).collect(),
        Err(e) => return (out, vec![format!("{}: {e}", dir.display())]),
    };
    files.sort();
    for f in files {
        let stem = f.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let parsed = std::fs::read(&f).map_err(|e| e.to_string()).and_then(|b| {
            if b.len() > model::MAX_JSON_BYTES {
                return Err(model::ModelError::TooLarge.to_string());
            }
            model::parse(&b, &stem).map_err(|e| e.to_string())
        });
        match parsed {
            Ok(d) => out.push(d),
            Err(e) => errors.push(format!("{}: {e}", f.display())),
        }
    }
    (out, errors)
}

/// The built-in dashboards.
pub fn builtin() -> Vec<Dashboard> {
    [(OVERVIEW_JSON, "vigil-overview"), (HOST_JSON, HOST_UID)]
        .iter()
        .filter_map(|(json, uid)| model::parse(json.as_bytes(), uid).ok())
        .collect()
}

/// Whether the host dashboard has something to show: a node_exporter is scraped.
pub fn host_listed(st: &AppState) -> bool {
    let m = Matcher::new(storage::MatchOp::Equal, "__name__", "node_uname_info").ok();
    m.is_some_and(|m| !st.db.series_labels(&[m], i64::MIN, i64::MAX).is_empty())
}
