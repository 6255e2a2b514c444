//! Vigil's time-series store.
//!
//! A tour:
//! - [`labels`]: [`Labels`], the sorted label set that identifies a series;
//! - [`matcher`]: label [`Matcher`]s (`=`, `!=`, `=~`, `!~`) used by PromQL and the API;
//! - [`sample`]: [`Sample`] and Prometheus's staleness marker;
//! - [`head`]: [`Db`], the in-memory head with its postings index. Appends
//!   come one batch per scrape; queries select series by matchers over a
//!   time range.
//!
//! The store keeps this interface as it grows persistence (sled index, Gorilla
//! chunks, WAL); callers see batches in and selected series out.

pub mod chunkenc;
pub mod dir;
pub mod disk;
pub mod head;
pub mod labels;
pub mod matcher;
pub mod memseries;
pub mod sample;
pub mod wal;

pub use dir::{DirError, FORMAT_VERSION};
pub use disk::{SledOptions, PARTITION_MS};
pub use head::{
    AppendOutcome, Db, DbStats, DiskUsage, ImportOutcome, OpenError, OpenReport, Options, SeriesData, SeriesRef,
};
pub use labels::{Label, Labels, LabelsBuilder, METRIC_NAME};
pub use matcher::{anchored_regex, BadRegex, MatchOp, Matcher};
pub use sample::{is_stale_nan, stale_nan, Sample, STALE_NAN_BITS};
