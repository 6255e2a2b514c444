//! Vigil's time-series store.
//!
//! A tour:
//! - [`model`]: what all of Vigil shares ([`Labels`], [`Matcher`]s,
//!   [`Sample`] and the staleness marker, metric metadata, relabeling,
//!   timestamps); it imports nothing else of the store;
//! - [`chunkenc`]: the chunk encodings (Gorilla XOR, and integers as
//!   differences); native histogram chunks (integer and float) will sit
//!   beside them as `chunkenc/histogram.rs` and `chunkenc/float_histogram.rs`,
//!   with the histogram type itself in `model`;
//! - [`series`]: a selected series as shared chunks, decoded as it is read;
//! - [`head`]: [`Db`], the store: the in-memory head with its postings index,
//!   appends one batch per scrape, queries by matchers over a time range,
//!   retention, import, snapshots, and the background work that persists;
//! - [`wal`]: the write-ahead log and its checkpoints;
//! - [`disk`]: chunk files per two-hour partition and the sled index;
//! - [`dir`]: the data dir's format marker and lock.
//!
//! docs/format.md describes the bytes on disk and why they are laid out so.

#![warn(missing_docs)]

pub mod chunkenc;
pub mod dir;
pub mod disk;
pub mod head;
pub mod model;
pub mod series;
pub mod wal;

pub use dir::{DirError, FORMAT_VERSION};
pub use disk::{SledOptions, PARTITION_MS};
pub use head::{
    AppendOutcome, Db, DbStats, DiskUsage, ImportOutcome, OpenError, OpenReport, Options, SeriesData, SeriesRef,
};
pub use model::labels::{is_valid_label_name, Label, Labels, LabelsBuilder, METRIC_NAME};
pub use model::matcher::{anchored_regex, BadRegex, MatchOp, Matcher};
pub use model::metadata::MetricMetadata;
pub use model::value::{is_stale_nan, stale_nan, Sample, STALE_NAN_BITS};
pub use series::{Samples, SelectedSeries};
