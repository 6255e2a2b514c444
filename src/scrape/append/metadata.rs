//! Metric metadata (TYPE, HELP, UNIT) as a target last exposed it, for
//! /api/v1/metadata and /api/v1/targets/metadata. Kept per metric family;
//! a scrape that changes nothing allocates nothing.

use crate::scrape::parse::MetricType;
use std::collections::HashMap;
use std::sync::Arc;

pub use storage::MetricMetadata;

#[derive(Default)]
struct Family {
    kind: Option<MetricType>,
    help: Option<Box<str>>,
    unit: Option<Box<str>>,
    seen: u64,
}

/// Families seen by a target's scrapes.
#[derive(Default)]
pub struct MetadataCache {
    families: HashMap<Box<str>, Family>,
    changed: bool,
}

impl MetadataCache {
    fn family(&mut self, name: &str, iteration: u64) -> &mut Family {
        if !self.families.contains_key(name) {
            self.families.insert(name.into(), Family::default());
            self.changed = true;
        }
        let f = self.families.get_mut(name).expect("inserted above");
        f.seen = iteration;
        f
    }

    pub fn set_type(&mut self, name: &str, kind: MetricType, iteration: u64) {
        let f = self.family(name, iteration);
        if f.kind != Some(kind) {
            f.kind = Some(kind);
            self.changed = true;
        }
    }

    /// `text` still escaped as in the body (`\\`, `\n`, and `\"` in OpenMetrics).
    pub fn set_help(&mut self, name: &str, text: &str, iteration: u64) {
        let f = self.family(name, iteration);
        let text = unescape(text);
        if f.help.as_deref() != Some(&*text) {
            f.help = Some(text.into());
            self.changed = true;
        }
    }

    pub fn set_unit(&mut self, name: &str, unit: &str, iteration: u64) {
        let f = self.family(name, iteration);
        if f.unit.as_deref() != Some(unit) {
            f.unit = Some(unit.into());
            self.changed = true;
        }
    }

    /// After a successful scrape: forgets families it did not expose and,
    /// when anything changed, returns the new list (sorted by name).
    pub fn finish(&mut self, iteration: u64) -> Option<Arc<Vec<MetricMetadata>>> {
        let before = self.families.len();
        self.families.retain(|_, f| f.seen == iteration);
        if !std::mem::take(&mut self.changed) && self.families.len() == before {
            return None;
        }
        let mut list: Vec<MetricMetadata> = self
            .families
            .iter()
            .map(|(name, f)| MetricMetadata {
                metric: name.to_string(),
                kind: f.kind.unwrap_or(MetricType::Unknown).as_str(),
                help: f.help.as_deref().unwrap_or("").to_string(),
                unit: f.unit.as_deref().unwrap_or("").to_string(),
            })
            .collect();
        list.sort_by(|a, b| a.metric.cmp(&b.metric));
        Some(Arc::new(list))
    }
}

fn unescape(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('\\') {
        crate::scrape::parse::unescape(s).into()
    } else {
        s.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_published_once_and_vanished_families_go() {
        let mut m = MetadataCache::default();
        m.set_type("a", MetricType::Counter, 1);
        m.set_help("a", "line one\\nline \\\\two", 1);
        m.set_type("b", MetricType::Gauge, 1);
        let list = m.finish(1).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!((list[0].kind, list[0].help.as_str()), ("counter", "line one\nline \\two"));
        // The same again: nothing to publish.
        m.set_type("a", MetricType::Counter, 2);
        m.set_help("a", "line one\\nline \\\\two", 2);
        m.set_type("b", MetricType::Gauge, 2);
        assert!(m.finish(2).is_none());
        // b gone, a's unit new.
        m.set_type("a", MetricType::Counter, 3);
        m.set_help("a", "line one\\nline \\\\two", 3);
        m.set_unit("a", "seconds", 3);
        let list = m.finish(3).unwrap();
        assert_eq!(list.iter().map(|x| (x.metric.as_str(), x.unit.as_str())).collect::<Vec<_>>(), [("a", "seconds")]);
    }
}
