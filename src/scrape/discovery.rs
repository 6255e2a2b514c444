//! File-based service discovery (`file_sd_configs`): JSON or YAML files of
//! target groups, re-read when they change.

use crate::config::glob::expand;
use crate::config::{FileSdConfig, TargetGroup};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use storage::Labels;

/// How often files are checked for changes (their mtime and size).
pub const POLL_INTERVAL: Duration = Duration::from_secs(2);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileGroup {
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// Reads one file of target groups. Every group gets `__meta_filepath`.
pub fn read_file(path: &Path) -> Result<Vec<TargetGroup>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path.display().to_string();
    let groups: Vec<FileGroup> = if name.ends_with(".json") {
        serde_json::from_str(&text).map_err(|e| format!("{name}:{}:{}: {e}", e.line(), e.column()))?
    } else if text.trim().is_empty() {
        Vec::new()
    } else {
        serde_saphyr::from_str(&text).map_err(|e| {
            let (l, c) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            let msg = e.to_string();
            format!("{name}:{l}:{c}: {}", msg.lines().next().unwrap_or("invalid YAML"))
        })?
    };
    let mut out = Vec::new();
    for (k, g) in groups.into_iter().enumerate() {
        for n in g.labels.keys() {
            if !storage::is_valid_label_name(n) {
                return Err(format!("{name}: group {k}: {n:?} is not a valid label name"));
            }
        }
        let mut labels: Vec<(String, String)> = g.labels.into_iter().collect();
        labels.push(("__meta_filepath".into(), name.clone()));
        out.push(TargetGroup { targets: g.targets, labels: Labels::from_pairs(labels), source: format!("{name}:{k}") });
    }
    Ok(out)
}

/// Watches the files of one job's `file_sd_configs`.
pub struct FileWatcher {
    configs: Vec<FileSdConfig>,
    /// Last seen (mtime, size) of each file, to notice changes.
    seen: HashMap<PathBuf, (Option<SystemTime>, u64)>,
    /// Last good groups per file: a file that turns bad keeps its old groups.
    groups: BTreeMap<PathBuf, Vec<TargetGroup>>,
    last_full_read: Option<std::time::Instant>,
}

impl FileWatcher {
    pub fn new(configs: Vec<FileSdConfig>) -> Self {
        FileWatcher { configs, seen: HashMap::new(), groups: BTreeMap::new(), last_full_read: None }
    }

    /// Re-reads what changed. Returns the full group list when anything
    /// changed, with errors for files that could not be read.
    pub fn poll(&mut self) -> (Option<Vec<TargetGroup>>, Vec<String>) {
        let refresh = self.configs.iter().map(|c| c.refresh_interval).min().unwrap_or(Duration::from_secs(300));
        let force = self.last_full_read.is_none_or(|t| t.elapsed() >= refresh);
        if force {
            self.last_full_read = Some(std::time::Instant::now());
        }
        let mut errors = Vec::new();
        let mut changed = false;
        let files: Vec<PathBuf> = self.configs.iter().flat_map(|c| c.files.iter()).flat_map(|p| expand(p)).collect();
        let before = self.groups.len();
        self.groups.retain(|p, _| files.contains(p));
        changed |= before != self.groups.len();
        for f in files {
            let meta = std::fs::metadata(&f).ok().map(|m| (m.modified().ok(), m.len()));
            let Some(meta) = meta else {
                changed |= self.groups.remove(&f).is_some();
                self.seen.remove(&f);
                continue;
            };
            if !force && self.seen.get(&f) == Some(&meta) {
                continue;
            }
            self.seen.insert(f.clone(), meta);
            match read_file(&f) {
                Ok(g) => {
                    if self.groups.get(&f) != Some(&g) {
                        self.groups.insert(f, g);
                        changed = true;
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        let all = changed.then(|| self.groups.values().flatten().cloned().collect());
        (all, errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_json_and_yaml_and_notices_changes() {
        let dir = std::env::temp_dir().join(format!("vigil-sd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let json = dir.join("a.json");
        std::fs::write(&json, r#"[{"targets": ["h:1"], "labels": {"env": "x"}}]"#).unwrap();
        std::fs::write(dir.join("b.yml"), "- targets: ['h:2', 'h:3']\n").unwrap();
        let pattern = dir.join("*.*").display().to_string();
        let mut w =
            FileWatcher::new(vec![FileSdConfig { files: vec![pattern], refresh_interval: Duration::from_secs(300) }]);
        let (groups, errors) = w.poll();
        let groups = groups.unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].labels.get("env"), Some("x"));
        assert_eq!(groups[1].targets, vec!["h:2", "h:3"]);
        assert!(w.poll().0.is_none(), "no change, no update");
        // A broken file keeps its previous groups and reports why.
        std::fs::write(&json, "[{").unwrap();
        let (groups, errors) = w.poll();
        assert!(groups.is_none());
        assert_eq!(errors.len(), 1);
        std::fs::write(&json, r#"[{"targets": ["h:9"]}]"#).unwrap();
        let (groups, _) = w.poll();
        assert_eq!(groups.unwrap()[0].targets, vec!["h:9"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
