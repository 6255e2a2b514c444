//! Metric metadata: what a target says of a metric family in its
//! exposition (`# TYPE`, `# HELP`, `# UNIT`), as the scraper records it and
//! the metadata API and dashboards read it.

/// One metric family's metadata as a target last exposed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricMetadata {
    /// The family's name (without `_total`, `_bucket`… suffixes).
    pub metric: String,
    /// Prometheus's names: counter, gauge, histogram, gaugehistogram,
    /// summary, info, stateset, unknown.
    pub kind: &'static str,
    /// The `# HELP` text, unescaped.
    pub help: String,
    /// The `# UNIT` (OpenMetrics only), else empty.
    pub unit: String,
}
