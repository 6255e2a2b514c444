//! prometheus.yml: the model Vigil runs from, loaded and validated with
//! file:line:col errors.
//!
//! [`load`] reads a file; [`parse`] reads text (the embedded default, tests).
//! Both return a [`Config`] with every default filled in and every regex
//! compiled, plus warnings for the keys Vigil accepts but does not act on.

pub mod duration;
pub mod glob;
mod raw;
mod scrape;

use duration::{parse_bytes, parse_duration};
use serde_saphyr::Location;
use serde_saphyr::Spanned;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use storage::is_valid_label_name;
use storage::model::relabel::RelabelConfig;
use storage::Labels;

/// The config Vigil runs when given none: it scrapes itself.
pub const DEFAULT_CONFIG: &str = "\
# Vigil's built-in configuration: scrape Vigil's own /metrics.
global:
  scrape_interval: 5s
  evaluation_interval: 5s
scrape_configs:
  - job_name: vigil
    static_configs:
      - targets: ['{listen}']
";

/// A config that cannot be used: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: u64,
    pub col: u64,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}:{}: {}", self.file, self.line, self.col, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// Settings shared by every scrape config unless it overrides them.
#[derive(Debug, Clone)]
pub struct GlobalConfig {
    pub scrape_interval: Duration,
    pub scrape_timeout: Duration,
    pub evaluation_interval: Duration,
    pub external_labels: Labels,
}

/// How a target is authenticated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Auth {
    #[default]
    None,
    Basic {
        username: String,
        password: Secret,
    },
    /// `Authorization: <kind> <credentials>`; `bearer_token` is kind "Bearer".
    Header {
        kind: String,
        credentials: Secret,
    },
}

/// A secret given inline or read from a file at each scrape (so rotation works).
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    Inline(String),
    File(PathBuf),
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Secret::Inline(_) => f.write_str("<secret>"),
            Secret::File(p) => write!(f, "file {}", p.display()),
        }
    }
}

impl Secret {
    pub fn read(&self) -> std::io::Result<String> {
        match self {
            Secret::Inline(s) => Ok(s.clone()),
            Secret::File(p) => Ok(std::fs::read_to_string(p)?.trim_end_matches(['\n', '\r']).to_string()),
        }
    }
}

/// TLS settings for https targets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsConfig {
    pub ca_file: Option<PathBuf>,
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub server_name: Option<String>,
    pub insecure_skip_verify: bool,
}

/// A set of targets with shared labels (`static_configs` entry or file_sd group).
#[derive(Debug, Clone, PartialEq)]
pub struct TargetGroup {
    pub targets: Vec<String>,
    pub labels: Labels,
    /// Where the group came from, for `__meta_filepath` and messages.
    pub source: String,
}

/// A `file_sd_configs` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct FileSdConfig {
    pub files: Vec<String>,
    pub refresh_interval: Duration,
}

/// One `scrape_configs` entry with defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrapeConfig {
    pub job_name: String,
    pub scrape_interval: Duration,
    pub scrape_timeout: Duration,
    pub metrics_path: String,
    pub scheme: String,
    pub params: BTreeMap<String, Vec<String>>,
    pub honor_labels: bool,
    pub honor_timestamps: bool,
    pub static_configs: Vec<TargetGroup>,
    pub file_sd_configs: Vec<FileSdConfig>,
    pub relabel_configs: Vec<RelabelConfig>,
    pub metric_relabel_configs: Vec<RelabelConfig>,
    /// 0 means no limit, as in Prometheus.
    pub sample_limit: u64,
    pub label_limit: u64,
    pub label_name_length_limit: u64,
    pub label_value_length_limit: u64,
    pub body_size_limit: u64,
    pub auth: Auth,
    pub tls: TlsConfig,
}

/// A loaded configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub global: GlobalConfig,
    pub scrape_configs: Vec<ScrapeConfig>,
    /// The text it was loaded from (served by the status API).
    pub source: String,
    /// One line per key Vigil accepts but does not act on.
    pub warnings: Vec<String>,
    /// `vigil.dashboards`: directories of Grafana dashboard JSON to serve.
    pub dashboards: Vec<PathBuf>,
}

