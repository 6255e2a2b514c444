use storage::{Db, Labels, Sample};
fn rss() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines().find(|l| l.starts_with("VmRSS:")).unwrap().split_whitespace().nth(1).unwrap().parse::<u64>().unwrap()
        * 1024
}
fn main() {
    let n = 100_000usize;
    let mode = std::env::args().nth(1).unwrap_or_default();
    let r0 = rss();
    let labels: Vec<Labels> = (0..n)
        .map(|i| {
            Labels::from_pairs([
                ("__name__", "http_request_duration_seconds_bucket".to_string()),
                ("job", "farm".to_string()),
                ("instance", format!("127.0.0.1:{}", 19100 + i / 2000)),
                ("handler", format!("/api/v1/h{}", i % 7)),
                ("method", "GET".to_string()),
                ("le", format!("{}", (i % 12) as f64 * 0.25)),
            ])
        })
        .collect();
    let r1 = rss();
    println!("labels alone: {} B/series", (r1 - r0) / n as u64);
    if mode == "labels" {
        return;
    }
    let db = Db::in_memory();
    let refs: Vec<_> = labels.iter().map(|l| db.get_or_create(l)).collect();
    drop(labels);
    let r2 = rss();
    println!("db series (index, labels, empty chunks): {} B/series", (r2 as i64 - r0 as i64) / n as i64);
    for k in 0..36i64 {
        let batch: Vec<_> = refs
            .iter()
            .enumerate()
            .map(|(i, r)| (*r, Sample { t: k * 5000, v: (k * (i as i64 % 13)) as f64 }))
            .collect();
        db.append(&batch);
    }
    let r3 = rss();
    println!("after 36 samples each: {} B/series", (r3 as i64 - r0 as i64) / n as i64);
}
