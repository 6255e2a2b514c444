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

use crate::chunkenc::{self, MAX_CHUNK_SAMPLES};
use crate::model::labels::{Label, Labels};
use crate::model::value::Sample;
use crate::model::varint::{get_uvarint, put_uvarint, unzigzag, zigzag};
use crate::series::{Bytes, Chunk};
use memmap2::Mmap;
use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// Span of one time partition: two hours, like Prometheus's head block.
pub const PARTITION_MS: i64 = 2 * 3600 * 1000;
const HEAD_MAGIC: &[u8; 8] = b"VGHED\0\0\x01";
const SEGMENT_MAGIC: &[u8; 8] = b"VGSEG\0\0\x01";
/// series u32 | mint i64 | maxt i64 | len u32 | crc u32, little-endian.
const HEAD_RECORD: usize = 28;
/// Index values are made large on purpose: sled stores a value of more than
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
    pub series: u32,
    pub mint: i64,
    pub maxt: i64,
    pub bytes: Arc<[u8]>,
}

/// A series as the index holds it.
#[derive(Debug)]
pub struct StoredSeries {
    pub id: u32,
    pub labels: Labels,
}

/// Sled settings that bound its memory.
#[derive(Clone, Copy, Debug)]
pub struct SledOptions {
    pub cache_bytes: u64,
}

