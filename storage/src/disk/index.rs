//! The sled index ([`SledIndex`]): the stored series' labels in blocks of
//! 1,024 with a string table, and each segment's chunk references in blocks
//! of up to 128 series; reopened whole after a failed write.

use super::*;
use crate::model::labels::{Label, Labels};
use crate::model::varint::{get_uvarint, put_uvarint, unzigzag, zigzag};
use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

/// The sled handles. sled refuses every operation once a write of its own
/// has failed (disk full, read-only), so after an error the whole index is
/// closed and opened again; until that succeeds it is absent.
pub(super) struct SledIndex {
    pub(super) db: sled::Db,
    pub(super) series: sled::Tree,
    pub(super) segments: sled::Tree,
    /// `samples/<start>/<n>` → samples in that segment, u64 LE.
    pub(super) meta: sled::Tree,
}

impl SledIndex {
    pub(super) fn open(root: &Path, opts: SledOptions) -> io::Result<SledIndex> {
        // Small log segments: the index holds few, large values, and sled's
        // files grow by whole segments (512 KiB by default, most of a small
        // store's index on disk).
        let config = sled::Config::new()
            .path(root.join("index"))
            .cache_capacity(opts.cache_bytes)
            .segment_size(64 << 10)
            .flush_every_ms(Some(1000));
        // sled releases its file lock only when the flusher thread of a dropped
        // instance exits, a little after the drop (spacejam/sled#1289). The data
        // dir's own lock already keeps other processes out, so the only holder
        // can be that thread of this process: wait for it, briefly.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let db = loop {
            match config.open() {
                Ok(db) => break db,
                // sled reports it as a custom error wrapping the lock's WouldBlock.
                Err(sled::Error::Io(e))
                    if (e.kind() == io::ErrorKind::WouldBlock || e.to_string().contains("could not acquire lock"))
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(e) => return Err(sled_err(e)),
            }
        };
        let series = db.open_tree("series").map_err(sled_err)?;
        let segments = db.open_tree("segments").map_err(sled_err)?;
        let meta = db.open_tree("meta").map_err(sled_err)?;
        Ok(SledIndex { db, series, segments, meta })
    }
}

pub(super) const NEXT_SERIES_ID: &[u8] = b"next_series_id";

pub(super) fn samples_key(start: i64, n: u32) -> Vec<u8> {
    format!("samples/{start}/{n}").into_bytes()
}

pub(super) fn segment_prefix(start: i64, n: u32) -> [u8; 12] {
    let mut k = [0; 12];
    k[..8].copy_from_slice(&((start as u64) ^ (1 << 63)).to_be_bytes());
    k[8..].copy_from_slice(&n.to_be_bytes());
    k
}

pub(super) fn segment_key(start: i64, n: u32, first: u32) -> [u8; 16] {
    let mut k = [0; 16];
    k[..12].copy_from_slice(&segment_prefix(start, n));
    k[12..].copy_from_slice(&first.to_be_bytes());
    k
}

/// `crc32 u32 LE | base offset uvarint | n uvarint | n × (id delta uvarint,
/// k uvarint, k × (zigzag(mint − previous maxt or partition start) uvarint,
/// maxt − mint uvarint, len uvarint, crc32 u32 LE))`. Chunks of a block lie
/// back to back in the segment from the base offset.
pub(super) fn encode_segment_block(start: i64, entries: &[(u32, Vec<ChunkLoc>)]) -> Vec<u8> {
    let mut b = vec![0; 4];
    let base = entries.iter().flat_map(|(_, l)| l.first()).map(|c| c.off).next().unwrap_or(0);
    put_uvarint(&mut b, base);
    put_uvarint(&mut b, entries.len() as u64);
    let mut prev_id = 0u32;
    for (id, locs) in entries {
        put_uvarint(&mut b, u64::from(id - prev_id));
        prev_id = *id;
        put_uvarint(&mut b, locs.len() as u64);
        let mut prev = start;
        for c in locs {
            put_uvarint(&mut b, zigzag(c.mint.wrapping_sub(prev)));
            put_uvarint(&mut b, c.maxt.wrapping_sub(c.mint) as u64);
            put_uvarint(&mut b, u64::from(c.len));
            b.extend_from_slice(&c.crc.to_le_bytes());
            prev = c.maxt;
        }
    }
    let crc = crc32fast::hash(&b[4..]);
    b[..4].copy_from_slice(&crc.to_le_bytes());
    b
}

