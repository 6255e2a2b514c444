//! The model layer: the small things every part of Vigil shares — label
//! sets and the label-name rule, matchers, samples and the staleness
//! marker, metric metadata, relabeling, timestamps — as Prometheus keeps
//! them in its `model/` packages.
//!
//! The config, the scraper, the store, PromQL and the web crate all import
//! it; it imports nothing else of Vigil's (checked by `tests/house.rs`). It
//! lives in the `storage` crate, the bottom of the stack, because labels are
//! the store's keys and every crate already depends on the store.
//!
//! - [`labels`]: [`Labels`](labels::Labels), the sorted label set that
//!   identifies a series, its builder, and [`is_valid_label_name`](labels::is_valid_label_name);
//! - [`matcher`]: label matchers (`=`, `!=`, `=~`, `!~`) and anchored regexes;
//! - [`value`]: a sample and Prometheus's staleness marker;
//! - [`metadata`]: a metric family's type, help and unit;
//! - [`relabel`]: relabeling rules and their application;
//! - [`timestamp`]: milliseconds since the epoch;
//! - `varint`: the variable-length integers label sets (and every byte
//!   format of the store) are written in.

pub mod labels;
pub mod matcher;
pub mod metadata;
pub mod relabel;
pub mod timestamp;
pub mod value;
pub(crate) mod varint;