impl Default for SledOptions {
    fn default() -> Self {
        SledOptions { cache_bytes: 64 << 20 }
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

/// The sled handles. sled refuses every operation once a write of its own
/// has failed (disk full, read-only), so after an error the whole index is
/// closed and opened again; until that succeeds it is absent.
struct Index {
    db: sled::Db,
    series: sled::Tree,
    segments: sled::Tree,
    /// `samples/<start>/<n>` → samples in that segment, u64 LE.
    meta: sled::Tree,
}

impl Index {
    fn open(root: &Path, opts: SledOptions) -> io::Result<Index> {
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
        Ok(Index { db, series, segments, meta })
    }
}

pub(crate) struct Disk {
    root: PathBuf,
    opts: SledOptions,
    index: RwLock<Option<Index>>,
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
        let index = Index::open(root, opts)?;
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

    /// Runs `f` on the index; a failure closes it for [`Disk::recover`].
    fn with_index<T>(&self, f: impl FnOnce(&Index) -> io::Result<T>) -> io::Result<T> {
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
        match Index::open(&self.root, self.opts) {
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

    /// Appends head-sealed chunks to their partitions' head files. Durable
    /// after [`Disk::sync`].
    pub fn write_chunks(&self, chunks: &[ChunkToWrite]) -> io::Result<()> {
        let mut by_part: BTreeMap<i64, Vec<&ChunkToWrite>> = BTreeMap::new();
        for c in chunks {
            by_part.entry(partition_of(c.mint)).or_default().push(c);
        }
        for (start, cs) in by_part {
            let p = self.partition(start)?;
            let encoded: Vec<Option<Vec<u8>>> = cs.iter().map(|c| chunkenc::compact(&c.bytes)).collect();
            let mut buf = Vec::new();
            let mut locs = Vec::with_capacity(cs.len());
            let mut head = lock(&p.head);
            if head.is_none() {
                let path = p.dir.join("head");
                let file = OpenOptions::new().read(true).append(true).create(true).open(&path)?;
                let len = file.metadata()?.len();
                if len == 0 {
                    (&file).write_all(HEAD_MAGIC)?;
                }
                *head = Some(HeadFile { file, len: len.max(HEAD_MAGIC.len() as u64) });
            }
            let h = head.as_mut().expect("opened above");
            let mut samples = 0u64;
            for (c, e) in cs.iter().zip(&encoded) {
                let bytes = e.as_deref().unwrap_or(&c.bytes);
                let crc = crc32fast::hash(bytes);
                buf.extend_from_slice(&c.series.to_le_bytes());
                buf.extend_from_slice(&c.mint.to_le_bytes());
                buf.extend_from_slice(&c.maxt.to_le_bytes());
                buf.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
                buf.extend_from_slice(&crc.to_le_bytes());
                let off = h.len + buf.len() as u64;
                buf.extend_from_slice(bytes);
                locs.push((c.series, ChunkLoc { mint: c.mint, maxt: c.maxt, off, len: bytes.len() as u32, crc }));
                samples += u64::from(chunkenc::count(bytes));
            }
            if let Err(e) = (&h.file).write_all(&buf) {
                let _ = h.file.set_len(h.len);
                return Err(e);
            }
            h.len += buf.len() as u64;
            p.head_bytes.store(h.len, std::sync::atomic::Ordering::Relaxed);
            p.head_samples.fetch_add(samples, std::sync::atomic::Ordering::Relaxed);
            let mut refs = write_lock(&p.head_refs);
            for (series, loc) in locs {
                let v = refs.entry(series).or_default();
                let at = v.partition_point(|c| c.mint <= loc.mint);
                v.insert(at, loc);
            }
        }
        Ok(())
    }

    /// Writes whole series into new segments, one per partition touched
    /// (imports). Each series' samples must be sorted and unique by time.
    pub fn write_series(&self, series: &[(u32, Vec<Sample>)]) -> io::Result<u64> {
        let mut by_part: BTreeMap<i64, Vec<(u32, &[Sample])>> = BTreeMap::new();
        for (id, samples) in series {
            let mut rest = &samples[..];
            while let Some(first) = rest.first() {
                let end = partition_of(first.t).saturating_add(PARTITION_MS);
                let n = rest.partition_point(|s| s.t < end);
                by_part.entry(partition_of(first.t)).or_default().push((*id, &rest[..n]));
                rest = &rest[n..];
            }
        }
        let mut chunks = 0;
        for (start, mut list) in by_part {
            list.sort_by_key(|(id, _)| *id);
            let p = self.partition(start)?;
            chunks += self.write_segment(&p, &list)?;
        }
        Ok(chunks)
    }

    /// Writes one segment of series (sorted by id) into partition `p`, file
    /// first, then its index blocks; returns the chunks written.
    fn write_segment(&self, p: &Partition, series: &[(u32, &[Sample])]) -> io::Result<u64> {
        let n = read_lock(&p.segments).iter().map(|s| s.n).max().map_or(1, |n| n + 1);
        let path = p.dir.join(format!("{n}.seg"));
        let mut data = Vec::with_capacity(64 << 10);
        data.extend_from_slice(SEGMENT_MAGIC);
        let mut blocks: Vec<((u32, u32), Vec<u8>)> = Vec::new();
        let mut entries: Vec<(u32, Vec<ChunkLoc>)> = Vec::new();
        let mut samples_total = 0u64;
        let mut chunk_count = 0u64;
        let flush_block = |entries: &mut Vec<(u32, Vec<ChunkLoc>)>, blocks: &mut Vec<((u32, u32), Vec<u8>)>| {
            if let (Some((first, _)), Some((last, _))) = (entries.first(), entries.last()) {
                blocks.push(((*first, *last), encode_segment_block(p.start, entries)));
                entries.clear();
            }
        };
        for (id, samples) in series {
            let mut locs = Vec::new();
            for part in samples.chunks(MAX_CHUNK_SAMPLES) {
                let pairs: Vec<(i64, f64)> = part.iter().map(|s| (s.t, s.v)).collect();
                let bytes = chunkenc::encode_best(&pairs);
                locs.push(ChunkLoc {
                    mint: part[0].t,
                    maxt: part[part.len() - 1].t,
                    off: data.len() as u64,
                    len: bytes.len() as u32,
                    crc: crc32fast::hash(&bytes),
                });
                data.extend_from_slice(&bytes);
                samples_total += part.len() as u64;
                chunk_count += 1;
            }
            entries.push((*id, locs));
            if entries.len() >= SEGMENT_BLOCK_SERIES {
                flush_block(&mut entries, &mut blocks);
            }
        }
        flush_block(&mut entries, &mut blocks);
        if blocks.is_empty() {
            return Ok(0);
        }
        {
            let mut f = OpenOptions::new().write(true).create_new(true).open(&path)?;
            if let Err(e) = f.write_all(&data).and_then(|()| f.sync_all()) {
                let _ = fs::remove_file(&path);
                return Err(e);
            }
        }
        File::open(&p.dir)?.sync_all()?;
        let firsts: Vec<(u32, u32)> = blocks.iter().map(|(f, _)| *f).collect();
        let res = self.with_index(|idx| {
            let mut batch = sled::Batch::default();
            for ((first, _), value) in blocks {
                batch.insert(&segment_key(p.start, n, first)[..], value);
            }
            idx.segments.apply_batch(batch).map_err(sled_err)?;
            idx.meta.insert(samples_key(p.start, n), &samples_total.to_le_bytes()).map_err(sled_err)?;
            idx.db.flush().map_err(sled_err)?;
            Ok(())
        });
        if let Err(e) = res {
            let _ = fs::remove_file(&path);
            return Err(e);
        }
        let map = map_file(&File::open(&path)?)?;
        write_lock(&p.segments).push(Arc::new(Segment {
            uid: next_segment_uid(),
            n,
            len: data.len() as u64,
            map: Arc::new(map),
            blocks: firsts,
        }));
        Ok(chunk_count)
    }

    /// Compacts the head files of partitions starting before `before`
    /// (the head has moved past them) into segments. Returns how many.
    pub fn compact_before(&self, before: i64) -> io::Result<usize> {
        let parts: Vec<Arc<Partition>> = read_lock(&self.parts).range(..before).map(|(_, p)| p.clone()).collect();
        let mut done = 0;
        for p in parts {
            if p.start.saturating_add(PARTITION_MS) > before {
                continue;
            }
            let mut head = lock(&p.head);
            let Some(h) = head.as_ref() else { continue };
            let refs = read_lock(&p.head_refs).clone();
            let mut ids: Vec<u32> = refs.keys().copied().collect();
            ids.sort_unstable();
            let mut series: Vec<(u32, Vec<Sample>)> = Vec::with_capacity(ids.len());
            let mut buf = Vec::new();
            for id in ids {
                let mut samples = Vec::new();
                for loc in &refs[&id] {
                    buf.resize(loc.len as usize, 0);
                    h.file.read_exact_at(&mut buf, loc.off)?;
                    if crc32fast::hash(&buf) != loc.crc {
                        tracing::warn!(
                            partition = p.start,
                            series = id,
                            "chunk fails its checksum; left out of compaction"
                        );
                        continue;
                    }
                    samples.extend(chunkenc::iter(&buf).map(|(t, v)| Sample { t, v }));
                }
                sort_dedup(&mut samples);
                if !samples.is_empty() {
                    series.push((id, samples));
                }
            }
            let list: Vec<(u32, &[Sample])> = series.iter().map(|(id, s)| (*id, &s[..])).collect();
            self.write_segment(&p, &list)?;
            // The segment is durable: the head file goes.
            *head = None;
            *write_lock(&p.head_map) = None;
            write_lock(&p.head_refs).clear();
            p.head_samples.store(0, std::sync::atomic::Ordering::Relaxed);
            p.head_bytes.store(0, std::sync::atomic::Ordering::Relaxed);
            fs::remove_file(p.dir.join("head"))?;
            done += 1;
        }
        Ok(done)
    }

    /// A reader for many series in ascending id order: it keeps the last
    /// decoded index block of each segment.
    pub fn reader(&self) -> Reader<'_> {
        Reader { disk: self, cache: HashMap::new() }
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

    /// Copies the index (every tree, entry by entry) into a new sled
    /// database under `dest`, then the chunk files as they are now: a
    /// superset of what the copied index references.
    pub fn copy_to(&self, dest: &Path) -> io::Result<()> {
        fs::create_dir_all(dest.join("chunks"))?;
        let target = Index::open(dest, self.opts)?;
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

/// Index blocks one reader keeps decoded (some 2,048 series' chunk references each).
const READER_BLOCKS: usize = 512;

/// Reads series' persisted samples, caching index blocks across series:
/// series come in label order, which jumps between blocks, so every block
/// met is kept (up to [`READER_BLOCKS`]), not only the last.
pub(crate) struct Reader<'a> {
    disk: &'a Disk,
    /// (segment uid, first id of the block) → its entries.
    cache: HashMap<(u64, u32), Arc<BlockEntries>>,
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

fn push_chunks(map: &Arc<Mmap>, locs: &[ChunkLoc], mint: i64, maxt: i64, out: &mut Vec<Chunk>) {
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

const NEXT_SERIES_ID: &[u8] = b"next_series_id";

fn samples_key(start: i64, n: u32) -> Vec<u8> {
    format!("samples/{start}/{n}").into_bytes()
}

fn segment_prefix(start: i64, n: u32) -> [u8; 12] {
    let mut k = [0; 12];
    k[..8].copy_from_slice(&((start as u64) ^ (1 << 63)).to_be_bytes());
    k[8..].copy_from_slice(&n.to_be_bytes());
    k
}

fn segment_key(start: i64, n: u32, first: u32) -> [u8; 16] {
    let mut k = [0; 16];
    k[..12].copy_from_slice(&segment_prefix(start, n));
    k[12..].copy_from_slice(&first.to_be_bytes());
    k
}

/// `crc32 u32 LE | base offset uvarint | n uvarint | n × (id delta uvarint,
/// k uvarint, k × (zigzag(mint − previous maxt or partition start) uvarint,
/// maxt − mint uvarint, len uvarint, crc32 u32 LE))`. Chunks of a block lie
/// back to back in the segment from the base offset.
fn encode_segment_block(start: i64, entries: &[(u32, Vec<ChunkLoc>)]) -> Vec<u8> {
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

fn decode_segment_block(start: i64, v: &[u8]) -> Option<BlockEntries> {
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
fn encode_series_block(list: &[(u32, Labels)]) -> Vec<u8> {
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

fn decode_series_block(block: u32, v: &[u8]) -> Option<Vec<(u32, Labels)>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Imports land in segments of their own: a series is read from the
    /// segment and block that hold it, whichever blocks the others' ids
    /// span, before and after a restart (which works out the blocks' ranges
    /// again), and again from the decoded blocks queries share.
    #[test]
    fn series_are_found_in_their_segment_and_block() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = PARTITION_MS * 10;
        let samples = |id: u32| (0..3).map(|k| Sample { t: t0 + k * 1000, v: f64::from(id) + k as f64 }).collect();
        // Three segments: 0, 2, 4, … 4998 (two blocks); 7000..7010; 1, 3, 5 … 99 (between the first's ids).
        let imports: [Vec<u32>; 3] =
            [(0..2500).map(|i| i * 2).collect(), (7000..7010).collect(), (0..50).map(|i| i * 2 + 1).collect()];
        let check = |disk: &Disk| {
            for _ in 0..2 {
                let mut reader = disk.reader();
                for id in [0, 1, 2, 99, 4096, 4098, 4998, 7000, 7009] {
                    let mut out = Vec::new();
                    reader.chunks(id, t0, t0 + 5000, &mut out).unwrap();
                    assert_eq!(out.len(), 1, "series {id}");
                    let mut got = Vec::new();
                    assert!(chunkenc::decode_into(out[0].data().unwrap(), i64::MIN, i64::MAX, &mut got));
                    assert_eq!(got[2].v, f64::from(id) + 2.0, "series {id}");
                }
                for id in [101, 4097, 5000, 6999, 7010, u32::MAX] {
                    let mut out = Vec::new();
                    reader.chunks(id, t0, t0 + 5000, &mut out).unwrap();
                    assert!(out.is_empty(), "series {id}");
                }
            }
        };
        {
            let (disk, _) = Disk::open(dir.path(), SledOptions::default()).unwrap();
            for ids in &imports {
                let series: Vec<(u32, Vec<Sample>)> = ids.iter().map(|&id| (id, samples(id))).collect();
                disk.write_series(&series).unwrap();
            }
            check(&disk);
        }
        let (disk, _) = Disk::open(dir.path(), SledOptions::default()).unwrap();
        check(&disk);
    }

    #[test]
    fn blocks_round_trip_and_reject_damage() {
        let list = vec![
            (2048, Labels::from_pairs([("__name__", "up"), ("job", "a")])),
            (2049, Labels::from_pairs([("__name__", "up"), ("job", "b")])),
            (3000, Labels::from_pairs([("__name__", "x")])),
        ];
        let v = encode_series_block(&list);
        assert_eq!(decode_series_block(2, &v).unwrap(), list);
        let mut bad = v.clone();
        bad[6] ^= 1;
        assert!(decode_series_block(2, &bad).is_none());

        let start = PARTITION_MS * 3;
        let entries = vec![
            (4u32, vec![ChunkLoc { mint: start + 5, maxt: start + 99, off: 8, len: 10, crc: 7 }]),
            (
                9,
                vec![
                    ChunkLoc { mint: start, maxt: start + 10, off: 18, len: 3, crc: 1 },
                    ChunkLoc { mint: start + 11, maxt: start + 20, off: 21, len: 4, crc: 2 },
                ],
            ),
        ];
        let v = encode_segment_block(start, &entries);
        let got = decode_segment_block(start, &v).unwrap();
        assert_eq!(got.ids, [4, 9]);
        let nine = got.find(9).unwrap();
        assert_eq!((nine.len(), nine[1].off, nine[1].maxt), (2, 21, start + 20));
        assert_eq!(got.find(4).unwrap()[0].mint, start + 5);
        assert!(got.find(5).is_none());
        assert_eq!(got.iter().map(|(id, l)| (id, l.len())).collect::<Vec<_>>(), [(4, 1), (9, 2)]);
        assert!(decode_segment_block(start, &v[..v.len() - 1]).is_none());
    }
}
