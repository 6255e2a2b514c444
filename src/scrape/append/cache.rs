//! The per-target series cache: series text as scraped → series ref.
//!
//! Most scrapes repeat the previous one line for line, so the hot path is a
//! lookup that hits. The texts are kept back to back in one arena in the
//! order they were first seen, so that a scrape walks the arena almost
//! sequentially instead of chasing one heap allocation per key (measured:
//! the per-key `Box<str>` layout spent a fifth of the append path in
//! cache-missing key comparisons).

use hashbrown::HashTable;
use std::hash::BuildHasher;
use storage::SeriesRef;

/// 16 bytes per cached series: the text's place in the arena, the series
/// (`DROPPED` when metric relabeling dropped it) and the scrape (counted
/// modulo 2^32) that last saw it.
struct Slot {
    off: u32,
    len: u32,
    series: u32,
    last_seen: u32,
}

const DROPPED: u32 = u32::MAX;

/// Series text → series, for one target.
pub struct SeriesCache {
    table: HashTable<Slot>,
    arena: String,
    /// Arena bytes that belong to removed slots.
    garbage: usize,
    hasher: foldhash::fast::RandomState,
    /// Whether a series was added since the last [`SeriesCache::retain_recent`].
    grew: bool,
}

impl Default for SeriesCache {
    fn default() -> Self {
        SeriesCache {
            table: HashTable::new(),
            arena: String::new(),
            garbage: 0,
            hasher: Default::default(),
            grew: false,
        }
    }
}

impl SeriesCache {
    /// The cached outcome for `key`, marking it seen in `iteration`.
    pub fn get(&mut self, key: &str, iteration: u64) -> Option<Option<SeriesRef>> {
        let hash = self.hasher.hash_one(key);
        let arena = &self.arena;
        let slot = self.table.find_mut(hash, |s| &arena[s.off as usize..(s.off + s.len) as usize] == key)?;
        slot.last_seen = iteration as u32;
        Some((slot.series != DROPPED).then_some(SeriesRef(slot.series)))
    }

    pub fn insert(&mut self, key: &str, series: Option<SeriesRef>, iteration: u64) {
        if self.arena.len() + key.len() > u32::MAX as usize {
            self.compact();
            if self.arena.len() + key.len() > u32::MAX as usize {
                return; // not cached: the next scrape resolves the series again
            }
        }
        // A series id of u32::MAX would read as dropped: it is then simply not cached.
        let series = match series {
            Some(SeriesRef(DROPPED)) => return,
            Some(SeriesRef(id)) => id,
            None => DROPPED,
        };
        let hash = self.hasher.hash_one(key);
        let off = self.arena.len() as u32;
        self.arena.push_str(key);
        self.grew = true;
        let slot = Slot { off, len: key.len() as u32, series, last_seen: iteration as u32 };
        let (arena, hasher) = (&self.arena, &self.hasher);
        self.table.insert_unique(hash, slot, |s| hasher.hash_one(&arena[s.off as usize..(s.off + s.len) as usize]));
    }

    pub fn retain_recent(&mut self, now: u64, max_age: u64) {
        let mut freed = 0;
        let now = now as u32;
        self.table.retain(|s| {
            let keep = u64::from(now.wrapping_sub(s.last_seen)) < max_age;
            if !keep {
                freed += s.len as usize;
            }
            keep
        });
        self.garbage += freed;
        if self.garbage > self.arena.len() / 2 {
            self.compact();
        } else if !std::mem::take(&mut self.grew) && self.arena.capacity() > self.arena.len() + self.arena.len() / 4 {
            // A scrape that added nothing: give back the growth slack (a target
            // whose series churn keeps growing and never gets here).
            self.arena.shrink_to_fit();
        }
    }

    /// Rewrites the arena without the removed keys, keeping first-seen order.
    fn compact(&mut self) {
        let mut slots: Vec<&mut Slot> = self.table.iter_mut().collect();
        slots.sort_unstable_by_key(|s| s.off);
        let mut arena = String::with_capacity(self.arena.len() - self.garbage);
        for s in slots {
            let text = &self.arena[s.off as usize..(s.off + s.len) as usize];
            s.off = arena.len() as u32;
            arena.push_str(text);
        }
        self.arena = arena;
        self.garbage = 0;
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.table.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_misses_and_compaction() {
        let mut c = SeriesCache::default();
        c.insert("a{x=\"1\"}", Some(SeriesRef(1)), 1);
        c.insert("b", None, 1);
        assert_eq!(c.get("a{x=\"1\"}", 2), Some(Some(SeriesRef(1))));
        assert_eq!(c.get("b", 1), Some(None));
        assert_eq!(c.get("c", 2), None);
        // "b" was last seen in 1, "a" in 2: at 11 with age 10, only "a" stays.
        c.retain_recent(11, 10);
        assert_eq!(c.len(), 1);
        assert_eq!(c.get("a{x=\"1\"}", 11), Some(Some(SeriesRef(1))));
        for k in 0..100 {
            c.insert(&format!("k{k}"), Some(SeriesRef(k)), 12);
        }
        c.retain_recent(30, 10);
        assert!(c.is_empty());
        c.insert("z", Some(SeriesRef(7)), 31);
        assert_eq!(c.get("z", 31), Some(Some(SeriesRef(7))));
    }
}
