//! Prometheus's own config test files (../shared/prometheus-testdata/config):
//! every `*.good.yml` loads, every `*.bad.yml` whose fault lies in what Vigil
//! reads is rejected with a file:line:col error.

mod common;

use std::path::Path;

/// Bad files whose fault lies only in parts Vigil does not read yet; they
/// load with the unsupported-key warning. Each with the reason.
const LOADS_WITH_WARNING: &[(&str, &str)] = &[
    ("azure_bearertoken_basicauth.bad.yml", "service discovery other than static and file is not read yet"),
    ("azure_client_id_missing.bad.yml", "service discovery other than static and file is not read yet"),
    ("azure_client_secret_missing.bad.yml", "service discovery other than static and file is not read yet"),
    ("azure_subscription_id_missing.bad.yml", "service discovery other than static and file is not read yet"),
    ("azure_tenant_id_missing.bad.yml", "service discovery other than static and file is not read yet"),
    ("ec2_filters_empty_values.bad.yml", "service discovery other than static and file is not read yet"),
    ("ec2_token_file.bad.yml", "service discovery other than static and file is not read yet"),
    ("eureka_invalid_server.bad.yml", "service discovery other than static and file is not read yet"),
    ("eureka_no_server.bad.yml", "service discovery other than static and file is not read yet"),
    ("http_token_file.bad.yml", "service discovery other than static and file is not read yet"),
    (
        "kubernetes_api_server_with_own_namespace.bad.yml",
        "service discovery other than static and file is not read yet",
    ),
    ("kubernetes_authorization_basicauth.bad.yml", "service discovery other than static and file is not read yet"),
    ("kubernetes_bearertoken.bad.yml", "service discovery other than static and file is not read yet"),
    ("kubernetes_bearertoken_basicauth.bad.yml", "service discovery other than static and file is not read yet"),
    (
        "kubernetes_http_config_without_api_server.bad.yml",
        "service discovery other than static and file is not read yet",
    ),
    ("kubernetes_kubeconfig_with_apiserver.bad.yml", "service discovery other than static and file is not read yet"),
    ("kubernetes_kubeconfig_with_http_config.bad.yml", "service discovery other than static and file is not read yet"),
    (
        "kubernetes_kubeconfig_with_own_namespace.bad.yml",
        "service discovery other than static and file is not read yet",
    ),
    ("kubernetes_selectors_duplicated_role.bad.yml", "service discovery other than static and file is not read yet"),
    ("kubernetes_selectors_endpoints.bad.yml", "service discovery other than static and file is not read yet"),
    ("kubernetes_selectors_incorrect_selector.bad.yml", "service discovery other than static and file is not read yet"),
    ("kubernetes_selectors_ingress.bad.yml", "service discovery other than static and file is not read yet"),
    ("kubernetes_selectors_node.bad.yml", "service discovery other than static and file is not read yet"),
    ("kubernetes_selectors_pod.bad.yml", "service discovery other than static and file is not read yet"),
    ("kubernetes_selectors_service.bad.yml", "service discovery other than static and file is not read yet"),
    ("lightsail_token_file.bad.yml", "service discovery other than static and file is not read yet"),
    ("marathon_authtoken_authorization.bad.yml", "service discovery other than static and file is not read yet"),
    ("marathon_authtoken_authtokenfile.bad.yml", "service discovery other than static and file is not read yet"),
    ("marathon_authtoken_basicauth.bad.yml", "service discovery other than static and file is not read yet"),
    ("marathon_authtoken_bearertoken.bad.yml", "service discovery other than static and file is not read yet"),
    ("marathon_no_servers.bad.yml", "service discovery other than static and file is not read yet"),
    ("outscale_no_region.bad.yml", "service discovery other than static and file is not read yet"),
    ("outscale_no_secret.bad.yml", "service discovery other than static and file is not read yet"),
    ("outscale_two_secrets.bad.yml", "service discovery other than static and file is not read yet"),
    ("puppetdb_token_file.bad.yml", "service discovery other than static and file is not read yet"),
    ("stackit_endpoint.bad.yml", "service discovery other than static and file is not read yet"),
    ("uyuni_no_server.bad.yml", "service discovery other than static and file is not read yet"),
    ("uyuni_token_file.bad.yml", "service discovery other than static and file is not read yet"),
    ("empty_alert_relabel_config.bad.yml", "alerting is not read until rules and Alertmanager support exist"),
    ("empty_alertmanager_relabel_config.bad.yml", "alerting is not read until rules and Alertmanager support exist"),
    ("empty_rr_config.bad.yml", "remote_write and remote_read are not read yet"),
    ("empty_rw_config.bad.yml", "remote_write and remote_read are not read yet"),
    ("empty_rw_relabel_config.bad.yml", "remote_write and remote_read are not read yet"),
    ("remote_read_dup.bad.yml", "remote_write and remote_read are not read yet"),
    ("remote_read_header.bad.yml", "remote_write and remote_read are not read yet"),
    ("remote_read_url_missing.bad.yml", "remote_write and remote_read are not read yet"),
    ("remote_write_authorization_header.bad.yml", "remote_write and remote_read are not read yet"),
    ("remote_write_dup.bad.yml", "remote_write and remote_read are not read yet"),
    ("remote_write_header.bad.yml", "remote_write and remote_read are not read yet"),
    ("remote_write_queue_capacity_zero.bad.yml", "remote_write and remote_read are not read yet"),
    ("remote_write_queue_max_backoff_less_than_min.bad.yml", "remote_write and remote_read are not read yet"),
    ("remote_write_queue_max_samples_per_send_zero.bad.yml", "remote_write and remote_read are not read yet"),
    ("remote_write_queue_max_shards_zero.bad.yml", "remote_write and remote_read are not read yet"),
    ("remote_write_queue_min_shards_greater_than_max.bad.yml", "remote_write and remote_read are not read yet"),
    ("remote_write_queue_min_shards_zero.bad.yml", "remote_write and remote_read are not read yet"),
    ("remote_write_url_missing.bad.yml", "remote_write and remote_read are not read yet"),
    ("remote_write_wrong_msg.bad.yml", "remote_write and remote_read are not read yet"),
    ("otlp_allow_utf8.bad.yml", "OTLP ingestion is not part of Vigil"),
    ("otlp_ignore_resource_attributes_without_promote_all.bad.yml", "OTLP ingestion is not part of Vigil"),
    ("otlp_promote_all_resource_attributes.bad.yml", "OTLP ingestion is not part of Vigil"),
    ("otlp_sanitize_ignore_resource_attributes.bad.yml", "OTLP ingestion is not part of Vigil"),
    ("otlp_sanitize_promote_resource_attributes.bad.yml", "OTLP ingestion is not part of Vigil"),
    ("tracing_invalid_authorization_header.bad.yml", "tracing is not read"),
    ("tracing_invalid_compression.bad.yml", "tracing is not read"),
    ("tracing_invalid_header.bad.yml", "tracing is not read"),
    ("tracing_missing_endpoint.bad.yml", "tracing is not read"),
    (
        "tsdb_chunk_encoding_floats.bad.yml",
        "the storage section (TSDB tuning) is not read; Vigil takes retention from its flags",
    ),
    (
        "tsdb_chunk_encoding_floats_wrong_case.bad.yml",
        "the storage section (TSDB tuning) is not read; Vigil takes retention from its flags",
    ),
    (
        "tsdb_chunk_encoding_floats_wrong_case_xor2.bad.yml",
        "the storage section (TSDB tuning) is not read; Vigil takes retention from its flags",
    ),
    (
        "tsdb_retention_percentage.bad.yml",
        "the storage section (TSDB tuning) is not read; Vigil takes retention from its flags",
    ),
    (
        "tsdb_retention_percentage_negative.bad.yml",
        "the storage section (TSDB tuning) is not read; Vigil takes retention from its flags",
    ),
    (
        "tsdb_retention_size.bad.yml",
        "the storage section (TSDB tuning) is not read; Vigil takes retention from its flags",
    ),
    (
        "tsdb_retention_time.bad.yml",
        "the storage section (TSDB tuning) is not read; Vigil takes retention from its flags",
    ),
];

