//! The loop that scrapes one target on its interval until told to stop.

use crate::metrics::Metrics;
use crate::scrape::append::{AppendReport, Appender};
use crate::scrape::fetch;
use crate::scrape::target::{Health, ScrapeStatus, Target};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use storage::model::timestamp::now_ms;
use storage::Db;
use tokio::sync::watch;

/// Prometheus aligns a scrape's timestamp to the expected tick when it is
/// this close, so that timestamps stay regular and compress to nothing.
const TIMESTAMP_TOLERANCE_MS: i64 = 2;

/// The timestamp for a scrape starting at `now`: the expected tick
/// (`last + interval`) when within Prometheus's tolerance, else `now`.
pub fn aligned_timestamp(now: i64, last: Option<i64>, interval_ms: i64) -> i64 {
    match last {
        Some(prev) if (now - (prev + interval_ms)).abs() <= TIMESTAMP_TOLERANCE_MS => prev + interval_ms,
        _ => now,
    }
}

/// Where in its interval a target is scraped: a stable hash of its labels
/// spreads targets evenly, and a restart keeps the same phase.
pub fn offset(target: &Target) -> Duration {
    let interval_ms = target.interval.as_millis().max(1) as u64;
    let h = target.labels.stable_hash() ^ fnv(target.url.as_bytes());
    Duration::from_millis(h % interval_ms)
}

fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &c| (h ^ c as u64).wrapping_mul(0x0100_0000_01b3))
}

/// Runs until `stop` changes to true; then writes staleness markers for
/// everything the target exposed, as Prometheus does when a target goes away.
pub async fn run(
    target: Arc<Target>,
    db: Arc<Db>,
    client: reqwest::Client,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    let mut app = Appender::new(db, target.labels.clone(), target.config.clone());
    let interval_ms = target.interval.as_millis() as i64;
    let phase = offset(&target).as_millis() as i64;
    let now = now_ms();
    let first = now - now.rem_euclid(interval_ms) + phase;
    let first = if first < now { first + interval_ms } else { first };
    let start = tokio::time::Instant::now() + Duration::from_millis((first - now) as u64);
    let mut ticker = tokio::time::interval_at(start, target.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_ts: Option<i64> = None;
    // With tls_config.server_name the target gets a client of its own.
    let mut named: Option<Result<(reqwest::Client, String), String>> = None;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => break,
        }
        if *stop.borrow() {
            break;
        }
        let ts = aligned_timestamp(now_ms(), last_ts, interval_ms);
        last_ts = Some(ts);
        let began = Instant::now();
        let result = match &target.config.tls.server_name {
            None => fetch::fetch(&client, &target.config, &target.url, target.timeout).await,
            Some(name) => {
                if !matches!(named, Some(Ok(_))) {
                    named = Some(fetch::server_name_client(&target.config, &target.url, name).await);
                }
                match &named {
                    Some(Ok((c, url))) => fetch::fetch(c, &target.config, url, target.timeout).await,
                    Some(Err(e)) => Err(e.clone()),
                    None => Err("no client".into()),
                }
            }
        };
        let outcome = match result {
            Ok(body) => app.append_body(&body.text, body.format, ts),
            Err(e) => Err(e),
        };
        let took = began.elapsed();
        let (report, error) = match outcome {
            Ok(r) => (r, String::new()),
            Err(e) => {
                app.mark_all_stale(ts);
                (AppendReport::default(), e)
            }
        };
        let up = error.is_empty();
        if let Some(list) = app.take_metadata() {
            *target.metadata.lock().unwrap_or_else(|e| e.into_inner()) = list;
        }
        app.append_report(ts, up, took.as_secs_f64(), &report);
        metrics.record_scrape(up, report.post_relabel);
        target.set_status(ScrapeStatus {
            health: if up { Health::Up } else { Health::Down },
            last_error: error,
            last_scrape: Some(SystemTime::now()),
            last_duration: took,
            last_samples: report.post_relabel,
        });
    }
    let ts = now_ms();
    app.mark_all_stale(ts);
    app.report_stale(ts);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;
    use std::path::Path;

    #[test]
    fn timestamps_snap_to_the_tick_within_tolerance() {
        assert_eq!(aligned_timestamp(1_000, None, 5_000), 1_000);
        assert_eq!(aligned_timestamp(6_002, Some(1_000), 5_000), 6_000);
        assert_eq!(aligned_timestamp(5_998, Some(1_000), 5_000), 6_000);
        assert_eq!(aligned_timestamp(6_003, Some(1_000), 5_000), 6_003, "beyond 2 ms the real time is kept");
        assert_eq!(aligned_timestamp(9_000, Some(1_000), 5_000), 9_000);
    }

    #[test]
    fn offsets_are_within_the_interval_and_spread() {
        let yaml =
            "scrape_configs:\n  - job_name: j\n    scrape_interval: 10s\n    static_configs:\n      - targets: [";
        let targets: Vec<String> = (0..50).map(|k| format!("'h{k}:9100'")).collect();
        let cfg = parse(&format!("{yaml}{}]\n", targets.join(", ")), "t.yml", Path::new(".")).unwrap();
        let sc = Arc::new(cfg.scrape_configs[0].clone());
        let (ts, _, _) = crate::scrape::target::targets_from_group(&sc.static_configs[0], &sc);
        let offsets: Vec<u128> = ts.iter().map(|t| offset(t).as_millis()).collect();
        assert!(offsets.iter().all(|o| *o < 10_000));
        // 50 targets over 10 s: every second of the interval gets some.
        for second in 0..10 {
            assert!(offsets.iter().any(|o| *o / 1000 == second), "no target starts in second {second}: {offsets:?}");
        }
        // Stable across calls (a restart keeps the phase).
        assert_eq!(offset(&ts[0]), offset(&ts[0]));
    }
}
