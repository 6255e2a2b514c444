//! `vigil import` and `vigil snapshot` on the command line, and a server
//! started on what they wrote.

mod common;

use common::*;
use std::process::Command;

fn vigil(args: &[&str], dir: &TempDir) -> std::process::Output {
    Command::new(vigil_bin()).args(args).current_dir(dir.path()).output().unwrap()
}

#[test]
fn import_then_snapshot_then_serve() {
    let dir = TempDir::new("backfill");
    // Two hours of one counter at 15 s, as OpenMetrics (seconds), gzip-compressed; and a text file (ms).
    let base = 1_700_000_000i64;
    let mut om = String::from("# TYPE jobs counter\n");
    for k in 0..480 {
        om.push_str(&format!("jobs_total{{queue=\"a\"}} {} {}\n", k * 3, base + k * 15));
    }
    om.push_str("# EOF\n");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, om.as_bytes()).unwrap();
    std::fs::write(dir.path().join("a.om.gz"), gz.finish().unwrap()).unwrap();
    dir.write(
        "b.prom",
        &format!(
            "temp{{room=\"x\"}} 21.5 {}\ntemp{{room=\"x\"}} 22 \ntemp{{room=\"x\"}} 23 {}\n",
            base * 1000,
            base * 1000
        ),
    );

    let out = vigil(&["import", "a.om.gz", "b.prom", "--data-dir", "data"], &dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("2 series, 481 samples"), "{stdout}");
    assert!(
        stdout.contains("2 samples rejected: 1 without a timestamp, 1 repeating a timestamp with another value"),
        "{stdout}"
    );

    // A bad line stops with file:line:col and writes nothing of that file.
    dir.write("bad.prom", "ok_metric 1 1000\nbad{x=} 2 2000\n");
    let out = vigil(&["import", "bad.prom", "--data-dir", "data"], &dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.prom:2:"), "{}", String::from_utf8_lossy(&out.stderr));

    let out = vigil(&["snapshot", "copy", "--data-dir", "data"], &dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = vigil(&["snapshot", "copy", "--data-dir", "data"], &dir);
    assert!(!out.status.success(), "a snapshot never overwrites");

    // Serve the copy and ask it.
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let cfg = dir.write("empty.yml", "scrape_configs: []\n");
    let _p = Proc::spawn(
        "vigil",
        Command::new(vigil_bin())
            .arg("--config")
            .arg(&cfg)
            .args(["--listen", &addr, "--retention", "100y"])
            .arg("--data-dir")
            .arg(dir.path().join("copy"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null()),
    );
    wait_for("vigil", std::time::Duration::from_secs(20), || {
        http("GET", &format!("http://{addr}/-/ready"), "").ok().filter(|r| r.status == 200)
    });
    let t = base + 479 * 15;
    let q = urlencode("count_over_time(jobs_total[3h])");
    let j = get_json(&format!("http://{addr}/api/v1/query?query={q}&time={t}"));
    assert_eq!(j["data"]["result"][0]["value"][1], "480", "{j}");
    let q = urlencode("ok_metric");
    let j = get_json(&format!("http://{addr}/api/v1/query?query={q}&time=1"));
    assert_eq!(j["data"]["result"].as_array().map(|a| a.len()), Some(0), "{j}");
}

#[test]
fn admin_snapshot_of_a_running_vigil_opens_elsewhere() {
    let config = "global:\n  scrape_interval: 200ms\n  scrape_timeout: 150ms\nscrape_configs:\n  \
                  - job_name: vigil\n    static_configs: [{targets: ['{self}']}]\n";
    // Without the flag the endpoint refuses, as Prometheus does.
    let plain = Vigil::start(config);
    let r = http("POST", &format!("{}/api/v1/admin/tsdb/snapshot", plain.base), "").unwrap();
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("\"errorType\":\"unavailable\"") && r.body.contains("admin APIs disabled"), "{}", r.body);
    drop(plain);

    let v = Vigil::start_with(config, &["--web.enable-admin-api"]);
    wait_for("a few scrapes", std::time::Duration::from_secs(20), || {
        let n: f64 = v.query("count_over_time(up[1m])").first()?["value"][1].as_str()?.parse().ok()?;
        (n >= 3.0).then_some(())
    });
    let r = http("POST", &format!("{}/api/v1/admin/tsdb/snapshot", v.base), "").unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let j: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let name = j["data"]["name"].as_str().unwrap().to_string();
    assert!(name.len() > 20 && name.contains('Z'), "{name}");
    // Asked later, at a time after the snapshot: the copy holds what the live store had.
    let want: f64 = v.query("count_over_time(up[1m])")[0]["value"][1].as_str().unwrap().parse().unwrap();
    let t = format!("{:.3}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64());
    let snap = v.data_dir().join("snapshots").join(&name);
    assert!(snap.join("VIGIL").exists());

    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let cfg = v.dir.write("empty.yml", "scrape_configs: []\n");
    let _p = Proc::spawn(
        "vigil",
        Command::new(vigil_bin())
            .arg("--config")
            .arg(&cfg)
            .args(["--listen", &addr])
            .arg("--data-dir")
            .arg(&snap)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null()),
    );
    wait_for("vigil on the snapshot", std::time::Duration::from_secs(20), || {
        http("GET", &format!("http://{addr}/-/ready"), "").ok().filter(|r| r.status == 200)
    });
    let q = urlencode("count_over_time(up[1m])");
    let j = get_json(&format!("http://{addr}/api/v1/query?query={q}&time={t}"));
    let n: f64 = j["data"]["result"][0]["value"][1].as_str().and_then(|s| s.parse().ok()).unwrap_or(0.0);
    assert!(n >= 3.0 && n <= want, "snapshot {n}, live {want} a moment later: {j}");
}

/// Samples of every kind a float can be, at irregular times, as OpenMetrics.
fn varied_history(base_s: i64) -> String {
    let values = ["0", "-0", "1.5", "-2e-300", "1.7976931348623157e+308", "NaN", "+Inf", "-Inf", "0.1", "123456789"];
    let mut om = String::new();
    for (i, job) in ["a", "b\\\"q"].iter().enumerate() {
        for k in 0..300i64 {
            let t = base_s * 1000 + k * 15_000 + (k % 7) * 13 + i as i64;
            let v = values[(k as usize + i) % values.len()];
            om.push_str(&format!("sampled{{job=\"{job}\"}} {v} {}.{:03}\n", t / 1000, t % 1000));
        }
    }
    om.push_str("# EOF\n");
    om
}

#[test]
fn export_then_import_over_http_reproduces_every_sample() {
    let now_s = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let base = now_s - 3 * 3600;
    let a = Vigil::start("scrape_configs: []\n");
    let r = http_bytes(
        "POST",
        &format!("{}/api/v1/import/openmetrics", a.base),
        "text/plain",
        varied_history(base).as_bytes(),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let j: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!((j["data"]["series"].as_u64(), j["data"]["samples"].as_u64()), (Some(2), Some(600)), "{j}");

    let export = |v: &Vigil| get(&format!("{}/api/v1/export?match[]={}", v.base, urlencode("{__name__=~\".+\"}")));
    let first = export(&a);
    assert_eq!(first.status, 200);
    assert!(first.body.ends_with("# EOF\n"), "{}", &first.body[first.body.len().saturating_sub(200)..]);
    assert_eq!(first.body.lines().filter(|l| l.starts_with("sampled")).count(), 600);

    // Into an empty data dir: the same text comes back out.
    let b = Vigil::start("scrape_configs: []\n");
    let r = http_bytes("POST", &format!("{}/api/v1/import/openmetrics", b.base), "", first.body.as_bytes()).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let second = export(&b);
    assert_eq!(second.body, first.body);
    // And the query API agrees sample for sample.
    let q = format!("/api/v1/query?query={}&time={now_s}", urlencode("sampled[4h]"));
    assert_eq!(get_json(&format!("{}{q}", a.base))["data"], get_json(&format!("{}{q}", b.base))["data"]);

    // Importing it again adds nothing.
    let r = http_bytes("POST", &format!("{}/api/v1/import/openmetrics", b.base), "", first.body.as_bytes()).unwrap();
    let j: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(j["data"]["rejected"]["alreadyStored"], 600, "{j}");
}

#[test]
fn a_bad_import_names_its_line_and_writes_nothing() {
    let v = Vigil::start("scrape_configs: []\n");
    let body = "good{a=\"1\"} 1 1700000000\ngood{a=\"2\"} 2 1700000000\nbad{a=\"3\" 3 1700000000\n";
    let r =
        http_bytes("POST", &format!("{}/api/v1/import/openmetrics", v.base), "text/plain", body.as_bytes()).unwrap();
    assert_eq!(r.status, 400, "{}", r.body);
    let j: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(j["errorType"], "bad_data");
    assert!(j["error"].as_str().unwrap().starts_with("body:3:"), "{j}");
    let series = get_json(&format!("{}/api/v1/series?match[]=good", v.base));
    assert_eq!(series["data"], serde_json::json!([]), "nothing of the body was written");
    // A gzip bomb is refused, not inflated.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b'#'; 1 << 20];
    for _ in 0..1100 {
        std::io::Write::write_all(&mut gz, &zeros).unwrap();
    }
    let bomb = gz.finish().unwrap();
    let r = http_bytes("POST", &format!("{}/api/v1/import/openmetrics", v.base), "", &bomb).unwrap();
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("decompressed"), "{}", r.body);
}