pub(super) fn decode_segment_block(start: i64, v: &[u8]) -> Option<BlockEntries> {
    let crc = u32::from_le_bytes(v.get(..4)?.try_into().ok()?);
    if crc32fast::hash(&v[4..]) != crc {
        return None;
    }
    let b = &v[4..];
    let mut pos = 0;
    let mut off = get_uvarint(b, &mut pos)?;
    let n = get_uvarint(b, &mut pos)? as usize;
    let mut out = BlockEntries {
        ids: Vec::with_capacity(n.min(SEGMENT_BLOCK_SERIES)),
        ends: Vec::with_capacity(n.min(SEGMENT_BLOCK_SERIES)),
        locs: Vec::with_capacity(n.min(SEGMENT_BLOCK_SERIES)),
    };
    let mut id = 0u32;
    for _ in 0..n {
        id = id.checked_add(u32::try_from(get_uvarint(b, &mut pos)?).ok()?)?;
        let k = get_uvarint(b, &mut pos)? as usize;
        let mut prev = start;
        for _ in 0..k {
            let mint = prev.wrapping_add(unzigzag(get_uvarint(b, &mut pos)?));
            let maxt = mint.wrapping_add(get_uvarint(b, &mut pos)? as i64);
            let len = u32::try_from(get_uvarint(b, &mut pos)?).ok()?;
            let crc = u32::from_le_bytes(b.get(pos..pos + 4)?.try_into().ok()?);
            pos += 4;
            out.locs.push(ChunkLoc { mint, maxt, off, len, crc });
            off += u64::from(len);
            prev = maxt;
        }
        out.ids.push(id);
        out.ends.push(u32::try_from(out.locs.len()).ok()?);
    }
    (pos == b.len()).then_some(out)
}

/// `crc32 u32 LE | deflate(s uvarint | s strings (len uvarint, UTF-8) | n uvarint |
/// n × (id − block × 1024 uvarint, k uvarint, k × (name index, value index) uvarint))`:
/// the strings of a block's series are stored once.
pub(super) fn encode_series_block(list: &[(u32, Labels)]) -> Vec<u8> {
    let mut strings: Vec<&str> = Vec::new();
    let mut index: HashMap<&str, u64> = HashMap::new();
    let mut body = Vec::new();
    put_uvarint(&mut body, list.len() as u64);
    for (id, labels) in list {
        put_uvarint(&mut body, u64::from(id % SERIES_PER_BLOCK));
        put_uvarint(&mut body, labels.len() as u64);
        for l in labels {
            for s in [l.name, l.value] {
                let i = *index.entry(s).or_insert_with(|| {
                    strings.push(s);
                    strings.len() as u64 - 1
                });
                put_uvarint(&mut body, i);
            }
        }
    }
    let mut raw = Vec::new();
    put_uvarint(&mut raw, strings.len() as u64);
    for s in &strings {
        put_uvarint(&mut raw, s.len() as u64);
        raw.extend_from_slice(s.as_bytes());
    }
    raw.extend_from_slice(&body);
    let mut b = vec![0; 4];
    let mut z = flate2::write::DeflateEncoder::new(b, flate2::Compression::default());
    z.write_all(&raw).expect("writing to a Vec");
    b = z.finish().expect("writing to a Vec");
    let crc = crc32fast::hash(&b[4..]);
    b[..4].copy_from_slice(&crc.to_le_bytes());
    b
}

