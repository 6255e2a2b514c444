//! Targets: from a discovered group entry to the labels, URL and health
//! of one thing to scrape.

use crate::config::duration::format_duration;
use crate::config::{ScrapeConfig, TargetGroup};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use storage::model::relabel;
use storage::{Labels, LabelsBuilder};

/// Health of a target after its last scrape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    Unknown,
    Up,
    Down,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Up => "up",
            Health::Down => "down",
        }
    }
}

/// What the last scrape of a target found; written by its scrape loop, read
/// by the targets page and API.
#[derive(Clone, Debug)]
pub struct ScrapeStatus {
    pub health: Health,
    pub last_error: String,
    pub last_scrape: Option<SystemTime>,
    pub last_duration: Duration,
    pub last_samples: u64,
}

impl Default for ScrapeStatus {
    fn default() -> Self {
        ScrapeStatus {
            health: Health::Unknown,
            last_error: String::new(),
            last_scrape: None,
            last_duration: Duration::ZERO,
            last_samples: 0,
        }
    }
}

/// One target of a scrape config.
#[derive(Debug)]
pub struct Target {
    /// Labels attached to every scraped series (job, instance, …); no `__` labels.
    pub labels: Labels,
    /// Labels as discovered, before relabeling (shown on /targets).
    pub discovered: Labels,
    pub url: String,
    pub interval: Duration,
    pub timeout: Duration,
    pub config: Arc<ScrapeConfig>,
    pub status: Mutex<ScrapeStatus>,
    /// TYPE, HELP and UNIT of each family the last successful scrape exposed.
    pub metadata: Mutex<Arc<Vec<storage::MetricMetadata>>>,
}

impl Target {
    /// Identity for reloads: same labels, URL and timing means the same loop can go on.
    pub fn key(&self) -> (Labels, String, Duration, Duration) {
        (self.labels.clone(), self.url.clone(), self.interval, self.timeout)
    }

