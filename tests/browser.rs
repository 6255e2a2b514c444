//! Vigil's pages in a real browser: Debian's Chromium, headless, opens each
//! page while Vigil scrapes itself, and the DOM it built must show no error
//! and draw what the page is for. Screenshots are kept under
//! `target/screenshots/` for people to look at.

mod common;

use common::*;
use std::time::Duration;

#[test]
#[ignore = "needs Debian's chromium package; .ci/run installs it"]
fn every_page_renders_in_chromium() {
    let v = Vigil::start(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: vigil\n    static_configs:\n      - targets: ['{self}']\n",
    );
    wait_for("a few scrapes of itself", Duration::from_secs(20), || {
        (v.query("count_over_time(up[1m])").first()?["value"][1].as_str()?.parse::<u32>().ok()? >= 3).then_some(())
    });
    let pages = [
        ("home", "/".to_string(), vec!["targets up", "series"]),
        ("targets", "/targets".to_string(), vec!["vigil", "up"]),
        ("status", "/status".to_string(), vec!["Bytes per sample on disk", "Cardinality"]),
        (
            "graph",
            format!("/graph?expr={}&range=5m", urlencode("rate(vigil_tsdb_head_samples_appended_total[30s])")),
            vec!["<svg", "class=\"line\"", "class=\"swatch\""],
        ),
        ("graph-error", format!("/graph?expr={}", urlencode("sum(up")), vec!["parse error", "class=\"caret\""]),
        ("dashboards", "/dashboards".to_string(), vec!["Vigil overview"]),
        (
            "overview",
            "/d/vigil-overview?from=now-5m".to_string(),
            // data-zoom and data-keys: the page's scripts ran and took their charts and keys.
            vec!["Targets up", "class=\"line\"", "class=\"stat\"", "data-zoom=\"1\"", "data-keys=\"1\""],
        ),
        ("overview-dark", "/d/vigil-overview?from=now-5m&theme=dark".to_string(), vec!["data-theme=\"dark\""]),
    ];
    for (name, path, wants) in pages {
        let dom = chromium(&format!("{}{path}", v.base), name);
        assert!(dom.contains("</html>"), "{name}: no page: {dom}");
        for w in wants {
            assert!(dom.contains(w), "{name}: {w:?} missing from the DOM Chromium built");
        }
        if name != "graph-error" {
            let failing = ["class=\"bad", "error-box", "panel-error"];
            assert!(!failing.iter().any(|f| dom.contains(f)), "{name} shows an error");
        }
    }
}