pub(super) fn decode_series_block(block: u32, v: &[u8]) -> Option<Vec<(u32, Labels)>> {
    let crc = u32::from_le_bytes(v.get(..4)?.try_into().ok()?);
    if crc32fast::hash(&v[4..]) != crc {
        return None;
    }
    let mut raw = Vec::new();
    // A block is at most a few hundred KiB; a larger inflation is damage.
    io::Read::read_to_end(&mut io::Read::take(flate2::read::DeflateDecoder::new(&v[4..]), 64 << 20), &mut raw).ok()?;
    let b = &raw[..];
    let mut pos = 0;
    let s = get_uvarint(b, &mut pos)? as usize;
    let mut strings = Vec::with_capacity(s.min(4096));
    for _ in 0..s {
        let len = get_uvarint(b, &mut pos)? as usize;
        let bytes = b.get(pos..pos.checked_add(len)?)?;
        strings.push(std::str::from_utf8(bytes).ok()?);
        pos += len;
    }
    let n = get_uvarint(b, &mut pos)? as usize;
    let mut out = Vec::with_capacity(n.min(SERIES_PER_BLOCK as usize));
    for _ in 0..n {
        let low = u32::try_from(get_uvarint(b, &mut pos)?).ok().filter(|&l| l < SERIES_PER_BLOCK)?;
        let k = get_uvarint(b, &mut pos)? as usize;
        let mut labels: Vec<Label> = Vec::with_capacity(k.min(64));
        for _ in 0..k {
            let name = *strings.get(get_uvarint(b, &mut pos)? as usize)?;
            let value = *strings.get(get_uvarint(b, &mut pos)? as usize)?;
            if name.is_empty() || value.is_empty() || labels.last().is_some_and(|l| l.name.as_str() >= name) {
                return None;
            }
            labels.push(Label::new(name, value));
        }
        out.push((block.checked_mul(SERIES_PER_BLOCK)? + low, Labels::from_sorted(labels)));
    }
    (pos == b.len()).then_some(out)
}

impl Disk {
    /// Runs `f` on the index; a failure closes it for [`Disk::recover`].
    pub(super) fn with_index<T>(&self, f: impl FnOnce(&SledIndex) -> io::Result<T>) -> io::Result<T> {
        let res = {
            let g = read_lock(&self.index);
            let Some(idx) = g.as_ref() else { return Err(unavailable()) };
            f(idx)
        };
        if res.as_ref().is_err_and(|e| e.kind() != io::ErrorKind::InvalidData) {
            // sled keeps failing after a write error of its own: start over from what it has on disk.
            *write_lock(&self.index) = None;
        }
        res
    }

    /// Reopens the index after a failure. Returns whether it is open.
    pub fn recover(&self) -> bool {
        let mut g = write_lock(&self.index);
        if g.is_some() {
            return true;
        }
        match SledIndex::open(&self.root, self.opts) {
            Ok(idx) => {
                *g = Some(idx);
                tracing::info!("index reopened");
                true
            }
            Err(e) => {
                tracing::debug!(error = %e, "index cannot be reopened yet");
                false
            }
        }
    }

    /// Every stored series.
    pub fn load_series(&self) -> io::Result<Vec<StoredSeries>> {
        self.with_index(|idx| {
            let mut out = Vec::new();
            for kv in idx.series.iter() {
                let (k, v) = kv.map_err(sled_err)?;
                let block = u32::from_be_bytes(k.as_ref().try_into().map_err(|_| corrupt("series key"))?);
                match decode_series_block(block, &v) {
                    Some(list) => out.extend(list.into_iter().map(|(id, labels)| StoredSeries { id, labels })),
                    None => tracing::warn!(block, "unreadable series block in the index; its series are skipped"),
                }
            }
            Ok(out)
        })
    }

    /// Records new series (ids never reused).
    pub fn put_series(&self, series: &[(u32, Labels)]) -> io::Result<()> {
        if series.is_empty() {
            return Ok(());
        }
        let mut by_block: BTreeMap<u32, Vec<&(u32, Labels)>> = BTreeMap::new();
        for s in series {
            by_block.entry(s.0 / SERIES_PER_BLOCK).or_default().push(s);
        }
        self.with_index(|idx| {
            let mut batch = sled::Batch::default();
            for (block, new) in by_block {
                let key = block.to_be_bytes();
                let mut list = match idx.series.get(key).map_err(sled_err)? {
                    Some(v) => {
                        decode_series_block(block, &v).ok_or_else(|| corrupt(format!("series block {block}")))?
                    }
                    None => Vec::new(),
                };
                for (id, labels) in new {
                    if let Err(at) = list.binary_search_by_key(id, |(i, _)| *i) {
                        list.insert(at, (*id, labels.clone()));
                    }
                }
                batch.insert(&key, encode_series_block(&list));
            }
            idx.series.apply_batch(batch).map_err(sled_err)
        })
    }