/// Good files Vigil rejects, each with the reason.
const GOOD_BUT_REJECTED: &[(&str, &str)] = &[(
    "scrape_config_files_combined.good.yml",
    "job \"node\" is defined in the file and again in scrape_config_files2.good.yml, which it includes; \
     Prometheus's loader accepts it, and its GetScrapeConfigs rejects it when scraping starts; Vigil rejects it at load",
)];

/// Bad files in what Vigil reads, with words their error must contain
/// (Prometheus's own wording where Vigil has the same fault).
const EXPECTED_ERRORS: &[(&str, &str)] = &[
    ("jobname.bad.yml", "job_name is empty"),
    ("jobname_dup.bad.yml", "found multiple scrape configs with job name \"prometheus\""),
    ("scrape_interval.bad.yml", "scrape timeout greater than scrape interval"),
    ("regex.bad.yml", "invalid regular expression"),
    ("modulus_missing.bad.yml", "relabel configuration for hashmod requires non-zero modulus"),
    ("labelkeep.bad.yml", "labelkeep action requires only 'regex', and no other fields"),
    ("labeldrop5.bad.yml", "labeldrop action requires only 'regex', and no other fields"),
    ("dropequal.bad.yml", "relabel configuration for dropequal action requires 'target_label' value"),
    ("dropequal1.bad.yml", "dropequal action requires only 'source_labels' and `target_label`, and no other fields"),
    ("keepequal.bad.yml", "relabel configuration for keepequal action requires 'target_label' value"),
    ("keepequal1.bad.yml", "keepequal action requires only 'source_labels' and `target_label`, and no other fields"),
    ("lowercase.bad.yml", "relabel configuration for lowercase action requires 'target_label' value"),
    ("lowercase3.bad.yml", "'replacement' can not be set for lowercase action"),
    ("uppercase.bad.yml", "relabel configuration for uppercase action requires 'target_label' value"),
    ("uppercase3.bad.yml", "'replacement' can not be set for uppercase action"),
    ("rules.bad.yml", "invalid rule file path"),
    ("unknown_attr.bad.yml", "consult_sd_configs"),
    ("unknown_global_attr.bad.yml", "nonexistent_field"),
    ("bearertoken.bad.yml", "at most one of bearer_token & bearer_token_file must be configured"),
    (
        "bearertoken_basicauth.bad.yml",
        "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured",
    ),
    ("url_in_targetgroup.bad.yml", "\"http://bad\" is not a valid hostname"),
    ("target_label_missing.bad.yml", "relabel configuration for replace action requires 'target_label' value"),
    ("target_label_hashmod_missing.bad.yml", "relabel configuration for hashmod action requires 'target_label' value"),
    ("empty_scrape_config.bad.yml", "empty or null scrape config section"),
    ("empty_target_relabel_config.bad.yml", "empty or null target relabeling rule"),
    ("empty_metric_relabel_config.bad.yml", "empty or null metric relabeling rule"),
    ("empty_static_config.bad.yml", "empty or null section in static_configs"),
    ("empty_scrape_config_action.bad.yml", "relabel action cannot be empty"),
    ("scrape_body_size_limit.bad.yml", "unknown unit"),
    ("scrape_config_files_glob.bad.yml", "invalid scrape config file path \"scrape_configs/*/*\""),
    ("scrape_config_files_double_import.bad.yml", "found multiple scrape configs with job name \"prometheus\""),
    ("scrape_config_files_duplicate.bad.yml", "found multiple scrape configs with job name \"prometheus\""),
    (
        "scrape_config_files_global.bad.yml",
        "scrape timeout greater than scrape interval for scrape config with job name \"prometheus\"",
    ),
    ("scrape_config_files_scrape_protocols.bad.yml", "unknown scrape protocol prometheusproto"),
    ("scrape_config_files_scrape_protocols2.bad.yml", "duplicated protocol in scrape_protocols"),
    ("scrape_config_files_fallback_scrape_protocol1.bad.yml", "invalid fallback_scrape_protocol"),
    ("scrape_config_utf8_conflicting.bad.yml", "utf8 metric names requested but validation scheme is not set to UTF8"),
    ("metric_name_validation_scheme.bad.yml", "unknown name validation method"),
];