    pub fn status(&self) -> ScrapeStatus {
        self.status.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn set_status(&self, s: ScrapeStatus) {
        *self.status.lock().unwrap_or_else(|e| e.into_inner()) = s;
    }
}

/// A target relabeling dropped, kept for the targets page.
#[derive(Debug, Clone)]
pub struct DroppedTarget {
    pub discovered: Labels,
}

/// Builds the targets of a group as Prometheus's PopulateLabels does:
/// discovered labels plus `__address__`, `job`, `__scheme__`,
/// `__metrics_path__`, `__scrape_interval__`, `__scrape_timeout__` and
/// `__param_*`; then relabeling; then `instance` from `__address__` and
/// every `__`-prefixed label removed.
pub fn targets_from_group(
    group: &TargetGroup,
    cfg: &Arc<ScrapeConfig>,
) -> (Vec<Target>, Vec<DroppedTarget>, Vec<String>) {
    let (mut kept, mut dropped, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    for addr in &group.targets {
        let mut lb = group.labels.builder();
        lb.set("__address__", addr.clone());
        if lb.get("job").is_none() {
            lb.set("job", cfg.job_name.clone());
        }
        let defaults = [
            ("__scheme__", cfg.scheme.clone()),
            ("__metrics_path__", cfg.metrics_path.clone()),
            ("__scrape_interval__", format_duration(cfg.scrape_interval)),
            ("__scrape_timeout__", format_duration(cfg.scrape_timeout)),
        ];
        for (k, v) in defaults {
            if lb.get(k).is_none() {
                lb.set(k, v);
            }
        }
        for (k, v) in &cfg.params {
            let name = format!("__param_{k}");
            if lb.get(&name).is_none() {
                if let Some(first) = v.first() {
                    lb.set(name, first.clone());
                }
            }
        }
        let discovered = lb.clone().build();
        if !relabel::process(&cfg.relabel_configs, &mut lb) {
            dropped.push(DroppedTarget { discovered });
            continue;
        }
        match finish(lb, discovered.clone(), cfg) {
            Ok(t) => kept.push(t),
            Err(e) => errors.push(format!("target {discovered}: {e}")),
        }
    }
    (kept, dropped, errors)
}

fn finish(mut lb: LabelsBuilder, discovered: Labels, cfg: &Arc<ScrapeConfig>) -> Result<Target, String> {
    let addr = lb.get("__address__").unwrap_or("").to_string();
    if addr.is_empty() {
        return Err("no address".into());
    }
    if addr.contains('/') {
        return Err(format!("{addr:?} is not a valid hostname"));
    }
    let interval = crate::config::duration::parse_duration(lb.get("__scrape_interval__").unwrap_or(""))
        .map_err(|e| format!("invalid __scrape_interval__: {e}"))?;
    let timeout = crate::config::duration::parse_duration(lb.get("__scrape_timeout__").unwrap_or(""))
        .map_err(|e| format!("invalid __scrape_timeout__: {e}"))?;
    if interval.is_zero() {
        return Err("scrape interval cannot be 0".into());
    }
    if timeout > interval {
        return Err(format!("scrape timeout cannot be greater than scrape interval ({timeout:?} > {interval:?})"));
    }
    let scheme = lb.get("__scheme__").unwrap_or("http").to_string();
    let mut path = lb.get("__metrics_path__").unwrap_or("/metrics").to_string();
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
    let mut query: Vec<(String, String)> = Vec::new();
    for (k, vals) in &cfg.params {
        if lb.get(&format!("__param_{k}")).is_none() {
            query.extend(vals.iter().map(|v| (k.clone(), v.clone())));
        }
    }
    for l in lb.iter() {
        if let Some(k) = l.name.strip_prefix("__param_") {
            query.push((k.to_string(), l.value.to_string()));
        }
    }
    query.sort();
    let mut url = format!("{scheme}://{addr}{path}");
    if !query.is_empty() {
        url.push(if url.contains('?') { '&' } else { '?' });
        let q: Vec<String> = query.iter().map(|(k, v)| format!("{}={}", url_escape(k), url_escape(v))).collect();
        url.push_str(&q.join("&"));
    }
    if lb.get("instance").is_none() {
        lb.set("instance", addr);
    }
    lb.retain(|l| !l.name.starts_with("__"));
    Ok(Target {
        labels: lb.build(),
        discovered,
        url,
        interval,
        timeout,
        config: cfg.clone(),
        status: Mutex::new(ScrapeStatus::default()),
        metadata: Mutex::default(),
    })
}

fn url_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;
    use std::path::Path;

    fn cfg(yaml: &str) -> Arc<ScrapeConfig> {
        Arc::new(parse(yaml, "t.yml", Path::new(".")).unwrap().scrape_configs.remove(0))
    }

    #[test]
    fn job_instance_and_url() {
        let c = cfg("scrape_configs:\n  - job_name: node\n    params:\n      module: [a b]\n    static_configs:\n      - targets: ['h:9100']\n        labels: {env: prod}\n");
        let (t, d, e) = targets_from_group(&c.static_configs[0], &c);
        assert!(d.is_empty() && e.is_empty());
        assert_eq!(t[0].labels, Labels::from_pairs([("env", "prod"), ("instance", "h:9100"), ("job", "node")]));
        assert_eq!(t[0].url, "http://h:9100/metrics?module=a%20b");
        assert_eq!(t[0].discovered.get("__address__"), Some("h:9100"));
    }

    #[test]
    fn relabeling_rewrites_address_and_drops() {
        let c = cfg(concat!(
            "scrape_configs:\n  - job_name: j\n    static_configs:\n      - targets: ['a:1', 'b:2']\n",
            "    relabel_configs:\n      - source_labels: [__address__]\n        regex: 'b:.*'\n        action: drop\n",
            "      - source_labels: [__address__]\n        target_label: instance\n",
            "      - target_label: __address__\n        replacement: 'proxy:8080'\n",
            "      - target_label: __param_target\n        source_labels: [instance]\n",
        ));
        let (t, d, _) = targets_from_group(&c.static_configs[0], &c);
        assert_eq!(d.len(), 1);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].url, "http://proxy:8080/metrics?target=a%3A1");
        assert_eq!(t[0].labels.get("instance"), Some("a:1"));
    }
}
