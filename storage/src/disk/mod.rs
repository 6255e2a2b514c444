//! Persisted data: chunk files per time partition, and the sled index.
//!
//! Time is cut into partitions of [`PARTITION_MS`]; the head cuts a chunk at
//! each partition boundary, so every chunk lies in one partition, and each
//! partition has its own directory `chunks/<start>/`:
//!
//! - `head`: chunks as the head seals them, each behind a small header
//!   (series, time range, length, CRC), appended. Their references live in
//!   memory and are rebuilt by scanning the file on start. Nothing goes to
//!   sled per chunk.
//! - `<n>.seg`: segments, written whole: one chunk per series (split past
//!   32,767 samples), sorted by series id. When the head has moved past a
//!   partition, its `head` file is compacted into a segment and deleted;
//!   imports write segments directly. A segment's chunk references are sled
//!   values of up to 128 series each (tree `segments`), so a partition costs
//!   the index a few dozen entries however many chunks it has.
//!
//! Series labels are sled values of 1,024 series each (tree `series`), with
//! a string table per block, deflated. Retention deletes a partition's directory and its
//! index entries, never visiting samples. storage/docs/format.md has the
//! byte layouts.
//!
//! `Disk` is defined here with opening, partitions and figures; the rest
//! by activity: `index` (the sled trees, `SledIndex`, and their block
//! encodings), `write` (head files, segments, compaction), `reader` (series
//! read back in id order through cached index blocks).

mod index;
mod reader;
mod write;

use index::{decode_segment_block, segment_prefix, SledIndex};
pub(crate) use reader::Reader;

use crate::chunkenc::{self};
use crate::model::labels::Labels;
use memmap2::Mmap;
use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// Span of one time partition: two hours, like Prometheus's head block.
pub const PARTITION_MS: i64 = 2 * 3600 * 1000;
const HEAD_MAGIC: &[u8; 8] = b"VGHED\0\0\x01";
const SEGMENT_MAGIC: &[u8; 8] = b"VGSEG\0\0\x01";
/// series u32 | mint i64 | maxt i64 | len u32 | crc u32, little-endian.
const HEAD_RECORD: usize = 28;
/// SledIndex values are made large on purpose: sled stores a value of more than
/// a quarter of its log segment (16 KiB here) as a file of its own, at its
/// own size, while small values cost several times their size in its log.
const SERIES_PER_BLOCK: u32 = 1024;
const SEGMENT_BLOCK_SERIES: usize = 2048;

/// The start of the partition holding `t`.
pub fn partition_of(t: i64) -> i64 {
    t.div_euclid(PARTITION_MS).saturating_mul(PARTITION_MS)
}

/// A sealed chunk on its way to disk.
#[derive(Clone, Debug)]
pub struct ChunkToWrite {
    /// The series' id in the index.
    pub series: u32,
    /// The first sample's time (ms).
    pub mint: i64,
    /// The last sample's time (ms).
    pub maxt: i64,
    /// The encoded chunk.
    pub bytes: Arc<[u8]>,
}

/// A series as the index holds it.
#[derive(Debug)]
pub struct StoredSeries {
    /// Its id.
    pub id: u32,
    /// Its labels.
    pub labels: Labels,
}

/// Sled settings that bound its memory.
#[derive(Clone, Copy, Debug)]
pub struct SledOptions {
    /// sled's page cache capacity.
    pub cache_bytes: u64,
}

impl Default for SledOptions {
    fn default() -> Self {
        SledOptions { cache_bytes: 64 << 20 }
    }
}

pub(crate) struct Disk {
    root: PathBuf,
    opts: SledOptions,
    index: RwLock<Option<SledIndex>>,
    parts: RwLock<BTreeMap<i64, Arc<Partition>>>,
    /// Decoded segment index blocks shared by queries, by (segment uid, first
    /// series id); at most [`SHARED_BLOCKS`], emptied when full.
    blocks: Mutex<HashMap<(u64, u32), Arc<BlockEntries>>>,
}

/// Decoded index blocks kept between queries (some 80 KB each for 2,048 series).
const SHARED_BLOCKS: usize = 512;

fn next_segment_uid() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

fn sled_err(e: sled::Error) -> io::Error {
    match e {
        sled::Error::Io(e) => e,
        other => io::Error::other(other.to_string()),
    }
}

fn unavailable() -> io::Error {
    io::Error::other("the index is being reopened after a write error")
}

