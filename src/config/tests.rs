use super::*;

fn ok(text: &str) -> Config {
    parse(text, "test.yml", Path::new(".")).unwrap_or_else(|e| panic!("{e}"))
}

fn bad(text: &str) -> ConfigError {
    parse(text, "test.yml", Path::new(".")).expect_err(text)
}

#[test]
fn defaults_follow_prometheus() {
    let c = ok("scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['localhost:9100']\n");
    assert_eq!(c.global.scrape_interval, Duration::from_secs(60));
    assert_eq!(c.global.scrape_timeout, Duration::from_secs(10));
    let j = &c.scrape_configs[0];
    assert_eq!(j.metrics_path, "/metrics");
    assert_eq!(j.scheme, "http");
    assert!(j.honor_timestamps);
    assert!(!j.honor_labels);
    assert_eq!(j.static_configs[0].targets, vec!["localhost:9100"]);
}

#[test]
fn job_timeout_defaults_to_min_of_global_timeout_and_interval() {
    let c = ok("global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n");
    assert_eq!(c.scrape_configs[0].scrape_timeout, Duration::from_secs(5));
}

#[test]
fn misspelled_key_is_an_error_with_position() {
    let e = bad("global:\n  scrape_intervall: 15s\n");
    assert_eq!(e.line, 2, "{e}");
    assert!(e.message.contains("scrape_intervall"), "{e}");
    assert!(e.to_string().starts_with("test.yml:2:"), "{e}");
}

#[test]
fn unsupported_keys_warn_with_the_key_line() {
    let c = ok(
        "rule_files:\n  - a.rules\nscrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      - role: pod\n",
    );
    assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
    assert!(c.warnings[0].starts_with("test.yml:1:") && c.warnings[0].contains("rule_files"), "{:?}", c.warnings);
    assert!(
        c.warnings[1].starts_with("test.yml:5:") && c.warnings[1].contains("kubernetes_sd_configs"),
        "{:?}",
        c.warnings
    );
}

#[test]
fn bad_values_name_their_place() {
    let e = bad("global:\n  scrape_interval: 15x\n");
    assert_eq!((e.line, e.col), (2, 20), "{e}");
    let e = bad("scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 10s\n");
    assert_eq!(e.line, 4, "{e}");
    assert!(e.message.contains("scrape timeout greater than scrape interval"), "{e}");
    let e = bad("scrape_configs:\n  - job_name: a\n  - job_name: a\n");
    assert!(e.message.contains("multiple scrape configs with job name"), "{e}");
    let e = bad(
        "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: hashmod\n        target_label: x\n",
    );
    assert!(e.message.contains("non-zero modulus"), "{e}");
    let e =
        bad("scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - regex: '('\n        target_label: x\n");
    assert_eq!(e.line, 4, "{e}");
    let e = bad("scrape_configs:\n  - job_name: a\n    bearer_token: x\n    basic_auth:\n      username: u\n");
    assert!(e.message.contains("at most one of"), "{e}");
    let e = bad("global:\n  external_labels:\n    1bad: x\n");
    assert_eq!(e.line, 3, "{e}");
    let e = bad("scrape_configs:\n  - job_name: a\n    scheme: ftp\n");
    assert!(e.message.contains("unsupported scheme"), "{e}");
    let e = bad("scrape_configs: [\n");
    assert!(e.line >= 1, "{e}");
}

#[test]
fn default_config_loads() {
    let c = ok(&DEFAULT_CONFIG.replace("{listen}", "127.0.0.1:3000"));
    assert_eq!(c.scrape_configs[0].job_name, "vigil");
    assert_eq!(c.scrape_configs[0].scrape_interval, Duration::from_secs(5));
    assert!(c.warnings.is_empty());
}

#[test]
fn secrets_are_redacted_for_the_status_api() {
    let text = "scrape_configs:\n  - job_name: a\n    basic_auth:\n      username: u\n      password: hunter2\n    authorization:\n      credentials: \"tok\"\n    tls_config:\n      key: |\n        -----BEGIN KEY-----\n        abc\n      cert_file: c.pem\n    bearer_token_file: /t\n  - password: x\n";
    let got = redact_secrets(text);
    assert_eq!(
        got,
        "scrape_configs:\n  - job_name: a\n    basic_auth:\n      username: u\n      password: <secret>\n    authorization:\n      credentials: <secret>\n    tls_config:\n      key: <secret>\n      cert_file: c.pem\n    bearer_token_file: /t\n  - password: <secret>\n"
    );
    assert!(!got.contains("hunter2") && !got.contains("abc") && !got.contains("\"tok\""));
}

#[test]
fn dashboard_dirs_are_vigils_own_key_relative_to_the_file() {
    let c = parse("vigil:\n  dashboards: [config]\n", "test.yml", Path::new("src")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.dashboards, [Path::new("src").join("config")]);
    let e = bad("vigil:\n  dashboards:\n    - no/such/dir\n");
    assert_eq!((e.line, e.col), (3, 7), "{e}");
    assert!(e.message.contains("\"no/such/dir\" is not a directory"), "{e}");
    let e = bad("vigil:\n  dashbords: [x]\n");
    assert_eq!(e.line, 2, "{e}");
}