/// Reads and validates a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: name.clone(),
        line: 0,
        col: 0,
        message: format!("cannot read config: {e}"),
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse(&text, &name, base)
}

/// Parses config text; `file` names it in errors, `base` resolves relative paths.
pub fn parse(text: &str, file: &str, base: &Path) -> Result<Config, ConfigError> {
    let raw: raw::Config = if text.trim().is_empty() {
        raw::Config::default()
    } else {
        serde_saphyr::from_str(text).map_err(|e| yaml_error(file, &e))?
    };
    Loader { file, text, base, warnings: Vec::new() }.finish(raw)
}

fn yaml_error(file: &str, e: &serde_saphyr::Error) -> ConfigError {
    let (line, col) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
    // The crate's Display adds its own position and a snippet; keep the message.
    let full = e.to_string();
    let first = full.lines().find(|l| !l.trim().is_empty()).unwrap_or("invalid YAML").trim();
    let first = first.trim_start_matches("error: ");
    let message = match first.strip_prefix("line ").and_then(|r| r.split_once(": ")) {
        Some((pos, rest)) if pos.contains("column") => rest,
        _ => first,
    };
    // Advice addressed to programmers using the YAML crate is not for users.
    let message = [", set ", ". If you just use"].iter().fold(message, |m, cut| m.split(cut).next().unwrap_or(m));
    ConfigError { file: file.to_string(), line, col, message: message.to_string() }
}

struct Loader<'a> {
    file: &'a str,
    text: &'a str,
    base: &'a Path,
    warnings: Vec<String>,
}

