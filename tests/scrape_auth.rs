//! Targets behind authentication: basic_auth, bearer tokens (inline and
//! from a file, re-read at every scrape) and the authorization section.

mod common;

use common::*;
use std::time::Duration;

#[test]
fn credentials_are_sent_as_configured() {
    let body = "m 1\n";
    let auth = |v: &str| Reply { require_auth: Some(v.to_string()), ..Reply::text(body) };
    // "user:pa:ss" in base64, as RFC 7617 builds it.
    let fake = FakeTarget::start(vec![
        ("/basic", auth("Basic dXNlcjpwYTpzcw==")),
        ("/bearer", auth("Bearer s3cret")),
        ("/custom", auth("Token abc")),
        ("/file", auth("Bearer from-file")),
    ]);
    let dir = TempDir::new("auth");
    let token = dir.write("token", "from-file\n");
    let a = &fake.addr;
    let job = |name: &str, path: &str, auth: &str| {
        format!("  - job_name: {name}\n    metrics_path: {path}\n{auth}    static_configs:\n      - targets: ['{a}']\n")
    };
    let mut cfg = String::from("global:\n  scrape_interval: 1s\nscrape_configs:\n");
    cfg += &job("basic", "/basic", "    basic_auth:\n      username: user\n      password: 'pa:ss'\n");
    cfg += &job("basic-wrong", "/basic", "    basic_auth:\n      username: user\n      password: nope\n");
    cfg += &job("bearer", "/bearer", "    bearer_token: s3cret\n");
    cfg += &job("custom", "/custom", "    authorization:\n      type: Token\n      credentials: abc\n");
    cfg += &job("file", "/file", &format!("    authorization:\n      credentials_file: {}\n", token.display()));
    cfg += &job("none", "/bearer", "");
    let v = Vigil::start(&cfg);
    let targets = wait_for("all scraped", Duration::from_secs(15), || {
        let t = v.targets();
        (t.len() == 6 && t.iter().all(|t| t["health"] != "unknown")).then_some(t)
    });
    for t in &targets {
        let job = t["labels"]["job"].as_str().unwrap();
        let want = if job == "basic-wrong" || job == "none" { "down" } else { "up" };
        assert_eq!(t["health"], want, "{job}: {t}");
        if want == "down" {
            assert!(t["lastError"].as_str().unwrap().contains("401"), "{t}");
        }
    }
    // A rotated token file is picked up at the next scrape.
    std::fs::write(&token, "rotated").unwrap();
    wait_for("file job down after rotation", Duration::from_secs(10), || {
        v.targets().into_iter().find(|t| t["labels"]["job"] == "file" && t["health"] == "down")
    });
}