    /// The lowest series id never given out, as recorded when series were
    /// last removed (the stored list alone may no longer show the highest).
    pub fn next_series_id(&self) -> io::Result<u32> {
        self.with_index(|idx| {
            let v = idx.meta.get(NEXT_SERIES_ID).map_err(sled_err)?;
            Ok(v.and_then(|v| Some(u32::from_le_bytes(v.as_ref().try_into().ok()?))).unwrap_or(0))
        })
    }

    /// Removes series from the stored series list (`ids` ascending), first
    /// recording `next_id` so that no id is given out again after a restart.
    pub fn delete_series(&self, ids: &[u32], next_id: u32) -> io::Result<()> {
        if self.next_series_id()? < next_id {
            self.with_index(|idx| {
                idx.meta.insert(NEXT_SERIES_ID, &next_id.to_le_bytes()).map(|_| ()).map_err(sled_err)
            })?;
        }
        let mut by_block: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for id in ids {
            by_block.entry(id / SERIES_PER_BLOCK).or_default().push(*id);
        }
        self.with_index(|idx| {
            let mut batch = sled::Batch::default();
            for (block, gone) in by_block {
                let key = block.to_be_bytes();
                let Some(v) = idx.series.get(key).map_err(sled_err)? else { continue };
                let mut list =
                    decode_series_block(block, &v).ok_or_else(|| corrupt(format!("series block {block}")))?;
                list.retain(|(id, _)| gone.binary_search(id).is_err());
                if list.is_empty() {
                    batch.remove(&key);
                } else {
                    batch.insert(&key, encode_series_block(&list));
                }
            }
            idx.series.apply_batch(batch).map_err(sled_err)
        })
    }

    /// Copies the index (every tree, entry by entry) into a new sled
    /// database under `dest`, then the chunk files as they are now: a
    /// superset of what the copied index references.
    pub fn copy_to(&self, dest: &Path) -> io::Result<()> {
        fs::create_dir_all(dest.join("chunks"))?;
        let target = SledIndex::open(dest, self.opts)?;
        self.with_index(|idx| {
            for name in idx.db.tree_names() {
                let from = idx.db.open_tree(&name).map_err(sled_err)?;
                let to = target.db.open_tree(&name).map_err(sled_err)?;
                let mut batch = sled::Batch::default();
                for (k, kv) in from.iter().enumerate() {
                    let (key, v) = kv.map_err(sled_err)?;
                    batch.insert(key, v);
                    if k % 10_000 == 9_999 {
                        to.apply_batch(std::mem::take(&mut batch)).map_err(sled_err)?;
                    }
                }
                to.apply_batch(batch).map_err(sled_err)?;
            }
            Ok(())
        })?;
        target.db.flush().map_err(sled_err)?;
        drop(target);
        let parts: Vec<Arc<Partition>> = read_lock(&self.parts).values().cloned().collect();
        for p in parts {
            let to = dest.join("chunks").join(p.start.to_string());
            fs::create_dir_all(&to)?;
            // The head file under its lock, so no record is copied half-written.
            let head = lock(&p.head);
            let segments = read_lock(&p.segments).clone();
            for name in std::iter::once("head".to_string()).chain(segments.iter().map(|s| format!("{}.seg", s.n))) {
                match fs::copy(p.dir.join(&name), to.join(&name)) {
                    Ok(_) => File::open(to.join(&name))?.sync_all()?,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
            drop(head);
            File::open(&to)?.sync_all()?;
        }
        File::open(dest.join("chunks"))?.sync_all()
    }
}