impl Loader<'_> {
    fn err(&self, at: Location, message: impl Into<String>) -> ConfigError {
        ConfigError { file: self.file.to_string(), line: at.line(), col: at.column(), message: message.into() }
    }

    /// Warns about keys Prometheus knows and Vigil ignores, naming the key's line.
    fn warn_unsupported(&mut self, keys: Vec<(&'static str, Location)>) {
        for (key, at) in keys {
            let line = self.key_line(key, at);
            self.warnings.push(format!("{}:{line}: {key:?} is not supported by Vigil yet and is ignored", self.file));
        }
    }

    /// The line of `key:` at or before the location of its value.
    fn key_line(&self, key: &str, at: Location) -> u64 {
        let Some(off) = at.span().byte_offset().map(|o| o as usize).filter(|&o| o <= self.text.len()) else {
            return at.line();
        };
        let before = &self.text[..self.text.floor_char_boundary_compat(off)];
        match before.rfind(&format!("{key}:")) {
            Some(k) => before[..k].matches('\n').count() as u64 + 1,
            None => at.line(),
        }
    }

    fn duration(&self, v: &Spanned<String>) -> Result<Duration, ConfigError> {
        parse_duration(&v.value).map_err(|e| self.err(v.referenced, e))
    }

    fn finish(mut self, raw: raw::Config) -> Result<Config, ConfigError> {
        self.warn_unsupported(raw.unsupported_keys());
        let g = raw.global.unwrap_or_default();
        self.warn_unsupported(g.unsupported_keys());
        let scrape_interval = match &g.scrape_interval {
            Some(v) => self.duration(v)?,
            None => Duration::from_secs(60),
        };
        if scrape_interval.is_zero() {
            return Err(self.err(
                g.scrape_interval.as_ref().map_or(Location::UNKNOWN, |v| v.referenced),
                "scrape_interval must be greater than 0",
            ));
        }
        let scrape_timeout = match &g.scrape_timeout {
            Some(v) => {
                let t = self.duration(v)?;
                if t > scrape_interval {
                    return Err(self.err(v.referenced, "global scrape timeout greater than scrape interval"));
                }
                t
            }
            None => Duration::from_secs(10).min(scrape_interval),
        };
        let evaluation_interval = match &g.evaluation_interval {
            Some(v) => self.duration(v)?,
            None => Duration::from_secs(60),
        };
        let external_labels = self.label_map(g.external_labels.as_ref())?;
        let global = GlobalConfig { scrape_interval, scrape_timeout, evaluation_interval, external_labels };
        let defaults = Limits {
            sample_limit: g.sample_limit.unwrap_or(0),
            label_limit: g.label_limit.unwrap_or(0),
            label_name_length_limit: g.label_name_length_limit.unwrap_or(0),
            label_value_length_limit: g.label_value_length_limit.unwrap_or(0),
            body_size_limit: match &g.body_size_limit {
                Some(v) => parse_bytes(&v.value).map_err(|e| self.err(v.referenced, e))?,
                None => 0,
            },
        };

        let schemes = NameSchemes::global(&self, &g)?;
        let protocols = match &g.scrape_protocols {
            Some(p) => {
                self.check_protocols(p, "global")?;
                Some(p.value.clone())
            }
            None => None,
        };
        if let Some(files) = &raw.rule_files {
            for f in &files.value {
                if !valid_file_pattern(&f.value) {
                    return Err(self.err(f.referenced, format!("invalid rule file path {:?}", f.value)));
                }
            }
            let line = self.key_line("rule_files", files.referenced);
            self.warnings
                .push(format!("{}:{line}: \"rule_files\" is not supported by Vigil yet and is ignored", self.file));
        }
        let inherited = Inherited { limits: defaults, schemes, protocols };

        // Job names seen so far, with where each was first defined.
        let mut jobs: HashMap<String, String> = HashMap::new();
        let mut scrape_configs = Vec::new();
        self.scrape_configs(
            raw.scrape_configs.unwrap_or_default(),
            &global,
            &inherited,
            &mut jobs,
            &mut scrape_configs,
        )?;
        for pattern in raw.scrape_config_files.unwrap_or_default() {
            if !valid_file_pattern(&pattern.value) {
                return Err(
                    self.err(pattern.referenced, format!("invalid scrape config file path {:?}", pattern.value))
                );
            }
            for path in glob::expand(&self.resolve(&pattern.value)) {
                let name = path.display().to_string();
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| self.err(pattern.referenced, format!("cannot read {name}: {e}")))?;
                let base = path.parent().unwrap_or(Path::new("."));
                let included: raw::ScrapeConfigsFile = if text.trim().is_empty() {
                    raw::ScrapeConfigsFile::default()
                } else {
                    serde_saphyr::from_str(&text).map_err(|e| yaml_error(&name, &e))?
                };
                let mut sub = Loader { file: &name, text: &text, base, warnings: Vec::new() };
                sub.scrape_configs(
                    included.scrape_configs.unwrap_or_default(),
                    &global,
                    &inherited,
                    &mut jobs,
                    &mut scrape_configs,
                )?;
                self.warnings.append(&mut sub.warnings);
            }
        }
        // In file order: "file:line: …".
        self.warnings.sort_by_key(|w| {
            w.rsplit_once(": \"")
                .map(|(head, _)| head.to_string())
                .and_then(|h| h.rsplit(':').next().and_then(|l| l.parse::<u64>().ok()))
        });
        let mut dashboards = Vec::new();
        for dir in raw.vigil.and_then(|v| v.dashboards).unwrap_or_default() {
            let path = PathBuf::from(self.resolve(&dir.value));
            if !path.is_dir() {
                return Err(self.err(dir.referenced, format!("dashboards: {:?} is not a directory", dir.value)));
            }
            dashboards.push(path);
        }
        Ok(Config { global, scrape_configs, source: self.text.to_string(), warnings: self.warnings, dashboards })
    }

    fn label_map(&self, m: Option<&raw::LabelMap>) -> Result<Labels, ConfigError> {
        let mut pairs = Vec::new();
        for (k, v) in m.into_iter().flat_map(|m| m.0.iter()) {
            if !is_valid_label_name(&k.value) {
                return Err(self.err(k.referenced, format!("{:?} is not a valid label name", k.value)));
            }
            pairs.push((k.value.clone(), v.value.clone()));
        }
        Ok(Labels::from_pairs(pairs))
    }

    fn resolve(&self, p: &str) -> String {
        let path = Path::new(p);
        if path.is_absolute() {
            p.to_string()
        } else {
            self.base.join(path).display().to_string()
        }
    }
}

/// Protocol names Prometheus accepts in `scrape_protocols` and `fallback_scrape_protocol`.
const SCRAPE_PROTOCOLS: [&str; 5] =
    ["OpenMetricsText0.0.1", "OpenMetricsText1.0.0", "PrometheusProto", "PrometheusText0.0.4", "PrometheusText1.0.0"];

