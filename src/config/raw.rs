//! The YAML shape of prometheus.yml, as serde reads it.
//!
//! Every section denies unknown keys, so a misspelling is an error with its
//! line and column. Keys that are valid in Prometheus but not (yet) read by
//! Vigil are declared in each section's `unsupported` list: they load, and
//! [`super::load`] warns once about each, naming its line.

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};
use std::collections::BTreeMap;

/// Declares a section struct with its supported fields and the Prometheus
/// keys it accepts without reading them.
macro_rules! section {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty,)* } unsupported { $($u:ident),* $(,)? }) => {
        $(#[$m])*
        #[derive(Deserialize, Debug, Default)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fm])* #[serde(default)] pub $field: $ty,)*
            $(#[serde(default)] $u: Option<Spanned<IgnoredAny>>,)*
        }

        impl $name {
            /// Present keys that Vigil does not read, with where their values start.
            #[allow(dead_code)]
            pub fn unsupported_keys(&self) -> Vec<(&'static str, Location)> {
                #[allow(unused_mut)]
                let mut v = Vec::new();
                $(if let Some(s) = &self.$u { v.push((stringify!($u), s.referenced)); })*
                v
            }
        }
    };
}

section! {
    /// The whole file.
    Config {
        global: Option<Global>,
        scrape_configs: Option<Vec<Spanned<Option<ScrapeConfig>>>>,
        scrape_config_files: Option<Vec<Spanned<String>>>,
        rule_files: Option<Spanned<Vec<Spanned<String>>>>,
        vigil: Option<Vigil>,
    }
    unsupported { runtime, alerting, remote_write, remote_read, storage, tracing, otlp }
}

section! {
    /// Vigil's own settings (a key Prometheus does not know).
    Vigil {
        /// Directories of Grafana dashboard JSON, relative to the config file.
        dashboards: Option<Vec<Spanned<String>>>,
    }
    unsupported {}
}

section! {
    /// A file named in `scrape_config_files`: scrape configs and nothing else.
    ScrapeConfigsFile {
        scrape_configs: Option<Vec<Spanned<Option<ScrapeConfig>>>>,
    }
    unsupported {}
}

section! {
    Global {
        scrape_interval: Option<Spanned<String>>,
        scrape_timeout: Option<Spanned<String>>,
        evaluation_interval: Option<Spanned<String>>,
        external_labels: Option<LabelMap>,
        body_size_limit: Option<Spanned<String>>,
        sample_limit: Option<u64>,
        label_limit: Option<u64>,
        label_name_length_limit: Option<u64>,
        label_value_length_limit: Option<u64>,
        metric_name_validation_scheme: Option<Spanned<String>>,
        metric_name_escaping_scheme: Option<Spanned<String>>,
        scrape_protocols: Option<Spanned<Vec<String>>>,
    }
    unsupported {
        rule_query_offset, query_log_file, scrape_failure_log_file, target_limit, keep_dropped_targets,
        always_scrape_classic_histograms, convert_classic_histograms_to_nhcb, scrape_native_histograms,
        extra_scrape_metrics
    }
}

