//! Resident memory per series of the store alone: `cargo run --release -p storage --example memprobe`.
//! 100,000 farm-shaped series (seven labels), then 36 samples each (3 minutes at 5 s).

use storage::{Db, Labels, Sample};

fn rss() -> i64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<i64>().ok())
        .map_or(0, |k| k * 1024)
}

fn labels(i: usize) -> Labels {
    Labels::from_pairs([
        ("__name__", "http_request_duration_seconds_bucket".to_string()),
        ("job", "farm".to_string()),
        ("instance", format!("127.0.0.1:{}", 19100 + i / 2000)),
        ("handler", format!("/api/v1/h{}", i % 7)),
        ("method", "GET".to_string()),
        ("le", format!("{}", (i % 12) as f64 * 0.25)),
        ("status", format!("{}", 200 + i % 83)),
    ])
}

fn main() {
    let n = 100_000usize;
    let r0 = rss();
    let db = Db::in_memory();
    let refs: Vec<_> = (0..n).map(|i| db.get_or_create(&labels(i))).collect();
    let r1 = rss();
    println!("series created: {} B/series", (r1 - r0) / n as i64);
    for k in 0..36i64 {
        let batch: Vec<_> = refs
            .iter()
            .enumerate()
            .map(|(i, r)| (*r, Sample { t: k * 5000, v: (k * (i as i64 % 13)) as f64 }))
            .collect();
        db.append(&batch);
    }
    println!("after 36 samples each: {} B/series", (rss() - r0) / n as i64);
}