fn corrupt(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

fn read_lock<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write_lock<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The newest head-written sample of each series: where WAL replay resumes.
pub(crate) type HeadFloors = HashMap<u32, (i64, u64)>;

/// What opening found on disk, per series.
#[derive(Default)]
pub(crate) struct Found {
    /// Newest head-written sample (time, value bits): where WAL replay resumes.
    pub floors: HeadFloors,
    /// Time range of each series' persisted chunks.
    pub ranges: HashMap<u32, (i64, i64)>,
}

impl Found {
    fn saw(&mut self, series: u32, mint: i64, maxt: i64) {
        let r = self.ranges.entry(series).or_insert((i64::MAX, i64::MIN));
        *r = (r.0.min(mint), r.1.max(maxt));
    }
}

impl Disk {
    /// Opens the index and every partition; returns what it found of each
    /// series (reading every index block once: start-up cost grows with the
    /// partitions kept).
    pub fn open(root: &Path, opts: SledOptions) -> io::Result<(Disk, Found)> {
        let chunks = root.join("chunks");
        fs::create_dir_all(&chunks)?;
        let index = SledIndex::open(root, opts)?;
        let disk = Disk {
            root: root.to_path_buf(),
            opts,
            index: RwLock::new(Some(index)),
            parts: RwLock::default(),
            blocks: Mutex::default(),
        };
        let mut found = Found::default();
        for e in fs::read_dir(&chunks)?.flatten() {
            let Some(start) = e.file_name().to_str().and_then(|n| n.parse::<i64>().ok()) else { continue };
            let p = disk.load_partition(start, &mut found)?;
            write_lock(&disk.parts).insert(start, p);
        }
        Ok((disk, found))
    }

    fn load_partition(&self, start: i64, found: &mut Found) -> io::Result<Arc<Partition>> {
        let dir = self.root.join("chunks").join(start.to_string());
        let p = Partition::new(start, dir.clone());
        // Segments: a file without index entries is the leftover of a write that did not finish.
        let mut segs = Vec::new();
        for e in fs::read_dir(&dir)?.flatten() {
            let name = e.file_name();
            let Some(n) = name.to_str().and_then(|n| n.strip_suffix(".seg")).and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            let blocks = self.with_index(|idx| {
                let prefix = segment_prefix(start, n);
                let mut firsts = Vec::new();
                for kv in idx.segments.scan_prefix(prefix) {
                    let (k, v) = kv.map_err(sled_err)?;
                    let first = u32::from_be_bytes(k[12..16].try_into().map_err(|_| corrupt("segment key"))?);
                    let last = match decode_segment_block(start, &v) {
                        Some(entries) => {
                            for (id, locs) in entries.iter() {
                                if let (Some(a), Some(b)) = (locs.first(), locs.last()) {
                                    found.saw(id, a.mint, b.maxt);
                                }
                            }
                            entries.ids.last().copied().unwrap_or(first)
                        }
                        None => {
                            tracing::warn!(partition = start, segment = n, block = first, "unreadable index block");
                            u32::MAX
                        }
                    };
                    firsts.push((first, last));
                }
                Ok(firsts)
            })?;
            if blocks.is_empty() {
                tracing::warn!(segment = %e.path().display(), "segment without index entries (an interrupted write); removed");
                fs::remove_file(e.path())?;
                continue;
            }
            let file = File::open(e.path())?;
            let len = file.metadata()?.len();
            segs.push(Arc::new(Segment { uid: next_segment_uid(), n, len, map: Arc::new(map_file(&file)?), blocks }));
        }
        segs.sort_by_key(|s| s.n);
        *write_lock(&p.segments) = segs;
        // The head file: rebuild the references, cutting a torn tail.
        let head_path = dir.join("head");
        if head_path.exists() {
            let data = fs::read(&head_path)?;
            let mut refs: HashMap<u32, Vec<ChunkLoc>> = HashMap::new();
            let mut pos = if data.starts_with(HEAD_MAGIC) { HEAD_MAGIC.len() } else { 0 };
            let mut samples = 0u64;
            while pos > 0 && pos + HEAD_RECORD <= data.len() {
                let h = &data[pos..pos + HEAD_RECORD];
                let series = u32::from_le_bytes(h[0..4].try_into().unwrap());
                let mint = i64::from_le_bytes(h[4..12].try_into().unwrap());
                let maxt = i64::from_le_bytes(h[12..20].try_into().unwrap());
                let len = u32::from_le_bytes(h[20..24].try_into().unwrap());
                let crc = u32::from_le_bytes(h[24..28].try_into().unwrap());
                let body = pos + HEAD_RECORD;
                let Some(bytes) = data.get(body..body + len as usize) else { break };
                if crc32fast::hash(bytes) != crc || maxt < mint {
                    break;
                }
                samples += u64::from(chunkenc::count(bytes));
                found.saw(series, mint, maxt);
                let f = found.floors.entry(series).or_insert((i64::MIN, 0));
                if maxt > f.0 {
                    let last = chunkenc::iter(bytes).last().map_or(0, |(_, v)| v.to_bits());
                    *f = (maxt, last);
                }
                refs.entry(series).or_default().push(ChunkLoc { mint, maxt, off: body as u64, len, crc });
                pos = body + len as usize;
            }
            let good = pos.max(HEAD_MAGIC.len());
            let file = OpenOptions::new().read(true).append(true).open(&head_path)?;
            if (good as u64) < data.len() as u64 || pos == 0 {
                tracing::warn!(file = %head_path.display(), offset = good, "head chunk file ends in a torn record; cut there");
                file.set_len(if pos == 0 { 0 } else { good as u64 })?;
                if pos == 0 {
                    (&file).write_all(HEAD_MAGIC)?;
                }
            }
            for v in refs.values_mut() {
                v.sort_by_key(|c| c.mint);
            }
            p.head_samples.store(samples, std::sync::atomic::Ordering::Relaxed);
            p.head_bytes.store(good as u64, std::sync::atomic::Ordering::Relaxed);
            *write_lock(&p.head_refs) = refs;
            *lock(&p.head) = Some(HeadFile { file, len: good as u64 });
        }
        Ok(Arc::new(p))
    }

    fn partition(&self, start: i64) -> io::Result<Arc<Partition>> {
        if let Some(p) = read_lock(&self.parts).get(&start) {
            return Ok(p.clone());
        }
        let mut parts = write_lock(&self.parts);
        if let Some(p) = parts.get(&start) {
            return Ok(p.clone());
        }
        let dir = self.root.join("chunks").join(start.to_string());
        fs::create_dir_all(&dir)?;
        let p = Arc::new(Partition::new(start, dir));
        parts.insert(start, p.clone());
        Ok(p)
    }

    /// Deletes every partition that ends at or before `t`. Returns how many.
    pub fn drop_partitions_before(&self, t: i64) -> io::Result<usize> {
        let doomed: Vec<Arc<Partition>> = {
            let mut parts = write_lock(&self.parts);
            let keep = parts.split_off(&(partition_of(t.saturating_sub(PARTITION_MS)) + PARTITION_MS));
            std::mem::replace(&mut *parts, keep).into_values().collect()
        };
        for p in &doomed {
            self.with_index(|idx| {
                let mut batch = sled::Batch::default();
                for k in idx.segments.scan_prefix(p.start_key()).keys() {
                    batch.remove(k.map_err(sled_err)?);
                }
                idx.segments.apply_batch(batch).map_err(sled_err)?;
                let mut batch = sled::Batch::default();
                for k in idx.meta.scan_prefix(format!("samples/{}/", p.start)).keys() {
                    batch.remove(k.map_err(sled_err)?);
                }
                idx.meta.apply_batch(batch).map_err(sled_err)
            })?;
            match fs::remove_dir_all(&p.dir) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(doomed.len())
    }

    /// Makes head files and the index durable.
    pub fn sync(&self) -> io::Result<()> {
        let parts: Vec<Arc<Partition>> = read_lock(&self.parts).values().cloned().collect();
        for p in parts {
            if let Some(h) = lock(&p.head).as_ref() {
                h.file.sync_data()?;
            }
        }
        self.with_index(|idx| idx.db.flush().map(|_| ()).map_err(sled_err))
    }

    /// Bytes of chunk files and of the index on disk.
    pub fn size_on_disk(&self) -> (u64, u64) {
        let chunks = read_lock(&self.parts)
            .values()
            .map(|p| {
                p.head_bytes.load(std::sync::atomic::Ordering::Relaxed)
                    + read_lock(&p.segments).iter().map(|s| s.len).sum::<u64>()
            })
            .sum();
        let index = read_lock(&self.index).as_ref().map_or(0, |i| i.db.size_on_disk().unwrap_or(0));
        (chunks, index)
    }

    /// Samples in chunk files.
    pub fn samples_on_disk(&self) -> u64 {
        let head: u64 =
            read_lock(&self.parts).values().map(|p| p.head_samples.load(std::sync::atomic::Ordering::Relaxed)).sum();
        let g = read_lock(&self.index);
        let Some(idx) = g.as_ref() else { return head };
        head + idx
            .meta
            .scan_prefix(b"samples/")
            .values()
            .flatten()
            .filter_map(|v| <[u8; 8]>::try_from(&*v).ok())
            .map(u64::from_le_bytes)
            .sum::<u64>()
    }

    /// The index cache's capacity setting, in bytes.
    pub fn cache_capacity(&self) -> u64 {
        self.opts.cache_bytes
    }

    /// Start of the oldest partition on disk.
    pub fn oldest_partition(&self) -> Option<i64> {
        read_lock(&self.parts).keys().next().copied()
    }

    /// Number of partitions on disk.
    pub fn partitions(&self) -> usize {
        read_lock(&self.parts).len()
    }
}

/// Where a chunk is in a file.
#[derive(Clone, Copy, Debug)]
struct ChunkLoc {
    mint: i64,
    maxt: i64,
    off: u64,
    len: u32,
    crc: u32,
}

/// A partition's `head` file and the references into it.
struct HeadFile {
    file: File,
    len: u64,
}

struct Segment {
    /// Unique among the segments this process opened (a key of decoded index blocks).
    uid: u64,
    n: u32,
    len: u64,
    /// The whole file, mapped: segments never change once written.
    map: Arc<Mmap>,
    /// First and last series id of each index block, ascending: a series
    /// outside every block's range is skipped without reading one.
    blocks: Vec<(u32, u32)>,
}

/// Maps a chunk file for reading.
fn map_file(file: &File) -> io::Result<Mmap> {
    // SAFETY: chunk files belong to this process (the data dir is locked).
    // Segments are never modified after they are written; head files only
    // grow, except that a failed append is cut back to where it began, past
    // every referenced chunk, and every read stays within referenced chunks.
    // Deleting a mapped file (compaction, retention) keeps the mapping valid.
    unsafe { Mmap::map(file) }
}

struct Partition {
    start: i64,
    dir: PathBuf,
    /// Serialises appends to the head file and its compaction.
    head: Mutex<Option<HeadFile>>,
    head_refs: RwLock<HashMap<u32, Vec<ChunkLoc>>>,
    head_samples: std::sync::atomic::AtomicU64,
    head_bytes: std::sync::atomic::AtomicU64,
    /// The head file mapped at some length; mapped again when a read needs more.
    head_map: RwLock<Option<Arc<Mmap>>>,
    segments: RwLock<Vec<Arc<Segment>>>,
}

impl Partition {
    fn new(start: i64, dir: PathBuf) -> Partition {
        Partition {
            start,
            dir,
            head: Mutex::new(None),
            head_refs: RwLock::default(),
            head_samples: Default::default(),
            head_bytes: Default::default(),
            head_map: RwLock::default(),
            segments: RwLock::default(),
        }
    }

    /// The head file mapped to at least `need` bytes (`None` when there is no head file).
    fn head_map_covering(&self, need: u64) -> io::Result<Option<Arc<Mmap>>> {
        if let Some(m) = read_lock(&self.head_map).as_ref().filter(|m| m.len() as u64 >= need) {
            return Ok(Some(m.clone()));
        }
        let head = lock(&self.head);
        let Some(h) = head.as_ref() else { return Ok(None) };
        let map = Arc::new(map_file(&h.file)?);
        *write_lock(&self.head_map) = Some(map.clone());
        Ok(Some(map))
    }

    fn start_key(&self) -> [u8; 8] {
        ((self.start as u64) ^ (1 << 63)).to_be_bytes()
    }
}

/// A decoded segment index block: series ids with their chunks.
/// A segment index block decoded: each series' chunk references, flat.
#[derive(Default)]
struct BlockEntries {
    /// Series ids, ascending.
    ids: Vec<u32>,
    /// Where each series' references end in `locs`.
    ends: Vec<u32>,
    locs: Vec<ChunkLoc>,
}

impl BlockEntries {
    /// The chunk references of series `id`, if the block has it.
    fn find(&self, id: u32) -> Option<&[ChunkLoc]> {
        let i = self.ids.binary_search(&id).ok()?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some(&self.locs[start..self.ends[i] as usize])
    }

    fn iter(&self) -> impl Iterator<Item = (u32, &[ChunkLoc])> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        self.ids.iter().zip(starts.zip(&self.ends)).map(|(id, (a, b))| (*id, &self.locs[a as usize..*b as usize]))
    }
}

#[cfg(test)]
mod tests;
