//! The scrape manager: one pool per job, one task per target, kept in step
//! with the config and with file discovery.
//!
//! Reloads diff the new config against the running one: a job whose
//! settings did not change keeps its loops (no gap in its data); a changed
//! or removed job's loops stop, writing staleness markers, and new ones start.

use crate::config::{Config, ScrapeConfig, TargetGroup};
use crate::metrics::Metrics;
use crate::scrape::discovery::{FileWatcher, POLL_INTERVAL};
use crate::scrape::scrape_loop;
use crate::scrape::target::{targets_from_group, DroppedTarget, Target};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use storage::{Db, Labels};
use tokio::sync::watch;
use tokio::task::JoinHandle;

type TargetKey = (Labels, String, Duration, Duration);

struct Running {
    target: Arc<Target>,
    /// Set to true to stop the loop; dropping it stops the loop too.
    stop: watch::Sender<bool>,
}

struct Pool {
    config: Arc<ScrapeConfig>,
    client: Result<reqwest::Client, String>,
    /// Groups from file discovery (static groups come from `config`).
    file_groups: Vec<TargetGroup>,
    loops: BTreeMap<TargetKey, Running>,
    dropped: Vec<DroppedTarget>,
    /// Problems building targets or reading discovery files, shown on /targets.
    errors: Vec<String>,
    /// The file watcher task; aborted when the pool goes away.
    discovery: Option<JoinHandle<()>>,
}

impl Drop for Pool {
    fn drop(&mut self) {
        if let Some(h) = &self.discovery {
            h.abort();
        }
        for r in self.loops.values() {
            let _ = r.stop.send(true);
        }
    }
}

/// Owns every scrape loop.
pub struct Manager {
    db: Arc<Db>,
    metrics: Arc<Metrics>,
    pools: Mutex<BTreeMap<String, Pool>>,
    /// Handed to discovery tasks so they can call back without keeping the manager alive.
    me: Weak<Manager>,
}

/// A snapshot of one pool for the targets page and API.
pub struct PoolView {
    pub job: String,
    pub targets: Vec<Arc<Target>>,
    pub dropped: Vec<DroppedTarget>,
    pub errors: Vec<String>,
}

impl Manager {
    pub fn new(db: Arc<Db>, metrics: Arc<Metrics>) -> Arc<Manager> {
        Arc::new_cyclic(|me| Manager { db, metrics, pools: Mutex::new(BTreeMap::new()), me: me.clone() })
    }

    fn pools(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Pool>> {
        self.pools.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Brings the running loops in line with `config`.
    pub fn apply(&self, config: &Config) {
        let mut pools = self.pools();
        let wanted: HashMap<&str, &ScrapeConfig> =
            config.scrape_configs.iter().map(|c| (c.job_name.as_str(), c)).collect();
        pools.retain(|job, pool| wanted.get(job.as_str()).is_some_and(|c| **c == *pool.config));
        for sc in &config.scrape_configs {
            if pools.contains_key(&sc.job_name) {
                continue;
            }
            let config = Arc::new(sc.clone());
            let discovery = (!sc.file_sd_configs.is_empty()).then(|| self.spawn_discovery(&config));
            let pool = Pool {
                client: crate::scrape::fetch::client(sc),
                config,
                file_groups: Vec::new(),
                loops: BTreeMap::new(),
                dropped: Vec::new(),
                errors: Vec::new(),
                discovery,
            };
            pools.insert(sc.job_name.clone(), pool);
            self.sync(pools.get_mut(&sc.job_name).expect("just inserted"));
        }
    }

    fn spawn_discovery(&self, config: &Arc<ScrapeConfig>) -> JoinHandle<()> {
        let me = self.me.clone();
        let job = config.job_name.clone();
        let mut watcher = FileWatcher::new(config.file_sd_configs.clone());
        tokio::spawn(async move {
            loop {
                // Reading a few small files: cheap enough to do on the runtime.
                let (groups, errors) = watcher.poll();
                let Some(m) = me.upgrade() else { return };
                m.file_update(&job, groups, errors);
                drop(m);
                tokio::time::sleep(POLL_INTERVAL).await;
            }
        })
    }

    fn file_update(&self, job: &str, groups: Option<Vec<TargetGroup>>, errors: Vec<String>) {
        for e in &errors {
            tracing::warn!(job, "file discovery: {e}");
        }
        let mut pools = self.pools();
        let Some(pool) = pools.get_mut(job) else { return };
        if let Some(g) = groups {
            pool.file_groups = g;
            self.sync(pool);
        }
        pool.errors.retain(|e| !e.starts_with("file_sd: "));
        pool.errors.extend(errors.into_iter().map(|e| format!("file_sd: {e}")));
    }

    /// Starts loops for new targets of a pool and stops loops for gone ones.
    fn sync(&self, pool: &mut Pool) {
        let mut targets = Vec::new();
        pool.dropped.clear();
        pool.errors.retain(|e| e.starts_with("file_sd: "));
        for g in pool.config.static_configs.iter().chain(pool.file_groups.iter()) {
            let (t, d, e) = targets_from_group(g, &pool.config);
            targets.extend(t);
            pool.dropped.extend(d);
            pool.errors.extend(e);
        }
        let client = match &pool.client {
            Ok(c) => c.clone(),
            Err(e) => {
                pool.errors.push(e.clone());
                pool.loops.clear();
                return;
            }
        };
        let mut next = BTreeMap::new();
        for t in targets {
            let key = t.key();
            if next.contains_key(&key) {
                continue; // the same target listed twice is scraped once
            }
            let running = match pool.loops.remove(&key) {
                Some(r) => r,
                None => {
                    let target = Arc::new(t);
                    let (stop, rx) = watch::channel(false);
                    tokio::spawn(scrape_loop::run(
                        target.clone(),
                        self.db.clone(),
                        client.clone(),
                        self.metrics.clone(),
                        rx,
                    ));
                    Running { target, stop }
                }
            };
            next.insert(key, running);
        }
        for r in pool.loops.values() {
            let _ = r.stop.send(true);
        }
        pool.loops = next;
    }

    /// Every pool, by job name.
    pub fn view(&self) -> Vec<PoolView> {
        self.pools()
            .iter()
            .map(|(job, p)| PoolView {
                job: job.clone(),
                targets: p.loops.values().map(|r| r.target.clone()).collect(),
                dropped: p.dropped.clone(),
                errors: p.errors.clone(),
            })
            .collect()
    }

    /// Stops every loop (shutdown), letting each write its staleness markers.
    pub async fn stop_all(&self) {
        self.pools().clear();
        // The loops see the stop signal on their next poll; a short pause lets
        // them write their markers before the runtime shuts down.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
