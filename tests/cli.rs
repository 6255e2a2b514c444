//! The binary's command line and lifecycle: exit codes, Prometheus's flag
//! names, reloads that keep a good config, file discovery.

mod common;

use common::*;
use std::process::Command;
use std::time::Duration;

#[test]
fn bad_config_exits_2_naming_file_line_and_column() {
    let dir = TempDir::new("badcfg");
    let cfg = dir.write(
        "prometheus.yml",
        "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: a\n    scrape_intervall: 5s\n",
    );
    let out = Command::new(vigil_bin())
        .args(["--config.file"])
        .arg(&cfg)
        .args(["--web.listen-address", &format!("127.0.0.1:{}", free_port())])
        .arg("--storage.tsdb.path")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:5:", cfg.display())), "{err}");
    assert!(err.contains("scrape_intervall"), "{err}");
}

#[test]
fn check_config_reports_success_and_errors() {
    let dir = TempDir::new("check");
    let good =
        dir.write("good.yml", "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['h:1']\n");
    let out = Command::new(vigil_bin()).args(["check", "config"]).arg(&good).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bad =
        dir.write("bad.yml", "scrape_configs:\n  - job_name: a\n    scrape_timeout: 2m\n    scrape_interval: 1m\n");
    let out = Command::new(vigil_bin()).args(["check", "config"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.yml:3:21"), "{err}");
}

#[test]
fn unsupported_keys_warn_once_at_start() {
    let v = Vigil::start("rule_files: ['x.rules']\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ['{self}']\n");
    wait_for("warning in the log", Duration::from_secs(5), || v.log().contains("rule_files").then_some(()));
    assert_eq!(v.log().matches("\"rule_files\" is not supported").count(), 1, "{}", v.log());
}

#[test]
fn reload_keeps_running_config_when_new_one_is_bad() {
    let fake = FakeTarget::start(vec![("/metrics", Reply::text("m 1\n"))]);
    let base = format!("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: one\n    static_configs:\n      - targets: ['{}']\n", fake.addr);
    let mut v = Vigil::start(&base);
    wait_for("first target up", Duration::from_secs(10), || (v.targets().first()?["health"] == "up").then_some(()));

    std::fs::write(&v.config, "scrape_configs:\n  - job_name: [oops\n").unwrap();
    let r = http("POST", &format!("{}/-/reload", v.base), "").unwrap();
    assert_eq!(r.status, 500);
    assert!(r.body.contains("prometheus.yml:2:"), "{}", r.body);
    assert_eq!(v.targets().len(), 1, "the running config stays");
    assert!(v.proc.alive());

    // SIGHUP with a good config adds the new job.
    let two = format!("{base}  - job_name: two\n    static_configs:\n      - targets: ['{}']\n", fake.addr);
    std::fs::write(&v.config, two).unwrap();
    let status = Command::new("kill").args(["-HUP", &v.proc.pid().to_string()]).status().unwrap();
    assert!(status.success());
    wait_for("second job after SIGHUP", Duration::from_secs(10), || (v.targets().len() == 2).then_some(()));
    // The unchanged job kept its loop: its samples continue without a stale gap.
    let q = v.query("m{job=\"one\"}");
    assert_eq!(q.len(), 1);
    wait_for("job two scraped", Duration::from_secs(10), || (v.query("m{job=\"two\"}").len() == 1).then_some(()));

    // Removing a job ends its series at once with staleness markers,
    // instead of leaving them visible for the 5-minute lookback.
    std::fs::write(&v.config, &base).unwrap();
    let r = http("POST", &format!("{}/-/reload", v.base), "").unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    wait_for("job two gone", Duration::from_secs(5), || v.query("m{job=\"two\"}").is_empty().then_some(()));
    assert!(v.query("up{job=\"two\"}").is_empty());
    assert_eq!(v.query("m{job=\"one\"}").len(), 1);
}

#[test]
fn series_that_vanish_from_a_target_go_stale() {
    let dir = TempDir::new("vanish");
    let page = dir.write("page", "a 1\nb 2\n");
    // A target whose page is read from a file at each request.
    let fake = FakeTarget::start_dynamic(page.clone());
    let v = Vigil::start(&format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: j\n    static_configs:\n      - targets: ['{}']\n",
        fake.addr
    ));
    wait_for("both series", Duration::from_secs(10), || {
        (v.query("{job=\"j\",__name__=~\"a|b\"}").len() == 2).then_some(())
    });
    std::fs::write(&page, "a 1\n").unwrap();
    wait_for("b stale", Duration::from_secs(10), || {
        (v.query("{job=\"j\",__name__=~\"a|b\"}").len() == 1).then_some(())
    });
    assert_eq!(v.query("a").len(), 1);
}

#[test]
fn file_sd_targets_follow_file_changes() {
    let fake = FakeTarget::start(vec![("/metrics", Reply::text("m 1\n"))]);
    let dir = TempDir::new("filesd");
    let sd = dir.write("targets.json", &format!(r#"[{{"targets": ["{}"], "labels": {{"team": "a"}}}}]"#, fake.addr));
    let cfg = format!("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: sd\n    file_sd_configs:\n      - files: ['{}']\n", sd.display());
    let v = Vigil::start(&cfg);
    let t = wait_for("file_sd target", Duration::from_secs(10), || v.targets().into_iter().next());
    assert_eq!(t["labels"]["team"], "a");
    assert_eq!(t["discoveredLabels"]["__meta_filepath"], sd.display().to_string());
    // Same address twice under different labels: two targets.
    std::fs::write(
        &sd,
        format!(
            r#"[{{"targets": ["{0}"], "labels": {{"team": "a"}}}}, {{"targets": ["{0}"], "labels": {{"team": "b"}}}}]"#,
            fake.addr
        ),
    )
    .unwrap();
    wait_for("two file_sd targets", Duration::from_secs(10), || (v.targets().len() == 2).then_some(()));
}

#[test]
fn default_config_scrapes_itself() {
    let dir = TempDir::new("default");
    let addr = format!("127.0.0.1:{}", free_port());
    let mut p = Proc::spawn(
        "vigil",
        Command::new(vigil_bin())
            .args(["--listen", &addr])
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .stdout(std::process::Stdio::piped()),
    );
    let base = format!("http://{addr}");
    let up = wait_for("self-scrape", Duration::from_secs(20), || {
        let j: serde_json::Value =
            serde_json::from_str(&http("GET", &format!("{base}/api/v1/query?query=up"), "").ok()?.body).ok()?;
        let r = j["data"]["result"].as_array()?.first()?.clone();
        Some(r)
    });
    assert_eq!(up["metric"]["job"], "vigil");
    assert_eq!(up["metric"]["instance"], addr.as_str());
    assert_eq!(up["value"][1], "1");
    assert!(p.alive());
    let home = get(&format!("{base}/"));
    assert_eq!(home.status, 200);
    assert!(home.body.contains("vigil"));
}

#[test]
fn retention_size_takes_prometheus_units() {
    let out = Command::new(vigil_bin()).args(["--retention.size", "12XB"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown unit \"XB\""), "{err}");
    let out = Command::new(vigil_bin()).args(["--storage.tsdb.retention.size", "abc"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected a number and a unit"));
    // A good size is accepted (the process then fails on the missing config file, after parsing flags).
    let out = Command::new(vigil_bin())
        .args(["--retention.size", "1.5GB", "--config", "/nonexistent/prometheus.yml"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("retention.size"), "{err}");
}
