//! The `scrape_configs` of prometheus.yml (and of `scrape_config_files`):
//! each job validated as Prometheus validates it, with its place in the
//! file for every error.

use super::*;
use duration::parse_bytes;
use serde_saphyr::Location;
use serde_saphyr::Spanned;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;
use storage::model::relabel::{Action, RelabelConfig};

impl Loader<'_> {
    pub(super) fn scrape_configs(
        &mut self,
        list: Vec<Spanned<Option<raw::ScrapeConfig>>>,
        global: &GlobalConfig,
        inherited: &Inherited,
        jobs: &mut HashMap<String, String>,
        out: &mut Vec<ScrapeConfig>,
    ) -> Result<(), ConfigError> {
        for sc in list {
            let at = sc.referenced;
            let Some(value) = sc.value else {
                return Err(self.err(at, "empty or null scrape config section"));
            };
            let job_at = value.job_name.as_ref().map_or(at, |j| j.referenced);
            let c = self.scrape_config(at, value, global, inherited)?;
            let here = format!("{}:{}", self.file, job_at.line());
            if let Some(first) = jobs.get(&c.job_name) {
                return Err(self.err(
                    job_at,
                    format!("found multiple scrape configs with job name {:?}, first found in {first}", c.job_name),
                ));
            }
            jobs.insert(c.job_name.clone(), here);
            out.push(c);
        }
        Ok(())
    }

    pub(super) fn check_protocols(&self, p: &Spanned<Vec<String>>, job: &str) -> Result<(), ConfigError> {
        for (k, proto) in p.value.iter().enumerate() {
            if !SCRAPE_PROTOCOLS.contains(&proto.as_str()) {
                return Err(self.err(
                    p.referenced,
                    format!(
                        "scrape_protocols: unknown scrape protocol {proto}, supported: [{}] for {job}",
                        SCRAPE_PROTOCOLS.join(" ")
                    ),
                ));
            }
            if p.value[..k].contains(proto) {
                return Err(self.err(
                    p.referenced,
                    format!("duplicated protocol in scrape_protocols, got [{}] for {job}", p.value.join(" ")),
                ));
            }
        }
        Ok(())
    }

    pub(super) fn scrape_config(
        &mut self,
        at: Location,
        sc: raw::ScrapeConfig,
        global: &GlobalConfig,
        inherited: &Inherited,
    ) -> Result<ScrapeConfig, ConfigError> {
        let d = &inherited.limits;
        self.warn_unsupported(sc.unsupported_keys());
        let job_name = match &sc.job_name {
            Some(j) if !j.value.is_empty() => j.value.clone(),
            _ => return Err(self.err(at, "job_name is empty")),
        };
        let (scrape_interval, scrape_timeout) = self.scrape_timing(at, &sc, global, &job_name)?;
        let scheme = match &sc.scheme {
            Some(s) if s.value == "http" || s.value == "https" => s.value.clone(),
            Some(s) => {
                return Err(self.err(
                    s.referenced,
                    format!("unsupported scheme {:?} for scrape config with job name {job_name:?}", s.value),
                ))
            }
            None => "http".to_string(),
        };
        let job = format!("scrape config with job name {job_name:?}");
        NameSchemes::scrape(self, &sc, &inherited.schemes)?;
        if let Some(p) = &sc.scrape_protocols {
            self.check_protocols(p, &job)?;
        }
        if let Some(f) = &sc.fallback_scrape_protocol {
            if !SCRAPE_PROTOCOLS.contains(&f.value.as_str()) {
                return Err(self.err(
                    f.referenced,
                    format!(
                        "invalid fallback_scrape_protocol for {job}: unknown scrape protocol {}, supported: [{}]",
                        f.value,
                        SCRAPE_PROTOCOLS.join(" ")
                    ),
                ));
            }
        }
        let static_configs = self.static_configs(&sc)?;
        let file_sd_configs = self.file_sd_configs(&sc)?;
        let relabel_configs = self.relabels(sc.relabel_configs.as_deref(), "target")?;
        let metric_relabel_configs = self.relabels(sc.metric_relabel_configs.as_deref(), "metric")?;
        let auth = self.auth(&sc)?;
        let tls = self.tls(at, &sc, &job_name)?;
        Ok(ScrapeConfig {
            job_name,
            scrape_interval,
            scrape_timeout,
            metrics_path: sc.metrics_path.clone().unwrap_or_else(|| "/metrics".into()),
            scheme,
            params: sc.params.clone().unwrap_or_default(),
            honor_labels: sc.honor_labels.unwrap_or(false),
            honor_timestamps: sc.honor_timestamps.unwrap_or(true),
            static_configs,
            file_sd_configs,
            relabel_configs,
            metric_relabel_configs,
            sample_limit: sc.sample_limit.unwrap_or(d.sample_limit),
            label_limit: sc.label_limit.unwrap_or(d.label_limit),
            label_name_length_limit: sc.label_name_length_limit.unwrap_or(d.label_name_length_limit),
            label_value_length_limit: sc.label_value_length_limit.unwrap_or(d.label_value_length_limit),
            body_size_limit: match &sc.body_size_limit {
                Some(v) => parse_bytes(&v.value).map_err(|e| self.err(v.referenced, e))?,
                None => d.body_size_limit,
            },
            auth,
            tls,
        })
    }

    pub(super) fn auth(&self, sc: &raw::ScrapeConfig) -> Result<Auth, ConfigError> {
        // Prometheus's combinations and messages.
        let place = |v: &Option<Spanned<String>>| v.as_ref().map(|s| s.referenced);
        if let (Some(_), Some(at)) = (&sc.bearer_token, place(&sc.bearer_token_file)) {
            return Err(self.err(at, "at most one of bearer_token & bearer_token_file must be configured"));
        }
        let bearer = place(&sc.bearer_token).or(place(&sc.bearer_token_file));
        if let (Some(b), Some(at)) = (&sc.basic_auth, bearer) {
            let _ = b;
            return Err(
                self.err(at, "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured")
            );
        }
        if let (Some(a), Some(at)) = (&sc.authorization, bearer) {
            let _ = a;
            return Err(self.err(at, "authorization is not compatible with bearer_token & bearer_token_file"));
        }
        if let (Some(_), Some(a)) = (&sc.basic_auth, &sc.authorization) {
            return Err(self.err(a.referenced, "at most one of basic_auth, oauth2 & authorization must be configured"));
        }
        if let Some(b) = &sc.basic_auth {
            let v = &b.value;
            if v.password.is_some() && v.password_file.is_some() {
                return Err(
                    self.err(b.referenced, "at most one of basic_auth password and password_file may be configured")
                );
            }
            if v.username.is_some() && v.username_file.is_some() {
                return Err(
                    self.err(b.referenced, "at most one of basic_auth username and username_file may be configured")
                );
            }
            let username = match (&v.username, &v.username_file) {
                (Some(u), _) => u.clone(),
                (None, Some(f)) => {
                    std::fs::read_to_string(self.resolve(f)).map(|s| s.trim_end().to_string()).unwrap_or_default()
                }
                _ => String::new(),
            };
            let password = match (&v.password, &v.password_file) {
                (_, Some(f)) => Secret::File(self.resolve(f).into()),
                (p, None) => Secret::Inline(p.clone().unwrap_or_default()),
            };
            return Ok(Auth::Basic { username, password });
        }
        if let Some(a) = &sc.authorization {
            let v = &a.value;
            let kind = v.kind.clone().unwrap_or_else(|| "Bearer".into());
            if kind.eq_ignore_ascii_case("basic") {
                return Err(
                    self.err(a.referenced, "authorization type cannot be set to \"basic\", use \"basic_auth\" instead")
                );
            }
            let credentials = match (&v.credentials, &v.credentials_file) {
                (Some(_), Some(_)) => {
                    return Err(self.err(
                        a.referenced,
                        "at most one of authorization credentials and credentials_file may be configured",
                    ))
                }
                (_, Some(f)) => Secret::File(self.resolve(f).into()),
                (c, None) => Secret::Inline(c.clone().unwrap_or_default()),
            };
            return Ok(Auth::Header { kind, credentials });
        }
        if let Some(t) = &sc.bearer_token {
            return Ok(Auth::Header { kind: "Bearer".into(), credentials: Secret::Inline(t.value.clone()) });
        }
        if let Some(t) = &sc.bearer_token_file {
            return Ok(Auth::Header {
                kind: "Bearer".into(),
                credentials: Secret::File(self.resolve(&t.value).into()),
            });
        }
        Ok(Auth::None)
    }

    pub(super) fn relabels(
        &self,
        list: Option<&[Spanned<Option<raw::RelabelConfig>>]>,
        kind: &str,
    ) -> Result<Vec<RelabelConfig>, ConfigError> {
        let mut out = Vec::new();
        for r in list.into_iter().flatten() {
            let Some(v) = &r.value else {
                return Err(self.err(r.referenced, format!("empty or null {kind} relabeling rule")));
            };
            out.push(self.relabel(r.referenced, v)?);
        }
        Ok(out)
    }

    pub(super) fn relabel(&self, at: Location, v: &raw::RelabelConfig) -> Result<RelabelConfig, ConfigError> {
        let action = match &v.action {
            Some(a) => match a.value.as_deref().unwrap_or("") {
                "" => return Err(self.err(a.referenced, "relabel action cannot be empty")),
                name => Action::parse(name)
                    .ok_or_else(|| self.err(a.referenced, format!("unknown relabel action {name:?}")))?,
            },
            None => Action::Replace,
        };
        let regex_at = v.regex.as_ref().map_or(at, |s| s.referenced);
        // `regex:` with no value is the empty regex, as in Prometheus (not the default).
        let regex = v.regex.as_ref().map(|s| s.value.clone().unwrap_or_default());
        let target_at = v.target_label.as_ref().map_or(at, |s| s.referenced);
        RelabelConfig::new(
            action,
            v.source_labels.clone().unwrap_or_default(),
            v.separator.clone(),
            regex,
            v.modulus,
            v.target_label.as_ref().map(|s| s.value.clone()),
            v.replacement.clone(),
        )
        .map_err(|e| {
            let place = match e.field {
                "regex" => regex_at,
                "target_label" => target_at,
                _ => at,
            };
            self.err(place, e.message)
        })
    }

    /// The job's scrape interval and timeout (the global ones by default;
    /// the timeout never longer than the interval).
    fn scrape_timing(
        &self,
        at: Location,
        sc: &raw::ScrapeConfig,
        global: &GlobalConfig,
        job_name: &str,
    ) -> Result<(Duration, Duration), ConfigError> {
        let scrape_interval = match &sc.scrape_interval {
            Some(v) => self.duration(v)?,
            None => global.scrape_interval,
        };
        if scrape_interval.is_zero() {
            return Err(self.err(at, format!("scrape_interval must be greater than 0 for job {job_name:?}")));
        }
        let scrape_timeout = match &sc.scrape_timeout {
            Some(v) => {
                let t = self.duration(v)?;
                if t > scrape_interval {
                    return Err(self.err(
                        v.referenced,
                        format!(
                            "scrape timeout greater than scrape interval for scrape config with job name {job_name:?}"
                        ),
                    ));
                }
                t
            }
            None => global.scrape_timeout.min(scrape_interval),
        };
        Ok((scrape_interval, scrape_timeout))
    }

    /// `static_configs`: target groups as written.
    fn static_configs(&mut self, sc: &raw::ScrapeConfig) -> Result<Vec<TargetGroup>, ConfigError> {
        let mut static_configs = Vec::new();
        for g in sc.static_configs.iter().flatten() {
            let Some(value) = &g.value else {
                return Err(self.err(g.referenced, "empty or null section in static_configs"));
            };
            self.warn_unsupported(value.unsupported_keys());
            let mut targets = Vec::new();
            for t in value.targets.iter().flatten() {
                if t.value.contains('/') {
                    return Err(self.err(t.referenced, format!("{:?} is not a valid hostname", t.value)));
                }
                targets.push(t.value.clone());
            }
            static_configs.push(TargetGroup {
                targets,
                labels: self.label_map(value.labels.as_ref())?,
                source: String::new(),
            });
        }
        Ok(static_configs)
    }

    /// `file_sd_configs`: the files (relative to the config) and how often to re-read them.
    fn file_sd_configs(&self, sc: &raw::ScrapeConfig) -> Result<Vec<FileSdConfig>, ConfigError> {
        let mut file_sd_configs = Vec::new();
        for f in sc.file_sd_configs.iter().flatten() {
            let mut files = Vec::new();
            for p in f.value.files.iter().flatten() {
                if !p.value.ends_with(".json") && !p.value.ends_with(".yml") && !p.value.ends_with(".yaml") {
                    return Err(self.err(
                        p.referenced,
                        format!(
                            "path {:?} is not valid for file discovery: it must end in .json, .yml or .yaml",
                            p.value
                        ),
                    ));
                }
                files.push(self.resolve(&p.value));
            }
            let refresh_interval = match &f.value.refresh_interval {
                Some(v) => self.duration(v)?,
                None => Duration::from_secs(300),
            };
            file_sd_configs.push(FileSdConfig { files, refresh_interval });
        }
        Ok(file_sd_configs)
    }

    /// `tls_config`: paths relative to the config; a certificate needs its key.
    fn tls(&mut self, at: Location, sc: &raw::ScrapeConfig, job_name: &str) -> Result<TlsConfig, ConfigError> {
        let tls = match &sc.tls_config {
            Some(t) => {
                self.warn_unsupported(t.unsupported_keys());
                TlsConfig {
                    ca_file: t.ca_file.as_deref().map(|p| PathBuf::from(self.resolve(p))),
                    cert_file: t.cert_file.as_deref().map(|p| PathBuf::from(self.resolve(p))),
                    key_file: t.key_file.as_deref().map(|p| PathBuf::from(self.resolve(p))),
                    server_name: t.server_name.clone(),
                    insecure_skip_verify: t.insecure_skip_verify.unwrap_or(false),
                }
            }
            None => TlsConfig::default(),
        };
        if tls.cert_file.is_some() != tls.key_file.is_some() {
            return Err(self.err(at, format!("tls_config needs both cert_file and key_file (job {job_name:?})")));
        }
        if tls.cert_file.is_some() != tls.key_file.is_some() {
            return Err(self.err(at, format!("tls_config needs both cert_file and key_file (job {job_name:?})")));
        }
        Ok(tls)
    }
}
