//! Label sets: the identity of a series.
//!
//! A [`Labels`] is a set of name/value pairs kept sorted by name, so that two
//! equal sets compare, hash and print the same way whatever order they were
//! built in. `__name__` holds the metric name.

use super::varint::{get_uvarint, put_uvarint};
use std::fmt;
use std::sync::Arc;

/// The label that holds a series' metric name.
pub const METRIC_NAME: &str = "__name__";

/// Whether `name` may name a label: `[a-zA-Z_][a-zA-Z0-9_]*`, Prometheus's
/// legacy rule, which PromQL, relabeling and the config all apply.
pub fn is_valid_label_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b[1..].iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// One name/value pair, owned (as built, before it joins a [`Labels`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    /// The label's name.
    pub name: String,
    /// The label's value.
    pub value: String,
}

impl Label {
    /// A label from its name and value.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Label { name: name.into(), value: value.into() }
    }
}

/// One name/value pair inside a [`Labels`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LabelRef<'a> {
    /// The label's name.
    pub name: &'a str,
    /// The label's value.
    pub value: &'a str,
}

/// A sorted set of labels with unique names and no empty values.
///
/// Prometheus treats a label with an empty value as absent; constructors drop
/// such labels so that `{a=""}` and `{}` are the same series.
///
/// The pairs live in one shared buffer, each string behind its length (as
/// Prometheus's `stringlabels`): a label set is one allocation of about the
/// size of its text, and cloning one, which queries do for every selected
/// series, is a reference-count increment.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Labels(Arc<[u8]>);

impl Default for Labels {
    fn default() -> Self {
        Labels::empty()
    }
}

impl Labels {
    /// The empty set.
    pub fn empty() -> Self {
        Labels(Arc::from([]))
    }

    /// Builds a set from pairs in any order. When a name repeats, the last
    /// value wins; empty values are dropped.
    pub fn from_pairs<N: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (N, V)>) -> Self {
        let mut b = LabelsBuilder::default();
        for (n, v) in pairs {
            b.set(n, v);
        }
        b.build()
    }

    /// Wraps labels already sorted by name, unique and non-empty (as produced
    /// by [`LabelsBuilder`] or a parser that checked it).
    pub fn from_sorted(v: Vec<Label>) -> Self {
        debug_assert!(v.windows(2).all(|w| w[0].name < w[1].name));
        Self::encode(v.iter().map(|l| (l.name.as_str(), l.value.as_str())))
    }

    fn encode<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Self {
        let mut buf = Vec::with_capacity(64);
        for (n, v) in pairs {
            put_uvarint(&mut buf, n.len() as u64);
            buf.extend_from_slice(n.as_bytes());
            put_uvarint(&mut buf, v.len() as u64);
            buf.extend_from_slice(v.as_bytes());
        }
        Labels(buf.into())
    }

    /// The address of this label set's shared buffer: the same for every
    /// clone, and never another set's while this one (or a clone) lives. Caches
    /// that hold a clone can key by it instead of hashing the labels.
    pub fn addr(&self) -> usize {
        self.0.as_ptr() as usize
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|l| l.name == name).map(|l| l.value)
    }

    /// The value of `name`, or "" when absent (as PromQL matchers see it).
    pub fn get_or_empty(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// The metric name, if any.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    /// The labels, sorted by name.
    pub fn iter(&self) -> Iter<'_> {
        Iter { rest: &self.0 }
    }

    /// How many labels.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// No labels at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A builder seeded with these labels.
    pub fn builder(&self) -> LabelsBuilder {
        LabelsBuilder { labels: self.iter().map(|l| Label::new(l.name, l.value)).collect() }
    }

    /// A copy without the metric name, and without the `__type__` and
    /// `__unit__` labels that describe it (Prometheus drops the three together).
    pub fn without_metric_name(&self) -> Labels {
        let named = |n: &str| n == METRIC_NAME || n == "__type__" || n == "__unit__";
        if !self.iter().any(|l| named(l.name)) {
            return self.clone();
        }
        Self::encode(self.iter().filter(|l| !named(l.name)).map(|l| (l.name, l.value)))
    }

    /// A hash that is the same across runs and machines (FNV-1a over
    /// name, 0xff, value, 0xff …), for spreading scrape offsets and for
    /// anything written to disk.
    pub fn stable_hash(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |bytes: &[u8]| {
            for &b in bytes {
                h ^= b as u64;
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        };
        for l in self.iter() {
            eat(l.name.as_bytes());
            eat(&[0xff]);
            eat(l.value.as_bytes());
            eat(&[0xff]);
        }
        h
    }
}