/// What scrape configs take from `global` unless they say otherwise.
struct Inherited {
    limits: Limits,
    schemes: NameSchemes,
    #[allow(dead_code)]
    protocols: Option<Vec<String>>,
}

/// `metric_name_validation_scheme` and `metric_name_escaping_scheme`: validated
/// as Prometheus does. Vigil's parsers accept the classic name syntax.
#[derive(Clone, Default)]
struct NameSchemes {
    validation: String,
    escaping: String,
}

impl NameSchemes {
    fn check(
        l: &Loader,
        validation: &Option<Spanned<String>>,
        escaping: &Option<Spanned<String>>,
        inherit: &NameSchemes,
    ) -> Result<NameSchemes, ConfigError> {
        let mut out = inherit.clone();
        if let Some(v) = validation {
            if !matches!(v.value.as_str(), "" | "utf8" | "legacy") {
                return Err(l.err(
                    v.referenced,
                    format!(
                        "unknown name validation method specified, must be either '', 'legacy' or 'utf8', got {:?}",
                        v.value
                    ),
                ));
            }
            out.validation = v.value.clone();
        }
        if let Some(e) = escaping {
            if !matches!(e.value.as_str(), "" | "allow-utf-8" | "underscores" | "dots" | "values") {
                return Err(l.err(e.referenced, format!("unknown metric_name_escaping_scheme {:?}", e.value)));
            }
            out.escaping = e.value.clone();
        }
        if out.validation == "legacy" && out.escaping == "allow-utf-8" {
            let at = escaping.as_ref().or(validation.as_ref()).map_or(Location::UNKNOWN, |s| s.referenced);
            return Err(l.err(at, "utf8 metric names requested but validation scheme is not set to UTF8"));
        }
        Ok(out)
    }

    fn global(l: &Loader, g: &raw::Global) -> Result<NameSchemes, ConfigError> {
        NameSchemes::check(l, &g.metric_name_validation_scheme, &g.metric_name_escaping_scheme, &NameSchemes::default())
    }

    fn scrape(l: &Loader, sc: &raw::ScrapeConfig, inherit: &NameSchemes) -> Result<NameSchemes, ConfigError> {
        NameSchemes::check(l, &sc.metric_name_validation_scheme, &sc.metric_name_escaping_scheme, inherit)
    }
}

/// Rule and scrape-config file patterns: a `*` only in the last path component.
fn valid_file_pattern(p: &str) -> bool {
    match p.find('*') {
        None => true,
        Some(k) => !p[k..].contains('/'),
    }
}

struct Limits {
    sample_limit: u64,
    label_limit: u64,
    label_name_length_limit: u64,
    label_value_length_limit: u64,
    body_size_limit: u64,
}

/// Keys whose values Prometheus marks as secrets.
const SECRET_KEYS: [&str; 6] = ["password", "credentials", "bearer_token", "client_secret", "key", "secret_key"];

/// The config text with every secret value replaced by `<secret>`, as
/// Prometheus shows it on /api/v1/status/config. Block scalars (`key: |`)
/// lose their indented lines too.
pub fn redact_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Indentation of a secret block scalar whose lines are being dropped.
    let mut dropping: Option<usize> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some(level) = dropping {
            if line.trim().is_empty() || indent > level {
                continue;
            }
            dropping = None;
        }
        let body = line.trim_start().strip_prefix("- ").map_or(line.trim_start(), str::trim_start);
        let key_len = body.find(':').filter(|&i| SECRET_KEYS.contains(&body[..i].trim_end()));
        match key_len {
            Some(i) if !body[i + 1..].trim().is_empty() => {
                let value = body[i + 1..].trim();
                let cut = line.len() - body.len() + i + 1;
                out.push_str(&line[..cut]);
                out.push_str(" <secret>");
                if value.starts_with('|') || value.starts_with('>') {
                    dropping = Some(indent);
                }
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

trait FloorBoundary {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}

impl FloorBoundary for str {
    fn floor_char_boundary_compat(&self, mut i: usize) -> usize {
        while i > 0 && !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}

#[cfg(test)]
mod tests;
