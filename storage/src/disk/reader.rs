//! Reading series back: a [`Reader`] walks series in ascending id order,
//! keeping decoded index blocks for the series after, and a shared cache of
//! blocks between queries.

use super::index::{decode_segment_block, segment_key};
use super::*;
use crate::model::value::Sample;
use crate::series::{Bytes, Chunk};
use memmap2::Mmap;
use std::collections::HashMap;
use std::io::{self};
use std::sync::Arc;

/// Index blocks one reader keeps decoded (some 2,048 series' chunk references each).
pub(super) const READER_BLOCKS: usize = 512;

/// Reads series' persisted samples, caching index blocks across series:
/// series come in label order, which jumps between blocks, so every block
/// met is kept (up to [`READER_BLOCKS`]), not only the last.
pub(crate) struct Reader<'a> {
    disk: &'a Disk,
    /// (segment uid, first id of the block) → its entries.
    cache: HashMap<(u64, u32), Arc<BlockEntries>>,
}

impl Disk {
    /// A reader for many series in ascending id order: it keeps the last
    /// decoded index block of each segment.
    pub fn reader(&self) -> Reader<'_> {
        Reader { disk: self, cache: HashMap::new() }
    }
}

impl Reader<'_> {
    /// Appends the persisted chunks of `series` overlapping `[mint, maxt]`
    /// to `out` (oldest partition first; within one, segments then head chunks).
    pub(crate) fn chunks(&mut self, series: u32, mint: i64, maxt: i64, out: &mut Vec<Chunk>) -> io::Result<()> {
        let parts: Vec<Arc<Partition>> = read_lock(&self.disk.parts)
            .range(partition_of(mint)..=partition_of(maxt))
            .map(|(_, p)| p.clone())
            .collect();
        for p in parts {
            // Read under the lock (a compaction only appends to the list): no copy per series.
            let segments = read_lock(&p.segments);
            for seg in segments.iter() {
                let Some(bi) = seg.blocks.partition_point(|&(f, _)| f <= series).checked_sub(1) else { continue };
                let (first, last) = seg.blocks[bi];
                if series > last {
                    continue;
                }
                let cached = self.cache.get(&(seg.uid, first)).cloned().or_else(|| {
                    let e = lock(&self.disk.blocks).get(&(seg.uid, first)).cloned()?;
                    self.cache.insert((seg.uid, first), e.clone());
                    Some(e)
                });
                let entries = match cached {
                    Some(e) => e,
                    None => {
                        let key = segment_key(p.start, seg.n, first);
                        let value = self.disk.with_index(|idx| idx.segments.get(key).map_err(sled_err))?;
                        let Some(value) = value else { continue };
                        let e =
                            Arc::new(decode_segment_block(p.start, &value).ok_or_else(|| {
                                corrupt(format!("index block {first} of segment {}/{}", p.start, seg.n))
                            })?);
                        if self.cache.len() >= READER_BLOCKS {
                            self.cache.clear();
                        }
                        self.cache.insert((seg.uid, first), e.clone());
                        let mut shared = lock(&self.disk.blocks);
                        if shared.len() >= SHARED_BLOCKS {
                            shared.clear();
                        }
                        shared.insert((seg.uid, first), e.clone());
                        e
                    }
                };
                if let Some(locs) = entries.find(series) {
                    push_chunks(&seg.map, locs, mint, maxt, out);
                }
            }
            // Released before the head file's lock: a compaction holds that one while it adds a segment.
            drop(segments);
            let refs = read_lock(&p.head_refs);
            if let Some(locs) = refs.get(&series).filter(|l| l.iter().any(|c| c.maxt >= mint && c.mint <= maxt)) {
                let need = locs.iter().map(|c| c.off + u64::from(c.len)).max().unwrap_or(0);
                let locs = locs.clone();
                drop(refs);
                if let Some(map) = p.head_map_covering(need)? {
                    push_chunks(&map, &locs, mint, maxt, out);
                }
            }
        }
        Ok(())
    }
}

pub(super) fn push_chunks(map: &Arc<Mmap>, locs: &[ChunkLoc], mint: i64, maxt: i64, out: &mut Vec<Chunk>) {
    out.extend(locs.iter().filter(|c| c.maxt >= mint && c.mint <= maxt).map(|c| Chunk {
        mint: c.mint,
        maxt: c.maxt,
        bytes: Bytes::Mapped { map: map.clone(), off: c.off as usize, len: c.len as usize, crc: c.crc },
    }));
}

/// Sorts by time and keeps the first of equal timestamps.
pub(crate) fn sort_dedup(samples: &mut Vec<Sample>) {
    if !samples.windows(2).all(|w| w[0].t < w[1].t) {
        samples.sort_by_key(|s| s.t);
        samples.dedup_by_key(|s| s.t);
    }
}
