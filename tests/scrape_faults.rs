//! Bad targets: each goes down with a clear error on /targets and
//! /api/v1/targets, no other target is affected, and Vigil neither crashes
//! nor grows without bound.

mod common;

use common::*;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::time::Duration;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn every_bad_target_goes_down_alone() {
    let good = "# TYPE m gauge\nm{a=\"1\"} 1\nm{a=\"2\"} 2\n";
    let mut long_line = b"m{a=\"".to_vec();
    long_line.extend(std::iter::repeat_n(b'x', 1 << 20));
    long_line.extend_from_slice(b"\n");
    // 64 MiB of zeros compress to about 64 KiB: a bomb against a 16 MiB limit.
    let bomb = gzip(&vec![b'0'; 64 << 20]);
    let html = Reply {
        content_type: "text/html; charset=utf-8",
        ..Reply::text("<!DOCTYPE html>\n<html><body>Hello</body></html>\n")
    };
    let routes = vec![
        ("/good", Reply::text(good)),
        ("/good-gzip", Reply { gzip: true, ..Reply::text(gzip(good.as_bytes())) }),
        ("/bad-escape", Reply::text("m{a=\"x\\\"} 1\n")),
        ("/missing-value", Reply::text("ok 1\nm{a=\"b\"}\n")),
        ("/invalid-utf8", Reply::text(b"m{a=\"\xff\xfe\"} 1\n".to_vec())),
        ("/bad-timestamp", Reply::text("m 1 yesterday\n")),
        ("/long-line", Reply::text(long_line)),
        ("/too-big", Reply::text(format!("big{{a=\"{}\"}} 1\n", "y".repeat(4096)))),
        ("/gzip-bomb", Reply { gzip: true, ..Reply::text(bomb) }),
        ("/slow", Reply { delay: Duration::from_secs(3), ..Reply::text(good) }),
        ("/status-500", Reply { status: 500, ..Reply::text("oops") }),
        ("/html", html),
    ];
    let fake = FakeTarget::start(routes);
    let refused = format!("127.0.0.1:{}", free_port());
    let job = |name: &str, path: &str, addr: &str, extra: &str| {
        format!(
            "  - job_name: {name}\n    metrics_path: {path}\n{extra}    static_configs:\n      - targets: ['{addr}']\n"
        )
    };
    let a = fake.addr.as_str();
    let mut cfg = String::from(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  body_size_limit: 16MB\nscrape_configs:\n",
    );
    for (name, path) in [
        ("good", "/good"),
        ("good-gzip", "/good-gzip"),
        ("bad-escape", "/bad-escape"),
        ("missing-value", "/missing-value"),
        ("invalid-utf8", "/invalid-utf8"),
        ("bad-timestamp", "/bad-timestamp"),
        ("long-line", "/long-line"),
        ("gzip-bomb", "/gzip-bomb"),
        ("slow", "/slow"),
        ("status-500", "/status-500"),
        ("not-found", "/nothing-here"),
        ("html", "/html"),
    ] {
        cfg.push_str(&job(name, path, a, ""));
    }
    cfg.push_str(&job("too-big", "/too-big", a, "    body_size_limit: 1KB\n"));
    cfg.push_str(&job("refused", "/metrics", &refused, ""));
    let mut vigil = Vigil::start(&cfg);

    let targets = wait_for("every target scraped at least once", Duration::from_secs(20), || {
        let t = vigil.targets();
        (t.len() == 14 && t.iter().all(|t| t["health"] != "unknown")).then_some(t)
    });
    let by_job = |job: &str| {
        targets.iter().find(|t| t["labels"]["job"] == job).cloned().unwrap_or_else(|| panic!("no target for {job}"))
    };
    for job in ["good", "good-gzip"] {
        let t = by_job(job);
        assert_eq!(t["health"], "up", "{job}: {t}");
        assert_eq!(t["lastError"], "", "{job}");
    }
    let expect = [
        ("bad-escape", "unterminated label value"),
        ("missing-value", "line 2"),
        ("invalid-utf8", "not valid UTF-8"),
        ("bad-timestamp", "invalid timestamp"),
        ("long-line", "unterminated label value"),
        ("too-big", "body size limit exceeded"),
        ("gzip-bomb", "body size limit exceeded"),
        ("slow", "timed out"),
        ("status-500", "HTTP status 500"),
        ("not-found", "HTTP status 404"),
        ("html", "line 1"),
        ("refused", "Connection refused"),
    ];
    for (job, needle) in expect {
        let t = by_job(job);
        assert_eq!(t["health"], "down", "{job}: {t}");
        let err = t["lastError"].as_str().unwrap_or("");
        assert!(err.contains(needle), "{job}: error {err:?} should mention {needle:?}");
    }

    // `up` says the same, and the good targets' samples are all there.
    let up = vigil.query("up");
    assert_eq!(up.len(), 14);
    for s in &up {
        let job = s["metric"]["job"].as_str().unwrap();
        let want = if job.starts_with("good") { "1" } else { "0" };
        assert_eq!(s["value"][1], want, "up for {job}");
    }
    assert_eq!(vigil.query("m").len(), 4, "two series from each good target");
    assert!(vigil.query("big").is_empty(), "nothing from a rejected body is stored");

    // The page shows the errors, escaped.
    let page = get(&format!("{}/targets", vigil.base));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("body size limit exceeded"));
    assert!(page.body.contains("HTTP status 404"));

    // A few more rounds: still alive, memory bounded despite the 64 MiB bomb every second.
    std::thread::sleep(Duration::from_secs(3));
    assert!(vigil.proc.alive(), "vigil exited: {}", vigil.log());
    let rss = vigil.proc.rss();
    assert!(rss < 256 << 20, "resident memory {rss} bytes");
}