fn files(suffix: &str) -> Vec<std::path::PathBuf> {
    let dir = common::shared("prometheus-testdata/config");
    assert!(dir.exists(), "{} is missing: run beside ../shared", dir.display());
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(suffix)))
        .collect();
    v.sort();
    v
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
#[ignore = "reads ../shared/prometheus-testdata; .ci/run runs it"]
fn good_files_load() {
    let mut failures = Vec::new();
    for f in files(".good.yml") {
        let n = name(&f);
        let excepted = GOOD_BUT_REJECTED.iter().any(|(file, _)| *file == n);
        match vigil::config::load(&f) {
            Err(e) if !excepted => failures.push(format!("{n}: {e}")),
            Ok(_) if excepted => failures.push(format!("{n}: listed as rejected but loads; update the list")),
            _ => {}
        }
    }
    assert!(failures.is_empty(), "good configs rejected:\n{}", failures.join("\n"));
}

#[test]
#[ignore = "reads ../shared/prometheus-testdata; .ci/run runs it"]
fn bad_files_are_rejected_with_a_position() {
    let mut loaded = Vec::new();
    let mut unplaced = Vec::new();
    let mut checked = 0;
    for f in files(".bad.yml") {
        let n = name(&f);
        let allowed = LOADS_WITH_WARNING.iter().any(|(file, _)| *file == n);
        match vigil::config::load(&f) {
            Ok(_) if allowed => {}
            Ok(_) => loaded.push(n),
            Err(e) if allowed => panic!("{n} is listed as loading but is rejected: {e}; update the list"),
            Err(e) => {
                checked += 1;
                if e.line == 0 {
                    unplaced.push(format!("{n}: {e}"));
                }
                if let Some((_, want)) = EXPECTED_ERRORS.iter().find(|(file, _)| *file == n) {
                    assert!(e.message.contains(want), "{n}: error {:?} should contain {want:?}", e.to_string());
                }
            }
        }
    }
    assert!(loaded.is_empty(), "bad configs accepted:\n{}", loaded.join("\n"));
    assert!(checked > 30, "only {checked} bad files checked");
    assert!(unplaced.is_empty(), "errors without a line:\n{}", unplaced.join("\n"));
}
