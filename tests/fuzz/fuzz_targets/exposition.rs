//! Any bytes as a scraped body, in both exposition formats: the parser
//! and the append path must return, never panic or hang.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use storage::{Db, Labels};
use vigil::config::ScrapeConfig;
use vigil::scrape::append::Appender;
use vigil::scrape::parse::{Format, Parser};

fn config() -> Arc<ScrapeConfig> {
    static CFG: OnceLock<Arc<ScrapeConfig>> = OnceLock::new();
    CFG.get_or_init(|| {
        let yaml = "scrape_configs:\n  - job_name: fuzz\n    sample_limit: 10000\n    label_limit: 30\n";
        Arc::new(vigil::config::parse(yaml, "fuzz.yml", Path::new(".")).expect("config").scrape_configs.remove(0))
    })
    .clone()
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else { return };
    for format in [Format::Text, Format::OpenMetrics] {
        for entry in Parser::new(body, format).flatten() {
            if let vigil::scrape::parse::Entry::Sample(s) = entry {
                for (name, value) in s.labels() {
                    assert!(!name.is_empty());
                    let _ = value.len();
                }
            }
        }
        let db = Arc::new(Db::in_memory());
        let mut app = Appender::new(db, Labels::from_pairs([("job", "fuzz"), ("instance", "x:1")]), config());
        if app.append_body(body, format, 1_000).is_err() {
            app.mark_all_stale(1_000);
        }
        let _ = app.append_body(body, format, 2_000);
    }
});