section! {
    ScrapeConfig {
        job_name: Option<Spanned<String>>,
        honor_labels: Option<bool>,
        honor_timestamps: Option<bool>,
        scrape_interval: Option<Spanned<String>>,
        scrape_timeout: Option<Spanned<String>>,
        metrics_path: Option<String>,
        scheme: Option<Spanned<String>>,
        params: Option<BTreeMap<String, Vec<String>>>,
        body_size_limit: Option<Spanned<String>>,
        sample_limit: Option<u64>,
        label_limit: Option<u64>,
        label_name_length_limit: Option<u64>,
        label_value_length_limit: Option<u64>,
        static_configs: Option<Vec<Spanned<Option<StaticConfig>>>>,
        file_sd_configs: Option<Vec<Spanned<FileSdConfig>>>,
        relabel_configs: Option<Vec<Spanned<Option<RelabelConfig>>>>,
        metric_relabel_configs: Option<Vec<Spanned<Option<RelabelConfig>>>>,
        basic_auth: Option<Spanned<BasicAuth>>,
        authorization: Option<Spanned<Authorization>>,
        bearer_token: Option<Spanned<String>>,
        bearer_token_file: Option<Spanned<String>>,
        tls_config: Option<TlsConfig>,
        metric_name_validation_scheme: Option<Spanned<String>>,
        metric_name_escaping_scheme: Option<Spanned<String>>,
        scrape_protocols: Option<Spanned<Vec<String>>>,
        fallback_scrape_protocol: Option<Spanned<String>>,
    }
    unsupported {
        track_timestamps_staleness, scrape_classic_histograms,
        always_scrape_classic_histograms, convert_classic_histograms_to_nhcb, scrape_native_histograms,
        enable_compression, target_limit, keep_dropped_targets, native_histogram_bucket_limit,
        native_histogram_min_bucket_factor, scrape_failure_log_file, extra_scrape_metrics, proxy_url, no_proxy, proxy_from_environment,
        proxy_connect_header, follow_redirects, enable_http2, oauth2, http_headers,
        azure_sd_configs, consul_sd_configs, digitalocean_sd_configs, docker_sd_configs,
        dockerswarm_sd_configs, dns_sd_configs, ec2_sd_configs, eureka_sd_configs, gce_sd_configs,
        hetzner_sd_configs, http_sd_configs, ionos_sd_configs, kubernetes_sd_configs, kuma_sd_configs,
        lightsail_sd_configs, linode_sd_configs, marathon_sd_configs, nerve_sd_configs, nomad_sd_configs,
        openstack_sd_configs, oci_sd_configs, outscale_sd_configs, ovhcloud_sd_configs, puppetdb_sd_configs,
        scaleway_sd_configs, serverset_sd_configs, stackit_sd_configs, triton_sd_configs, uyuni_sd_configs,
        vultr_sd_configs
    }
}

section! {
    StaticConfig {
        targets: Option<Vec<Spanned<String>>>,
        labels: Option<LabelMap>,
    }
    unsupported {}
}

section! {
    FileSdConfig {
        files: Option<Vec<Spanned<String>>>,
        refresh_interval: Option<Spanned<String>>,
    }
    unsupported {}
}

section! {
    RelabelConfig {
        source_labels: Option<Vec<String>>,
        separator: Option<String>,
        #[serde(deserialize_with = "present")]
        regex: Option<Spanned<Option<String>>>,
        modulus: Option<u64>,
        target_label: Option<Spanned<String>>,
        replacement: Option<String>,
        #[serde(deserialize_with = "present")]
        action: Option<Spanned<Option<String>>>,
    }
    unsupported {}
}

section! {
    BasicAuth {
        username: Option<String>,
        username_file: Option<String>,
        password: Option<String>,
        password_file: Option<String>,
    }
    unsupported {}
}

section! {
    Authorization {
        #[serde(rename = "type")]
        kind: Option<String>,
        credentials: Option<String>,
        credentials_file: Option<String>,
    }
    unsupported {}
}

section! {
    TlsConfig {
        ca_file: Option<String>,
        cert_file: Option<String>,
        key_file: Option<String>,
        server_name: Option<String>,
        insecure_skip_verify: Option<bool>,
    }
    unsupported { ca, cert, key, min_version, max_version }
}

/// A YAML mapping of label names to values, in file order, with positions.
#[derive(Debug, Default)]
pub struct LabelMap(pub Vec<(Spanned<String>, Spanned<String>)>);

impl<'de> Deserialize<'de> for LabelMap {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = LabelMap;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a mapping of label names to values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<LabelMap, A::Error> {
                let mut out = Vec::new();
                while let Some(kv) = m.next_entry::<Spanned<String>, Spanned<String>>()? {
                    out.push(kv);
                }
                Ok(LabelMap(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// For keys where an explicit `null` differs from absence: a present key is
/// always `Some`, even when its value is null.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}