/// The pairs of a [`Labels`], in name order.
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    rest: &'a [u8],
}

impl<'a> Iter<'a> {
    fn take_str(&mut self) -> Option<&'a str> {
        let mut pos = 0;
        let n = get_uvarint(self.rest, &mut pos)? as usize;
        self.rest = &self.rest[pos..];
        let (s, rest) = self.rest.split_at(n);
        self.rest = rest;
        // SAFETY: the buffer is private to `Labels` and written only by
        // `Labels::encode`, from whole `&str`s, each behind its byte length;
        // iteration reads the same lengths back, so `s` is one of those strings.
        Some(unsafe { std::str::from_utf8_unchecked(s) })
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = LabelRef<'a>;

    #[inline]
    fn next(&mut self) -> Option<LabelRef<'a>> {
        let name = self.take_str()?;
        let value = self.take_str()?;
        Some(LabelRef { name, value })
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = LabelRef<'a>;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Label sets order pair by pair (name, then value), a shorter set first
/// when it is a prefix of the other, as Prometheus sorts series.
impl Ord for Labels {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        if Arc::ptr_eq(&self.0, &other.0) {
            return std::cmp::Ordering::Equal;
        }
        // Pairs compare string by string (name, value, name, …). Series
        // sorted together share long prefixes (the metric name, the first
        // labels): the strings wholly inside the bytes both encodings share
        // are equal and are skipped without being compared.
        let (a, b) = (&self.0[..], &other.0[..]);
        let n = a.len().min(b.len());
        let mut common = 0;
        while common + 8 <= n && a[common..common + 8] == b[common..common + 8] {
            common += 8;
        }
        while common < n && a[common] == b[common] {
            common += 1;
        }
        let (mut x, mut y) = (Iter { rest: a }, Iter { rest: b });
        loop {
            match (x.take_str(), y.take_str()) {
                (None, None) => return std::cmp::Ordering::Equal,
                (None, Some(_)) => return std::cmp::Ordering::Less,
                (Some(_), None) => return std::cmp::Ordering::Greater,
                (Some(s), Some(t)) => {
                    if a.len() - x.rest.len() <= common {
                        continue;
                    }
                    match s.cmp(t) {
                        std::cmp::Ordering::Equal => {}
                        o => return o,
                    }
                }
            }
        }
    }
}

impl PartialOrd for Labels {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter().map(|l| (l.name, l.value))).finish()
    }
}

/// Writes `name{a="b", c="d"}` as Prometheus prints series, with label values
/// escaped (`\\`, `\"`, `\n`).
impl fmt::Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = self.metric_name() {
            f.write_str(name)?;
        }
        f.write_str("{")?;
        let mut first = true;
        for l in self.iter().filter(|l| l.name != METRIC_NAME) {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{}=\"", l.name)?;
            for c in l.value.chars() {
                match c {
                    '\\' => f.write_str("\\\\")?,
                    '"' => f.write_str("\\\"")?,
                    '\n' => f.write_str("\\n")?,
                    c => write!(f, "{c}")?,
                }
            }
            f.write_str("\"")?;
        }
        f.write_str("}")
    }
}

/// Mutable label set used by relabeling and target label building.
#[derive(Clone, Debug, Default)]
pub struct LabelsBuilder {
    labels: Vec<Label>,
}

