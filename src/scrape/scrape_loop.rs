//! The loop that scrapes one target on its interval until told to stop.

use crate::metrics::Metrics;
use crate::scrape::append::{AppendReport, Appender};
use crate::scrape::fetch;
use crate::scrape::target::{Health, ScrapeStatus, Target};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use storage::Db;
use tokio::sync::watch;

/// Prometheus aligns a scrape's timestamp to the expected tick when it is
/// this close, so that timestamps stay regular and compress to nothing.
const TIMESTAMP_TOLERANCE_MS: i64 = 2;

pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
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
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => break,
        }
        if *stop.borrow() {
            break;
        }
        let mut ts = now_ms();
        if let Some(prev) = last_ts {
            let expected = prev + interval_ms;
            if (ts - expected).abs() <= TIMESTAMP_TOLERANCE_MS {
                ts = expected;
            }
        }
        last_ts = Some(ts);
        let began = Instant::now();
        let result = fetch::fetch(&client, &target.config, &target.url, target.timeout).await;
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
        app.append_report(ts, up, took.as_secs_f64(), &report);
        metrics.record_scrape(up, &report);
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
