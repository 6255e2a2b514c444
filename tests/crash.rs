//! Crash safety: Vigil killed with SIGKILL while ingesting, again and again,
//! keeps every sample it had appended more than a second before each kill.

mod common;

use common::*;
use std::time::Duration;
use storage::model::timestamp::now_ms;

const SERIES: usize = 1_000;

fn page(job: &str) -> String {
    let mut s = String::from("# TYPE load_series gauge\n");
    for i in 0..SERIES {
        s.push_str(&format!("load_series{{src=\"{job}\",i=\"{i}\"}} {}\n", i % 17));
    }
    s
}

/// Samples of `load_series` in the hour up to `t_ms`, as Vigil answers at `t_ms`.
fn count_at(v: &Vigil, t_ms: i64) -> u64 {
    let q = urlencode("sum(count_over_time(load_series[1h]))");
    let url = format!("{}/api/v1/query?query={q}&time={}.{:03}", v.base, t_ms / 1000, t_ms % 1000);
    let j = get_json(&url);
    assert_eq!(j["status"], "success", "{j}");
    j["data"]["result"][0]["value"][1].as_str().map_or(0, |s| s.parse::<f64>().unwrap() as u64)
}

#[test]
fn kill9_loop_loses_nothing_older_than_a_second() {
    let a = FakeTarget::start(vec![("/metrics", Reply::text(page("a")))]);
    let b = FakeTarget::start(vec![("/metrics", Reply::text(page("b")))]);
    let config = format!(
        "global:\n  scrape_interval: 100ms\n  scrape_timeout: 90ms\nscrape_configs:\n  \
         - job_name: a\n    static_configs: [{{targets: ['{}']}}]\n  \
         - job_name: b\n    static_configs: [{{targets: ['{}']}}]\n",
        a.addr, b.addr
    );
    // Checkpoints every second, so kills land during them too.
    let mut v = Vigil::start_with(&config, &["--storage.wal-checkpoint-interval", "1s"]);
    let mut checks: Vec<(i64, u64)> = Vec::new();
    let rounds = 20;
    for round in 0..rounds {
        if round > 0 {
            v.restart();
        }
        // Between 0.6 s and 1.9 s of ingestion, varied by round.
        std::thread::sleep(Duration::from_millis(600 + (round as u64 * 677) % 1_300));
        let t = now_ms() - 1_000;
        let n = count_at(&v, t);
        checks.push((t, n));
        v.kill9();
    }
    v.restart();
    let log = v.log();
    for (round, &(t, before)) in checks.iter().enumerate() {
        let after = count_at(&v, t);
        assert_eq!(
            after, before,
            "round {round}: samples up to {t} before the kill {before}, after restart {after}\n{log}"
        );
    }
    // Ingestion really was heavy and kept going across restarts.
    let last = checks[rounds - 1].1;
    assert!(last >= (rounds * SERIES) as u64, "{checks:?}");
    assert!(checks.windows(2).all(|w| w[1].1 > w[0].1), "each round added samples: {checks:?}");
    assert!(!log.contains("panicked"), "{log}");
    assert!(!log.contains("corrupt at byte"), "{log}");
    let wal = std::fs::read_dir(v.data_dir().join("wal")).unwrap().flatten().map(|e| e.file_name()).collect::<Vec<_>>();
    assert!(wal.iter().any(|n| n.to_string_lossy().starts_with("checkpoint.")), "checkpoints were taken: {wal:?}");
}

#[test]
fn graceful_restart_keeps_everything() {
    let a = FakeTarget::start(vec![("/metrics", Reply::text(page("a")))]);
    let config = format!(
        "global:\n  scrape_interval: 200ms\n  scrape_timeout: 150ms\nscrape_configs:\n  \
         - job_name: a\n    static_configs: [{{targets: ['{}']}}]\n",
        a.addr
    );
    let mut v = Vigil::start(&config);
    std::thread::sleep(Duration::from_millis(1_500));
    v.terminate();
    // Everything appended before the stop, counted from the data itself after the restart.
    let stopped = now_ms();
    v.restart();
    let after = count_at(&v, stopped);
    assert!(after >= 3 * SERIES as u64, "{after}");
    assert_eq!(after % SERIES as u64, 0, "whole scrapes only: {after}");
    assert!(v.log().contains("storage closed"), "{}", v.log());
}