impl LabelsBuilder {
    /// Sets `name` to `value`; an empty value deletes the label.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let (name, value) = (name.into(), value.into());
        match self.labels.binary_search_by(|l| l.name.as_str().cmp(&name)) {
            Ok(i) if value.is_empty() => {
                self.labels.remove(i);
            }
            Ok(i) => self.labels[i].value = value,
            Err(_) if value.is_empty() => {}
            Err(i) => self.labels.insert(i, Label { name, value }),
        }
        self
    }

    /// Removes `name` if present.
    pub fn del(&mut self, name: &str) -> &mut Self {
        if let Ok(i) = self.labels.binary_search_by(|l| l.name.as_str().cmp(name)) {
            self.labels.remove(i);
        }
        self
    }

    /// The value of a label set so far.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.labels.binary_search_by(|l| l.name.as_str().cmp(name)).ok().map(|i| self.labels[i].value.as_str())
    }

    /// Keeps only the labels for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&Label) -> bool) -> &mut Self {
        self.labels.retain(|l| keep(l));
        self
    }

    /// The labels set so far, sorted by name.
    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.labels.iter()
    }

    /// The label set (the builder keeps it sorted, and never holds an empty value).
    pub fn build(self) -> Labels {
        Labels::encode(self.labels.iter().map(|l| (l.name.as_str(), l.value.as_str())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Label sets order as their (name, value) pairs do, in turn.
        #[test]
        fn order_is_that_of_the_pairs(
            a in proptest::collection::btree_map("[a-c]{1,3}", "[a-c\u{e9}]{1,4}", 0..5),
            b in proptest::collection::btree_map("[a-c]{1,3}", "[a-c\u{e9}]{1,4}", 0..5),
        ) {
            let (x, y) = (Labels::from_pairs(a.clone()), Labels::from_pairs(b.clone()));
            proptest::prop_assert_eq!(x.cmp(&y), a.iter().cmp(b.iter()));
            proptest::prop_assert_eq!(y.cmp(&x), b.iter().cmp(a.iter()));
            proptest::prop_assert_eq!(x.cmp(&x.clone()), std::cmp::Ordering::Equal);
        }
    }

    #[test]
    fn sorted_deduplicated_and_empty_values_dropped() {
        let l = Labels::from_pairs([("b", "2"), ("a", "1"), ("c", ""), ("a", "3")]);
        let names: Vec<_> = l.iter().map(|l| (l.name, l.value)).collect();
        assert_eq!(names, vec![("a", "3"), ("b", "2")]);
    }

    #[test]
    fn display_escapes_values() {
        let l = Labels::from_pairs([("__name__", "up"), ("x", "a\"b\\c\nd")]);
        assert_eq!(l.to_string(), r#"up{x="a\"b\\c\nd"}"#);
    }

    #[test]
    fn order_is_pairwise_and_long_strings_survive() {
        let a = Labels::from_pairs([("a", "1")]);
        let ab = Labels::from_pairs([("a", "1"), ("b", "0")]);
        let a2 = Labels::from_pairs([("a", "2")]);
        let long = "x".repeat(70_000);
        let l = Labels::from_pairs([("a", long.as_str()), ("é", "ü\0")]);
        assert!(a < ab && ab < a2 && Labels::empty() < a);
        assert_eq!(l.get("a").map(str::len), Some(70_000));
        assert_eq!(l.get("é"), Some("ü\0"));
        assert_eq!(l.builder().build(), l);
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn stable_hash_ignores_build_order() {
        let a = Labels::from_pairs([("a", "1"), ("b", "2")]);
        let b = Labels::from_pairs([("b", "2"), ("a", "1")]);
        assert_eq!(a.stable_hash(), b.stable_hash());
        assert_ne!(a.stable_hash(), Labels::from_pairs([("a", "12")]).stable_hash());
    }
}
