//! The head's index ([`MemIndex`]): every series by id and by the hash of
//! its labels, and the postings (label name → value → series) that find
//! series by matchers.

use super::memseries::MemSeries;
use super::SeriesRef;
use crate::model::labels::{Labels, METRIC_NAME};
use crate::model::matcher::{MatchOp, Matcher};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Default)]
pub(super) struct MemIndex {
    /// By id; `None` for an id whose series was never recorded.
    pub(super) series: Vec<Option<Arc<MemSeries>>>,
    /// Stable hash of the labels → refs with that hash (collisions are rare
    /// and resolved by comparing labels).
    pub(super) by_hash: hashbrown::HashTable<SeriesRef>,
    /// label name → label value → series refs, ascending.
    pub(super) postings: HashMap<String, HashMap<String, Vec<SeriesRef>>>,
}

impl MemIndex {
    pub(super) fn get(&self, r: SeriesRef) -> Option<&Arc<MemSeries>> {
        self.series.get(r.0 as usize)?.as_ref()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (SeriesRef, &Arc<MemSeries>)> {
        self.series.iter().enumerate().filter_map(|(i, s)| Some((SeriesRef(i as u32), s.as_ref()?)))
    }

    pub(super) fn insert(&mut self, r: SeriesRef, s: MemSeries) {
        let i = r.0 as usize;
        if self.series.len() <= i {
            self.series.resize_with(i + 1, || None);
        }
        if self.series[i].is_some() {
            return;
        }
        let hash = s.labels.stable_hash();
        let series = &self.series;
        let hash_of =
            |r: &SeriesRef| series.get(r.0 as usize).and_then(|s| s.as_ref()).map_or(0, |s| s.labels.stable_hash());
        self.by_hash.insert_unique(hash, r, hash_of);
        for l in &s.labels {
            let refs = self.postings.entry(l.name.to_string()).or_default().entry(l.value.to_string()).or_default();
            // Ids loaded out of order still give ascending postings.
            let at = refs.partition_point(|x| *x < r);
            refs.insert(at, r);
        }
        self.series[i] = Some(Arc::new(s));
    }

    /// Takes a series out of the index and its postings (its id is not reused).
    pub(super) fn remove(&mut self, r: SeriesRef) {
        let Some(s) = self.series.get_mut(r.0 as usize).and_then(Option::take) else { return };
        if let Ok(e) = self.by_hash.find_entry(s.labels.stable_hash(), |x| *x == r) {
            e.remove();
        }
        for l in &s.labels {
            let Some(vals) = self.postings.get_mut(l.name) else { continue };
            if let Some(refs) = vals.get_mut(l.value) {
                refs.retain(|x| *x != r);
                if refs.is_empty() {
                    vals.remove(l.value);
                }
            }
            if vals.is_empty() {
                self.postings.remove(l.name);
            }
        }
    }

    pub(super) fn lookup(&self, hash: u64, labels: &Labels) -> Option<SeriesRef> {
        self.by_hash.find(hash, |&r| self.get(r).is_some_and(|s| s.labels == *labels)).copied()
    }

    /// At most how many series match all matchers, from the postings alone:
    /// the shortest list of an equality matcher, else every series.
    pub(super) fn estimate(&self, matchers: &[Matcher]) -> usize {
        matchers
            .iter()
            .filter(|m| m.op == MatchOp::Equal && !m.value.is_empty())
            .map(|m| self.postings.get(&m.name).and_then(|vals| vals.get(&m.value)).map_or(0, |v| v.len()))
            .min()
            .unwrap_or(self.series.len())
    }

    /// Refs of series matching all matchers, ascending. Starts from the
    /// smallest postings list of an equality matcher with a non-empty value
    /// and filters the rest; without one, scans every series.
    pub(super) fn matching(&self, matchers: &[Matcher]) -> Vec<SeriesRef> {
        let seed = matchers
            .iter()
            .filter(|m| m.op == MatchOp::Equal && !m.value.is_empty())
            .map(|m| self.postings.get(&m.name).and_then(|vals| vals.get(&m.value)).map_or(&[][..], |v| v.as_slice()))
            .min_by_key(|p| p.len());
        let accept = |r: &SeriesRef| {
            self.get(*r).is_some_and(|s| matchers.iter().all(|m| m.matches(s.labels.get_or_empty(&m.name))))
        };
        match seed {
            Some(p) => p.iter().copied().filter(accept).collect(),
            None => {
                // A metric-name regex still narrows the scan to matching names.
                let name_re = matchers.iter().find(|m| m.name == METRIC_NAME && m.op == MatchOp::Regex);
                match name_re.and_then(|m| self.postings.get(METRIC_NAME).map(|vals| (m, vals))) {
                    Some((m, vals)) => {
                        let mut refs: Vec<SeriesRef> = vals
                            .iter()
                            .filter(|(v, _)| m.matches(v))
                            .flat_map(|(_, refs)| refs.iter().copied())
                            .filter(accept)
                            .collect();
                        refs.sort_unstable();
                        refs
                    }
                    None => (0..self.series.len() as u32).map(SeriesRef).filter(accept).collect(),
                }
            }
        }
    }
}
